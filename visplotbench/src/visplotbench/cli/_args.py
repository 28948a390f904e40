"""Command-line options made from a config dataclass's fields, and ``--config FILE.yaml`` (as trl's parser).

Each field becomes ``--field-name`` (``metadata["option"]`` renames it) with ``metadata["help"]``:
a ``bool`` defaulting to False is a flag, one defaulting to True gets ``--no-field-name``; a list takes
several values; a dict takes repeated ``KEY=VALUE``. Options given on the command line override the
YAML file, which overrides the dataclass defaults; the dataclass validates the result.
"""

from __future__ import annotations

import argparse
import dataclasses
import types
from pathlib import Path
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

from visplotbench.backends._options import parse_key_value

C = TypeVar("C")


def _option_name(f: dataclasses.Field[Any]) -> str:
    return str(f.metadata.get("option", f.name.replace("_", "-")))


def key_value_type(option: str) -> Any:
    def parse(text: str) -> tuple[str, Any]:
        try:
            return parse_key_value(text, option)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return parse


def add_dataclass_arguments(
    parser: argparse.ArgumentParser, config_cls: type[Any], *, only: list[str] | None = None
) -> None:
    """Add one option per field of ``config_cls`` (or of the fields named in ``only``) to ``parser``.

    Values not given stay absent from the parsed namespace (``argparse.SUPPRESS``), so
    ``config_from_args`` can tell them from defaults.
    """
    hints = get_type_hints(config_cls)
    for f in dataclasses.fields(config_cls):
        if only is not None and f.name not in only:
            continue
        hint = hints[f.name]
        if get_origin(hint) in (Union, types.UnionType):
            hint = next(a for a in get_args(hint) if a is not type(None))
        kind = get_origin(hint) or hint
        name = _option_name(f)
        help_text = f.metadata.get("help")
        common: dict[str, Any] = {"dest": f.name, "default": argparse.SUPPRESS, "help": help_text}
        if kind is bool:
            if f.default is True:
                common["help"] = f"turn off: {help_text}"
                parser.add_argument(f"--no-{name}", action="store_false", **common)
            else:
                parser.add_argument(f"--{name}", action="store_true", **common)
        elif kind is list:
            parser.add_argument(f"--{name}", nargs="*", **common)
        elif kind is dict:
            parser.add_argument(
                f"--{name}", action="append", type=key_value_type(f"--{name}"), metavar="KEY=VALUE", **common
            )
        else:  # a required field may come from --config: config_from_args checks it
            parser.add_argument(f"--{name}", type=kind, metavar=f.metadata.get("metavar"), **common)


def read_config_file(path: str | Path) -> dict[str, Any]:
    """The mapping in a YAML (or JSON) config file; field names as keys, ``-`` or ``_`` alike."""
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"--config: cannot read {path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"--config: {path} is not valid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"--config: {path} must hold a mapping of option: value, not {type(data).__name__}.")
    return {str(k).replace("-", "_"): v for k, v in data.items()}


def config_from_args(config_cls: type[C], args: argparse.Namespace, **fixed: Any) -> C:
    """Build ``config_cls`` from ``--config FILE`` (when given), the options given, then ``fixed``.

    Raises:
        ValueError: an unknown key in the file (the message lists the valid ones) or an invalid value.
    """
    names = [f.name for f in dataclasses.fields(config_cls)]  # type: ignore[arg-type]
    values = read_config_file(args.config) if getattr(args, "config", None) else {}
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise ValueError(
            f"--config: unknown key(s) {', '.join(unknown)} in {args.config}. Valid keys: {', '.join(names)}."
        )
    given = {name: getattr(args, name) for name in names if hasattr(args, name)}
    for f in dataclasses.fields(config_cls):  # type: ignore[arg-type]
        needed = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        if needed and f.name not in {**values, **given, **fixed}:
            raise ValueError(f"--{_option_name(f)} is required (on the command line or in --config).")
    for name, value in given.items():
        if isinstance(value, list) and value and isinstance(value[0], tuple):  # KEY=VALUE pairs
            given[name] = {**values.get(name, {}), **dict(value)}
    return config_cls(**{**values, **given, **fixed})
