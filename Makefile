# Entry points; every target installs what it needs first (idempotent, seconds when present).
VENV ?= .venv
PY := $(VENV)/bin/python
VPB := $(VENV)/bin/visplotbench

.PHONY: install run test check bench-render

install:
	bash scripts/install.sh

# The main job on built-in defaults: check the machine, then render the bundled example of every language.
run: install
	-$(VPB) doctor
	$(VPB) examples --out out/examples

test: install
	$(PY) -m pytest -q

check: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench-render: install
	$(PY) benchmarks/bench_render.py
