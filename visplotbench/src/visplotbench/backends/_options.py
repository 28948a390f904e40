"""Backend options: ``KEY=VALUE`` pairs (``--backend-option``, ``--judge-option``) read into a config dataclass."""

from __future__ import annotations

import importlib.util
import json
import types
from collections.abc import Mapping
from dataclasses import fields
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

C = TypeVar("C")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def parse_key_value(text: str, option: str = "--backend-option") -> tuple[str, Any]:
    """``KEY=VALUE`` -> (key, value): the value is read as JSON when it is JSON (``16``, ``true``,
    ``{"a": 1}``), else kept as the string; the one parser of every ``KEY=VALUE`` option.

    Raises:
        ValueError: no ``=`` or an empty key (the message shows the expected form).
    """
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise ValueError(f"{option} expects KEY=VALUE, got {text!r}")
    try:
        return key.strip(), json.loads(value)
    except json.JSONDecodeError:
        return key.strip(), value


def config_from_options(config_cls: type[C], options: Mapping[str, Any], backend: str, **given: Any) -> C:
    """Build ``config_cls`` from backend options; strings are read as the field's type.

    Raises:
        ValueError: an unknown option (the message lists the valid ones) or an unreadable value.
    """
    valid = [f.name for f in fields(config_cls) if f.init and f.name not in given]  # type: ignore[arg-type]
    unknown = sorted(key for key in options if key not in valid)
    if unknown:
        raise ValueError(
            f"Unknown option(s) {', '.join(map(repr, unknown))} for the {backend} backend. "
            f"Valid options: {', '.join(valid) or 'none (this backend takes no options)'}."
        )
    hints = get_type_hints(config_cls)
    values = {key: _coerce(value, hints[key], f"{backend} option {key!r}") for key, value in options.items()}
    return config_cls(**given, **values)


def require_packages(backend: str, *packages: str, extra: str = "") -> None:
    """Raise ImportError with the install command when any of ``packages`` is not installed."""
    missing = [name for name in packages if importlib.util.find_spec(name) is None]
    if missing:
        raise ImportError(
            f"The {backend} backend needs {', '.join(missing)}, which is not installed. "
            f"Fix: pip install 'visplotbench[{extra or backend}]'",
            name=missing[0],
        )


def _coerce(value: Any, hint: Any, what: str) -> Any:
    args = get_args(hint)
    optional = type(None) in args
    if get_origin(hint) in (Union, types.UnionType):
        hint = next(a for a in args if a is not type(None))
    kind = get_origin(hint) or hint
    if not isinstance(value, str):
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        return value
    text = value.strip()
    if optional and text.lower() in ("none", "null", ""):
        return None
    try:
        if kind is bool:
            if text.lower() not in _TRUE + _FALSE:
                raise ValueError
            return text.lower() in _TRUE
        if kind in (int, float):
            return kind(text)
        if kind is list:
            parsed = json.loads(text) if text.startswith("[") else [value]
            if not isinstance(parsed, list):
                raise ValueError
            return parsed
        if kind is dict:
            parsed = json.loads(text)
            if not isinstance(parsed, dict):
                raise ValueError
            return parsed
    except ValueError:
        name = getattr(kind, "__name__", str(kind))
        raise ValueError(
            f"{what}: cannot read {value!r} as {name}{' (a JSON object)' if kind is dict else ''}."
        ) from None
    return value
