"""Tasks for the Self-debug tab: the bundled VisPlotBench tasks, or one the visitor writes.

A visitor's instruction becomes a ``visplotbench.tasks.Task`` like any benchmark row, so its prompt
is assembled by the benchmark's own ``build_messages`` with the benchmark's data descriptor.
"""

from __future__ import annotations

import functools

from visplotbench.prompts import PromptSet
from visplotbench.tasks import Task, load_bundled

CUSTOM = ""  # the task choice meaning "my own instruction"


@functools.cache
def bundled(language: str) -> tuple[Task, ...]:
    """The bundled tasks of ``language`` (read once)."""
    return tuple(load_bundled(language))


def task_choices(language: str) -> list[tuple[str, str]]:
    """(label, task id) pairs for the task dropdown, the visitor's own instruction first."""
    choices = [("(my own instruction)", CUSTOM)]
    for task in bundled(language):
        label = f"{task.id}: {task.task__plot_description.strip().splitlines()[0][:70]}"
        choices.append((label, task.id))
    return choices


def find_task(language: str, task_id: str) -> Task:
    """The bundled task ``task_id`` of ``language`` (ValueError naming the choices when unknown)."""
    for task in bundled(language):
        if task.id == task_id:
            return task
    known = ", ".join(t.id for t in bundled(language))
    raise ValueError(f"No bundled {language} task {task_id!r}; choose one of: {known}.")


def custom_task(language: str, instruction: str, data: str) -> Task:
    """A task made of the visitor's instruction and optional data (its prompt is the benchmark's)."""
    return Task(
        id=f"{language}_custom",
        task__plot_description=instruction.strip(),
        task__plot_style="",
        data=data,
        used_lib=[],
        vis_cate="",
        subtype="",
        language=language,
    )


def user_prompt(task: Task, descriptor: str = "head") -> str:
    """The first user turn the model will get for ``task`` (the data preview lives in it).

    Raises:
        ValueError: the data cannot be read as CSV (the message says so).
    """
    from visplotbench.prompts import build_user_message

    try:
        return build_user_message(task, _prompts(), descriptor)
    except Exception as exc:  # pandas raises several kinds for unreadable CSV
        raise ValueError(f"The data could not be read as CSV: {exc}".strip()) from None


@functools.cache
def _prompts() -> PromptSet:
    from visplotbench.prompts import load_prompts

    return load_prompts()
