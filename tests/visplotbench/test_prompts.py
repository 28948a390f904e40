"""Prompt sets, the instructs.json loader, data descriptors and message assembly."""

import json

import pytest
from visplotbench.prompts import DESCRIPTORS, build_messages, build_user_message, describe_data, load_prompts
from visplotbench.tasks import Task

CSV = "city,rain,wet\nOslo,12,true\nBergen,31.5,true\nTromso,20,false\n"


def task(language="python", data=CSV, used_lib=("plotly",)):
    return Task(
        f"{language}_1",
        "Create a bar chart of rain.",
        "Blue bars, title Rain.",
        data,
        list(used_lib),
        "Bars",
        "vertical-bar",
    )


def test_bundled_prompts_cover_every_language_and_are_hashed():
    prompts = load_prompts()
    from visplotbench.engine import LANGUAGES

    assert set(LANGUAGES) <= set(prompts.languages)
    assert prompts.version == "v1" and len(prompts.sha256) == 64


def test_used_lib_is_rendered_as_a_name_not_a_list():
    text = build_user_message(task(), load_prompts())
    assert "plotly" in text and "['plotly']" not in text


def test_field_order_and_numbering():
    text = build_user_message(task(), load_prompts())
    assert (
        text.index("1. Create a bar chart")
        < text.index("2. Blue bars")
        < text.index("3. ")
        < text.index("4. ")
    )
    assert "\n\n" not in text


def test_head_descriptor_default():
    text = build_user_message(task(), load_prompts())
    assert "DataFrame with 3 columns and 3 rows" in text and "Head:" in text


def test_data_part_is_cut_to_4000_characters():
    big = "a,b\n" + "\n".join(f"{'x' * 300}{i},{i}" for i in range(100))
    text = build_user_message(task(data=big), load_prompts(), descriptor="lida")
    data_part = text.split("4. ", 1)[1]
    assert len(data_part) <= 4001


def test_asymptote_data_is_copied_verbatim():
    t = task("asymptote", data="real[] x = {1, 2, 3};", used_lib=("asymptote",))
    assert "real[] x = {1, 2, 3};" in build_user_message(t, load_prompts())


def test_languages_without_data_get_the_no_data_sentence():
    text = build_user_message(task("mermaid", data="", used_lib=("mermaid",)), load_prompts())
    assert "do not load files" in text


@pytest.mark.parametrize("kind", DESCRIPTORS)
def test_every_descriptor(kind):
    text = describe_data(CSV, kind)
    if kind == "empty":
        assert text == ""
    else:
        assert "rain" in text or "columns" in text


def test_unknown_descriptor_lists_choices():
    with pytest.raises(ValueError, match="head"):
        describe_data(CSV, "nope")


def test_user_file_in_instructs_format(tmp_path):
    path = tmp_path / "instructs.json"
    langs = {
        "system_prompt": "SYS",
        "setup_instruct": "Use [USED_LIB].",
        "plot_instruct": "PLOT",
        "data_instruct": "DATA:\n",
        "judge_instruct_vis": "x",
        "judge_instruct_task": "y",
    }
    path.write_text(json.dumps({"python": langs}))
    prompts = load_prompts(path)
    assert prompts.version == "file:instructs.json"
    messages = build_messages(task(), prompts)
    assert messages[0] == {"role": "system", "content": "SYS"}
    assert messages[1]["content"].startswith("PLOT\n1. Create") and "3. Use plotly." in messages[1]["content"]
    with pytest.raises(ValueError, match="no texts for 'svg'"):
        build_messages(task("svg", data=""), prompts)


def test_malformed_prompt_file_names_missing_keys(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"python": {"system_prompt": "x"}}))
    with pytest.raises(ValueError, match="setup_instruct"):
        load_prompts(path)
