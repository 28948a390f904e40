"""Self-debugging conversations: each round adds exactly one assistant turn and one user turn.

Round k's conversation = round k-1's conversation + the code the model gave in round k-1 (fenced, as
it was rendered) + feedback: the engine's error excerpt, or a plain sentence for "drew nothing",
"blank image" and "no code". History is never repeated (the original re-appended earlier rounds).
"""

from __future__ import annotations

SELF_DEBUG_VERSION = "v1"

_ERROR = "Running the code failed with this error:\n{error}\n{ask}"
_NO_OUTPUT = "The code ran without errors but produced no image.\n{ask}"
_BLANK = "The code ran but the image it produced is blank (almost entirely one colour).\n{ask}"
_NO_CODE = "Your reply did not contain a program.\n{ask}"
_ASK = "Reply with the complete corrected program in one ```{language} code block."


def feedback(language: str, status: str, error: str) -> str:
    """The user turn that reports an attempt's outcome to the model."""
    ask = _ASK.format(language=language)
    if status == "no_output":
        return _NO_OUTPUT.format(ask=ask)
    if status == "blank":
        return _BLANK.format(ask=ask)
    if status in ("no_code", "generation_failed"):
        return _NO_CODE.format(ask=ask)
    return _ERROR.format(error=error.strip() or "(no error message)", ask=ask)


def next_messages(
    previous: list[dict[str, str]], language: str, code: str, status: str, error: str
) -> list[dict[str, str]]:
    """The conversation for the next round, from the previous round's messages and outcome."""
    assistant = f"```{language}\n{code}\n```" if code.strip() else "(no code)"
    return [
        *previous,
        {"role": "assistant", "content": assistant},
        {"role": "user", "content": feedback(language, status, error)},
    ]
