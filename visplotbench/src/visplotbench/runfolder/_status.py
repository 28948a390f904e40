"""What became of one attempt: a render status, or one of the two ways an attempt ends before rendering."""

from __future__ import annotations

import enum

from visplotbench.engine import RenderStatus


class AttemptStatus(str, enum.Enum):
    """The status of one attempt (``AttemptRecord.status``).

    The first six are the engine's ``RenderStatus`` values (the attempt's code was rendered);
    ``GENERATION_FAILED`` (the model request failed after retries), ``NO_CODE`` (the reply held no
    program) and ``BAD_TASK`` (the task's data files have names no job may have: no self-debug follows,
    it counts as not passed and the error names the file) end an attempt before anything is rendered.
    Only ``OK`` passes; ``ENV_FAILURE`` is the environment's fault and is never counted against a model. Values are the strings written to
    ``results.jsonl``, so a member compares equal to its string.
    """

    OK = "ok"
    ERROR = "error"
    TIMEOUT = "timeout"
    NO_OUTPUT = "no_output"
    BLANK = "blank"
    ENV_FAILURE = "env_failure"
    GENERATION_FAILED = "generation_failed"
    NO_CODE = "no_code"
    BAD_TASK = "bad_task"

    def __str__(self) -> str:
        return self.value

    @classmethod
    def of_render(cls, status: RenderStatus) -> AttemptStatus:
        """The attempt status of a finished render."""
        return cls(status.value)
