"""``RunConfig`` is validated before anything touches disk; the CLI's run options and ``--config run.yaml``
come from its fields; one ``KEY=VALUE`` parser."""

from __future__ import annotations

import argparse

import pytest
from visplotbench.backends._options import parse_key_value
from visplotbench.cli import main, make_parser
from visplotbench.cli._args import config_from_args

from visplotbench import RunConfig


def parse(*argv: str) -> argparse.Namespace:
    return make_parser().parse_args(["run", *argv])


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"descriptor": "hed"}, "Unknown descriptor 'hed'. Choose one of: head"),
        ({"languages": ["svg", "klingon"]}, "Unknown language"),
        ({"self_debug": -1}, "self_debug"),
        ({"limit": 0}, "limit"),
    ],
)
def test_run_config_rejects_bad_settings(changes, message):
    with pytest.raises(ValueError, match=message):
        RunConfig(model="gold", **changes)


def test_a_typo_creates_no_run_folder(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "--model", "gold", "--out", str(out), "--descriptor", "hed"]) == 2
    assert "Unknown descriptor 'hed'" in capsys.readouterr().err
    assert not out.exists()


def test_options_come_from_the_dataclass_and_override_the_yaml_file(tmp_path):
    yaml_file = tmp_path / "run.yaml"
    yaml_file.write_text(
        "model: openai:gpt-4.1\nself_debug: 1\nlanguages: [svg, latex]\n"
        "backend_options: {concurrency: 4, temperature: 0}\nprogress: false\n"
    )
    args = parse("--config", str(yaml_file), "--self-debug", "2", "--backend-option", "concurrency=8")
    config = config_from_args(RunConfig, args)
    assert config.model == "openai:gpt-4.1" and config.self_debug == 2
    assert config.languages == ["svg", "latex"] and config.progress is False
    assert config.backend_options == {"concurrency": 8, "temperature": 0}
    assert config.out == "runs/openai_gpt-4.1"
    flags = config_from_args(RunConfig, parse("--model", "gold", "--languages", "svg,html", "--no-progress"))
    assert flags.languages == ["svg", "html"] and flags.progress is False and flags.self_debug == 3


def test_config_file_errors_name_the_valid_keys(tmp_path):
    yaml_file = tmp_path / "run.yaml"
    yaml_file.write_text("model: gold\nself_debugg: 1\n")
    with pytest.raises(ValueError, match=r"unknown key.*self_debugg.*Valid keys: model"):
        config_from_args(RunConfig, parse("--config", str(yaml_file)))
    with pytest.raises(ValueError, match="--model is required"):
        config_from_args(RunConfig, parse("--limit", "2"))


def test_one_key_value_parser():
    assert parse_key_value("concurrency=16") == ("concurrency", 16)
    assert parse_key_value("base_url=http://h:8000/v1") == ("base_url", "http://h:8000/v1")
    assert parse_key_value('extra_body={"a": 1}') == ("extra_body", {"a": 1})
    with pytest.raises(ValueError, match="--judge-option expects KEY=VALUE"):
        parse_key_value("oops", "--judge-option")
    with pytest.raises(SystemExit):
        make_parser().parse_args(["score", "runs/x", "--judge-option", "=1"])
