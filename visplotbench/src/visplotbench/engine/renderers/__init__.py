"""One renderer per language; see ``visplotbench.engine.registry`` for how to add one."""
