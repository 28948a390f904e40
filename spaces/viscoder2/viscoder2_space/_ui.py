"""The Gradio page: a thin shell over ``_selfdebug`` and ``_playground`` (all logic lives there).

State is per browser session: the session's own work folder (downloads) and its stop switch, both
keyed by Gradio's session hash and removed when the visitor leaves (``Blocks.unload``). What visitors
share is in ``Resources``: one render pool, the prompts, the loaded checkpoints.
"""

from __future__ import annotations

import io
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from viscoder2_space._models import CHECKPOINT, ENDPOINT, HOW_TO_CONFIGURE, MODEL_KINDS, REPLAY, ModelChoice
from viscoder2_space._playground import example, render_program
from viscoder2_space._resources import Resources
from viscoder2_space._selfdebug import (
    CODE_SUFFIX,
    RunView,
    records_jsonl,
    replay,
    replay_tasks,
    run_self_debug,
)
from viscoder2_space._tasks import CUSTOM, custom_task, find_task, task_choices, user_prompt

MAX_ROUNDS = 5  # the page has a block for round 0 and each of up to 5 self-debug rounds
_HIGHLIGHT = {"python": "python", "vegalite": "json", "html": "html", "svg": "html", "latex": "latex"}
TITLE = "VisCoder2: watch a model write, render, read its error and fix it"


def _pil(png: bytes) -> Any:
    from PIL import Image

    return Image.open(io.BytesIO(png))


def _read_upload(path: str | None, limit: int, what: str) -> str:
    if not path:
        return ""
    size = Path(path).stat().st_size
    if size > limit:
        raise gr.Error(f"The {what} is {size:,} bytes; the limit here is {limit:,}.")
    return Path(path).read_text(encoding="utf-8", errors="replace")


def build_app(resources: Resources) -> gr.Blocks:
    """The Blocks app over ``resources`` (the caller launches it and closes the resources)."""
    from visplotbench.engine import LANGUAGES

    config = resources.config
    languages = list(LANGUAGES)
    work_root = Path(tempfile.mkdtemp(prefix="viscoder2-space-"))

    def session_dir(request: gr.Request) -> Path:
        folder = work_root / (request.session_hash or "anonymous")
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    with gr.Blocks(title="VisCoder2", delete_cache=(3600, 3600)) as demo:
        gr.Markdown(f"# {TITLE}")
        banner = []
        if not resources.sandbox.ok:
            banner.append(f"**Rendering is disabled on this host.** {resources.sandbox.message}")
        if not (config.base_url and config.model) and not config.checkpoints and not config.run_folders():
            banner.append(HOW_TO_CONFIGURE)
        gr.Markdown("\n\n".join(banner), elem_id="banner", visible=bool(banner))

        with gr.Tabs():
            with gr.Tab("Self-debug", id="selfdebug"):
                gr.Markdown(
                    "Pick a language and a VisPlotBench task (or write your own instruction), choose a model "
                    "and press Run: each round shows the reply, the extracted code, the render and the error "
                    "excerpt the model gets back, exactly as `visplotbench run` does it."
                )
                with gr.Row():
                    with gr.Column(scale=1, min_width=320):
                        language = gr.Dropdown(
                            languages, value="python", label="Language", elem_id="sd-language"
                        )
                        # Checked by find_task (the choices change with the language; API callers skip that).
                        task = gr.Dropdown(
                            task_choices("python"),
                            value=CUSTOM,
                            label="Task",
                            elem_id="sd-task",
                            allow_custom_value=True,
                        )
                        instruction = gr.Textbox(
                            label="Instruction",
                            lines=4,
                            max_length=config.max_instruction_chars,
                            elem_id="sd-instruction",
                        )
                        data = gr.Textbox(label="Data (CSV text, optional)", lines=3, elem_id="sd-data")
                        data_file = gr.File(
                            label="…or upload a CSV",
                            file_types=[".csv", ".txt"],
                            type="filepath",
                            elem_id="sd-data-file",
                        )
                        preview = gr.Textbox(
                            label="What the model is told (the benchmark's prompt and data preview)",
                            lines=6,
                            interactive=False,
                            elem_id="sd-preview",
                        )
                        rounds = gr.Slider(
                            0,
                            config.max_rounds,
                            value=min(3, config.max_rounds),
                            step=1,
                            label="Self-debug rounds K",
                        )
                        kind = gr.Radio(list(MODEL_KINDS), value=ENDPOINT, label="Model", elem_id="sd-kind")
                        with gr.Group(visible=True) as endpoint_box:
                            base_url = gr.Textbox(
                                value=config.base_url,
                                label="Base URL (OpenAI-compatible, ends in /v1)",
                                interactive=config.allow_custom_endpoint,
                                elem_id="sd-base-url",
                            )
                            model_name = gr.Textbox(
                                value=config.model,
                                label="Model name",
                                interactive=config.allow_custom_endpoint,
                                elem_id="sd-model",
                            )
                            gr.Markdown(
                                f"The API key is read from the server's `{config.api_key_env}` variable and "
                                "sent only to the configured endpoint; it is never shown."
                            )
                        with gr.Group(visible=False) as checkpoint_box:
                            checkpoint = gr.Dropdown(
                                config.checkpoints,
                                value=config.checkpoints[0] if config.checkpoints else None,
                                label="Local transformers checkpoint",
                            )
                        with gr.Group(visible=False) as replay_box:
                            folders = config.run_folders()
                            run_folder = gr.Dropdown(
                                folders, value=folders[0] if folders else None, label="Run folder"
                            )
                            replay_task = gr.Dropdown(
                                replay_tasks(folders[0]) if folders else [], label="Recorded task"
                            )
                        with gr.Row():
                            run_btn = gr.Button("Run", variant="primary", elem_id="sd-run")
                            stop_btn = gr.Button("Stop", variant="stop", elem_id="sd-stop")
                    with gr.Column(scale=2):
                        summary = gr.Markdown(elem_id="sd-summary")
                        message = gr.Markdown(elem_id="sd-message")
                        boxes, heads, replies, codes, errors, galleries = [], [], [], [], [], []
                        for i in range(MAX_ROUNDS + 1):
                            with gr.Column(visible=False, elem_id=f"round-{i}") as box:
                                heads.append(gr.Markdown(elem_id=f"round-{i}-head"))
                                with gr.Accordion("Model reply", open=False):
                                    replies.append(gr.Textbox(show_label=False, lines=6, interactive=False))
                                codes.append(
                                    gr.Code(
                                        label="Extracted code",
                                        interactive=False,
                                        max_lines=24,
                                        buttons=["copy", "download"],
                                        elem_id=f"round-{i}-code",
                                    )
                                )
                                errors.append(
                                    gr.Textbox(
                                        label="Error excerpt the model sees next",
                                        lines=4,
                                        interactive=False,
                                        elem_id=f"round-{i}-error",
                                    )
                                )
                                galleries.append(
                                    gr.Gallery(
                                        label="Images",
                                        columns=3,
                                        height=360,
                                        object_fit="contain",
                                        elem_id=f"round-{i}-images",
                                    )
                                )
                            boxes.append(box)
                        with gr.Row():
                            final = gr.Image(label="Final image", type="pil", elem_id="sd-final")
                            reference = gr.Image(label="Reference image", type="pil", elem_id="sd-reference")
                        metrics = gr.Markdown(elem_id="sd-metrics")
                        with gr.Row():
                            download_json = gr.DownloadButton(
                                "Download the conversation (JSONL)", visible=False
                            )
                            download_code = gr.DownloadButton("Download the final code", visible=False)

            with gr.Tab("Playground", id="playground"):
                gr.Markdown(
                    "Paste or upload a program in any of the 8 languages and render it with the same engine "
                    "and sandbox. No model needed. Examples:"
                )
                with gr.Row():
                    example_btns = [
                        gr.Button(lang, size="sm", elem_id=f"pg-example-{lang}") for lang in languages
                    ]
                with gr.Row():
                    with gr.Column(scale=1):
                        pg_language = gr.Dropdown(
                            languages, value="python", label="Language", elem_id="pg-language"
                        )
                        pg_code = gr.Code(label="Program", lines=16, interactive=True, elem_id="pg-code")
                        pg_upload = gr.File(
                            label="…or upload the program", type="filepath", elem_id="pg-upload"
                        )
                        pg_data = gr.Textbox(
                            label="Data file (CSV; python and vegalite programs read it as data.csv, "
                            "latex as latex.csv, html as html.csv)",
                            lines=3,
                            elem_id="pg-data",
                        )
                        pg_data_upload = gr.File(
                            label="…or upload the data file",
                            file_types=[".csv", ".txt"],
                            type="filepath",
                            elem_id="pg-data-upload",
                        )
                        pg_btn = gr.Button("Render", variant="primary", elem_id="pg-render")
                    with gr.Column(scale=1):
                        pg_status = gr.Markdown(elem_id="pg-status")
                        pg_error = gr.Textbox(
                            label="Error excerpt", lines=6, interactive=False, elem_id="pg-error"
                        )
                        pg_images = gr.Gallery(
                            label="Images", columns=2, height=420, object_fit="contain", elem_id="pg-images"
                        )

        # ------------------------------------------------------------------ self-debug events

        def on_language(lang: str) -> tuple[Any, ...]:
            return gr.update(choices=task_choices(lang), value=CUSTOM), "", "", "", None

        def on_task(lang: str, task_id: str) -> tuple[Any, ...]:
            if task_id == CUSTOM:
                return "", "", "", None
            try:
                chosen = find_task(lang, task_id)
            except ValueError as exc:
                raise gr.Error(str(exc)) from None
            instruction_text = f"{chosen.task__plot_description}\n{chosen.task__plot_style}".strip()
            picture = _pil(chosen.image) if chosen.image else None
            return instruction_text, chosen.data, user_prompt(chosen), picture

        def on_edit(lang: str, task_id: str, text: str, data_text: str) -> str:
            try:
                chosen = custom_task(lang, text, data_text) if task_id == CUSTOM else find_task(lang, task_id)
                return user_prompt(chosen)
            except ValueError as exc:
                return str(exc)

        def on_upload(path: str | None) -> str:
            return _read_upload(path, config.max_data_bytes, "data file")

        def on_kind(choice: str) -> tuple[Any, ...]:
            return (
                gr.update(visible=choice == ENDPOINT),
                gr.update(visible=choice == CHECKPOINT),
                gr.update(visible=choice == REPLAY),
            )

        def on_folder(folder: str | None) -> Any:
            ids = replay_tasks(folder) if folder and folder in config.run_folders() else []
            return gr.update(choices=ids, value=ids[0] if ids else None)

        outputs = [summary, message, *boxes, *heads, *replies, *codes, *errors, *galleries]
        outputs += [final, reference, metrics, download_json, download_code]

        def show(view: RunView, language_key: str, folder: Path | None) -> dict[Any, Any]:
            update: dict[Any, Any] = {
                summary: view.summary,
                message: f"**{view.message}**" if view.message else "",
            }
            for i in range(MAX_ROUNDS + 1):
                shown = i < len(view.rounds)
                update[boxes[i]] = gr.update(visible=shown)
                if shown:
                    r = view.rounds[i]
                    update[heads[i]] = r.headline
                    update[replies[i]] = r.reply
                    update[codes[i]] = gr.update(value=r.code, language=_HIGHLIGHT.get(language_key))
                    update[errors[i]] = gr.update(value=r.error, visible=bool(r.error))
                    update[galleries[i]] = gr.update(
                        value=[_pil(p) for p in r.images], visible=bool(r.images)
                    )
            update[final] = _pil(view.final_images[0]) if view.done and view.final_images else None
            update[reference] = _pil(view.reference) if view.reference else None
            update[metrics] = (
                "Offline visual metrics of the final image against the reference: "
                + ", ".join(f"{k} {v:.3f}" for k, v in view.metrics.items())
                if view.metrics
                else ""
            )
            if view.done and view.records and folder is not None:
                task_id = view.records[-1].task_id
                jsonl = folder / f"{task_id}.results.jsonl"
                jsonl.write_text(records_jsonl(view.records), encoding="utf-8")
                code_file = folder / f"{task_id}_final{CODE_SUFFIX.get(language_key, '.txt')}"
                code_file.write_text(view.records[-1].code, encoding="utf-8")
                update[download_json] = gr.update(value=str(jsonl), visible=True)
                update[download_code] = gr.update(value=str(code_file), visible=True)
            else:
                update[download_json] = gr.update(visible=False)
                update[download_code] = gr.update(visible=False)
            return update

        def run(
            lang: str,
            task_id: str,
            text: str,
            data_text: str,
            k: float,
            choice: str,
            url: str,
            model: str,
            ckpt: str | None,
            folder_name: str | None,
            recorded: str | None,
            request: gr.Request,
        ) -> Iterator[dict[Any, Any]]:
            folder = session_dir(request)
            stop = resources.new_stop(request.session_hash or "anonymous")
            problem = "" if choice == REPLAY else _check_inputs(resources, lang, task_id, text, data_text, k)
            if problem:
                yield show(RunView(message=problem, done=True), lang, None)
                return
            if choice == REPLAY:
                views = replay(resources, folder_name or "", recorded or "")
                lang = (recorded or lang).rsplit("_", 1)[0]
            else:
                try:
                    chosen = (
                        custom_task(lang, text, data_text) if task_id == CUSTOM else find_task(lang, task_id)
                    )
                except ValueError as exc:
                    yield show(RunView(message=str(exc), done=True), lang, None)
                    return
                pick = ModelChoice(choice, base_url=url, model=model, checkpoint=ckpt or "")
                views = run_self_debug(resources, chosen, pick, int(k), stop)
            for view in views:
                yield show(view, lang, folder)

        def stop_run(request: gr.Request) -> str:
            resources.stop(request.session_hash or "anonymous")
            return "**Stopped** by the visitor."

        def leave(request: gr.Request) -> None:
            session = request.session_hash or "anonymous"
            resources.stop(session)
            shutil.rmtree(work_root / session, ignore_errors=True)

        language.change(
            on_language, language, [task, instruction, data, preview, reference], api_visibility="private"
        )
        task.change(on_task, [language, task], [instruction, data, preview, reference], api_name="task")
        for box in (instruction, data):
            box.change(
                on_edit,
                [language, task, instruction, data],
                preview,
                api_visibility="private",
                show_progress="hidden",
            )
        data_file.upload(on_upload, data_file, data, api_visibility="private")
        kind.change(on_kind, kind, [endpoint_box, checkpoint_box, replay_box], api_visibility="private")
        run_folder.change(on_folder, run_folder, replay_task, api_visibility="private")
        run_event = run_btn.click(
            run,
            [
                language,
                task,
                instruction,
                data,
                rounds,
                kind,
                base_url,
                model_name,
                checkpoint,
                run_folder,
                replay_task,
            ],
            outputs,
            api_name="self_debug",
            concurrency_limit=config.concurrency,
            concurrency_id="self_debug",
        )
        stop_btn.click(stop_run, None, summary, cancels=[run_event], api_name="stop", queue=False)
        demo.unload(leave)

        # ------------------------------------------------------------------ playground events

        def fill_example(lang: str) -> tuple[Any, ...]:
            source, data_text = example(lang)
            return lang, gr.update(value=source, language=_HIGHLIGHT.get(lang)), data_text

        for lang, btn in zip(languages, example_btns, strict=True):
            btn.click(
                lambda lang=lang: fill_example(lang),
                None,
                [pg_language, pg_code, pg_data],
                api_visibility="private",
            )

        def on_code_upload(path: str | None) -> str:
            return _read_upload(path, config.max_code_chars * 4, "program")

        def render(lang: str, code: str, data_text: str) -> tuple[Any, ...]:
            view = render_program(resources, lang, code or "", data_text or "")
            return view.message, view.error, [_pil(p) for p in view.images]

        pg_upload.upload(on_code_upload, pg_upload, pg_code, api_visibility="private")
        pg_data_upload.upload(on_upload, pg_data_upload, pg_data, api_visibility="private")
        pg_btn.click(
            render,
            [pg_language, pg_code, pg_data],
            [pg_status, pg_error, pg_images],
            api_name="render",
            concurrency_limit=max(2, config.concurrency * 2),
            concurrency_id="render",
        )

    demo.queue(max_size=config.queue_size, default_concurrency_limit=config.concurrency)
    demo.work_root = work_root  # app.py lets gradio serve the downloads from here
    return demo


def _check_inputs(resources: Resources, lang: str, task_id: str, text: str, data_text: str, k: float) -> str:
    """Why a run cannot start ("" when it can): bounds on every visitor input."""
    from visplotbench.engine import LANGUAGES

    config = resources.config
    if lang not in LANGUAGES:
        return f"Unknown language {lang!r}; choose one of {', '.join(LANGUAGES)}."
    if not isinstance(k, (int, float)) or not 0 <= k <= config.max_rounds or int(k) != k:
        return f"Self-debug rounds must be a whole number from 0 to {config.max_rounds}, not {k!r}."
    if task_id == CUSTOM and not (text or "").strip():
        return "Type an instruction or pick one of the bundled tasks."
    if len(text or "") > config.max_instruction_chars:
        return f"The instruction is longer than {config.max_instruction_chars:,} characters."
    if len((data_text or "").encode("utf-8")) > config.max_data_bytes:
        return f"The data is larger than {config.max_data_bytes:,} bytes."
    if task_id == CUSTOM and data_text:
        try:
            user_prompt(custom_task(lang, text, data_text))
        except ValueError as exc:
            return str(exc)
    return ""
