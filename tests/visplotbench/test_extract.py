"""Code extraction: which rule fires, and that the info string never leaks into the code."""

import pytest
from visplotbench.extract import extract_code


@pytest.mark.parametrize(
    ("reply", "language", "code", "rule"),
    [
        ("Here you go:\n```python\nprint(1)\n```\nDone.", "python", "print(1)", "tagged"),
        ("```python3\nprint(1)\n```", "python", "print(1)", "tagged"),
        ("```py\nx = 1\n```", "python", "x = 1", "tagged"),
        ('```vega-lite\n{"mark": "bar"}\n```', "vegalite", '{"mark": "bar"}', "tagged"),
        ('```json\n{"mark": "bar"}\n```', "vegalite", '{"mark": "bar"}', "tagged"),
        ("```tex\n\\documentclass{article}\n```", "latex", "\\documentclass{article}", "tagged"),
        ("```asy\ndraw((0,0)--(1,1));\n```", "asymptote", "draw((0,0)--(1,1));", "tagged"),
        ("```ly\n{ c'4 }\n```", "lilypond", "{ c'4 }", "tagged"),
        (
            '```xml\n<svg xmlns="http://www.w3.org/2000/svg"/>\n```',
            "svg",
            '<svg xmlns="http://www.w3.org/2000/svg"/>',
            "tagged",
        ),
        ("```\nflowchart LR\n A-->B\n```", "mermaid", "flowchart LR\n A-->B", "fenced"),
        ("```javascript\nalert(1)\n```", "html", "alert(1)", "fenced"),
        (
            "```html\n<html><body>cut off by the token li",
            "html",
            "<html><body>cut off by the token li",
            "unterminated",
        ),
        ("<think>try ```python\nbad\n```</think>\n```python\ngood()\n```", "python", "good()", "tagged"),
        ("reasoning without opening tag</think>```python\nok()\n```", "python", "ok()", "tagged"),
        ('Sure! {"mark": "point"} is the spec.', "vegalite", '{"mark": "point"}', "json-object"),
        ("print(2)<|im_end|>", "python", "print(2)", "raw"),
        ("", "python", "", "empty"),
        (None, "python", "", "empty"),
    ],
)
def test_rules(reply, language, code, rule):
    found = extract_code(reply, language)
    assert (found.code, found.rule) == (code, rule)


def test_longest_tagged_block_wins():
    reply = "Install:\n```python\nimport os\n```\nProgram:\n```python\nimport matplotlib\nplot = 1\n```"
    assert extract_code(reply, "python").code == "import matplotlib\nplot = 1"


def test_code_is_not_reserialised():
    reply = '```json\n{"mark":   "bar",\n "a": "\\u00e9"}\n```'
    assert extract_code(reply, "vegalite").code == '{"mark":   "bar",\n "a": "\\u00e9"}'
