"""The model card written next to every trained checkpoint (``README.md``, Hub model-card layout).

Front matter (base_model, datasets, license, tags) and sections: what the model is, the data (source,
languages, samples trained, over-long samples dropped), the recipe and every hyperparameter that shapes
the result, the loss curve, an evaluation table when a ``visplotbench run`` folder is given, and how to
load and evaluate it. ``train_summary.json`` in the output folder keeps what the card is made of, so
``viscoder2-train card OUTPUT_DIR --eval-run RUN`` can rebuild it once the benchmark has run.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

SUMMARY_FILE = "train_summary.json"
HYPERPARAMETERS = (
    "learning_rate",
    "lr_scheduler_type",
    "warmup_steps",
    "weight_decay",
    "num_train_epochs",
    "max_steps",
    "per_device_train_batch_size",
    "gradient_accumulation_steps",
    "max_length",
    "packing",
    "packing_strategy",
    "assistant_only_loss",
    "bf16",
    "activation_checkpointing",
    "seed",
)


@dataclass
class TrainSummary:
    """Everything the model card states about a training run.

    Attributes:
        model_id: the name the card gives the model (the Hub repo id when pushing, else the folder name).
        base_model: the model fine-tuned (``model_name_or_path``).
        recipe: the recipe name or file.
        dataset: the data source (``dataset_name``).
        hyperparameters: the values of ``HYPERPARAMETERS`` plus world size, global batch, LoRA settings.
        data: ``DataReport.to_json()``.
        loss_curve: ``[step, loss]`` pairs, one per logging step.
        train_runtime_s: seconds spent in ``trainer.train()``.
        total_steps: optimizer steps taken.
        versions: package versions (torch, transformers, trl, peft, accelerate, viscoder2-train).
        lora: the LoRA settings when an adapter was trained (empty for full fine-tuning).
        rl: the reinforcement-learning stage, when this checkpoint was trained with GRPO (empty for SFT):
            base checkpoint, reward weights and settings, prompts, steps, reward curves, reward counters
            (``viscoder2_train.grpo``).
    """

    model_id: str
    base_model: str
    recipe: str
    dataset: str
    hyperparameters: dict[str, Any] = field(default_factory=dict)
    data: dict[str, Any] = field(default_factory=dict)
    loss_curve: list[list[float]] = field(default_factory=list)
    train_runtime_s: float = 0.0
    total_steps: int = 0
    versions: dict[str, str] = field(default_factory=dict)
    lora: dict[str, Any] = field(default_factory=dict)
    rl: dict[str, Any] = field(default_factory=dict)

    def save(self, folder: str | Path) -> Path:
        path = Path(folder) / SUMMARY_FILE
        path.write_text(json.dumps(asdict(self), indent=2, default=str) + "\n", encoding="utf-8")
        return path

    @classmethod
    def load(cls, folder: str | Path) -> TrainSummary:
        path = Path(folder) / SUMMARY_FILE
        if not path.is_file():
            raise FileNotFoundError(
                f"{path} not found: it is written by `viscoder2-train sft` at the end of training."
            )
        return cls(**json.loads(path.read_text(encoding="utf-8")))


def package_versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for name in (
        "viscoder2-train",
        "torch",
        "transformers",
        "trl",
        "peft",
        "accelerate",
        "datasets",
        "deepspeed",
    ):
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            continue
    return out


def evaluation_table(run_folder: str | Path) -> str:
    """A Markdown table of a ``visplotbench run`` folder: pass rate per language, first try and after self-debug."""
    from visplotbench.report import language_name, load_run

    run = load_run(run_folder)
    summary = run.summary
    last = summary.rounds
    head = "| Language | Tasks | Execution pass rate | After self-debug |"
    if last == 0:
        head = "| Language | Tasks | Execution pass rate |"
    lines = [head, "|" + "---|" * (4 if last else 3)]

    def row(name: str, tasks: int, first: float, final: float) -> str:
        cells = [name, str(tasks), f"{100 * first:.1f}%"] + (
            [f"{100 * final:.1f}% ({last} round{'s' if last > 1 else ''})"] if last else []
        )
        return "| " + " | ".join(cells) + " |"

    for lang in run.languages:
        s = summary.languages[lang]
        lines.append(row(language_name(lang), s.tasks, s.rate(0), s.rate(last)))
    lines.append(row("**Overall**", summary.total_tasks, summary.overall_rate(0), summary.overall_rate(last)))
    source = run.manifest.tasks.source if run.manifest else "?"
    prompts = (run.manifest.prompts_version if run.manifest else "") or "?"
    note = (
        f"\nVisPlotBench run `{Path(run_folder).name}`: task set `{source}`, "
        f"prompts `{prompts}`, {last} self-debug round(s)"
    )
    note += " (incomplete run)." if not summary.complete else "."
    return "\n".join(lines) + "\n" + note + "\n"


def _is_hub_id(name: str) -> bool:
    """``owner/name`` that is not a local path."""
    return name.count("/") == 1 and not name.startswith((".", "/", "~")) and not Path(name).exists()


def _curve_table(curve: list[list[float]], rows: int = 12, name: str = "Loss") -> str:
    if not curve:
        return f"No {name.lower()} was logged.\n"
    stride = max(1, len(curve) // rows)
    picked = curve[::stride]
    if picked[-1] != curve[-1]:
        picked.append(curve[-1])
    return f"| Step | {name} |\n|---|---|\n" + "".join(f"| {int(s)} | {v:.4f} |\n" for s, v in picked)


def rl_section(rl: dict[str, Any]) -> str:
    """The card's "Reinforcement learning" section (``TrainSummary.rl``)."""
    base = rl.get("base_stage") or {}
    lines = [
        "## Reinforcement learning (GRPO)\n",
        f"{rl.get('algorithm', 'GRPO')}, starting from `{rl.get('base_checkpoint')}`"
        + (
            f" (itself trained with the `{base.get('recipe')}` recipe on `{base.get('dataset')}`, "
            f"{base.get('steps')} steps)"
            if base
            else ""
        )
        + f", for {rl.get('steps')} optimizer steps. Rewards are computed by the VisPlotBench render engine "
        "(`viscoder2_train.rewards`): each completion's program is extracted with the benchmark's rules and "
        "rendered in its sandbox; renders that failed for environment reasons were left unscored.\n",
        "| Reward component | Weight |",
        "|---|---|",
    ]
    lines += [f"| {name} | {weight} |" for name, weight in (rl.get("reward_weights") or {}).items()]
    settings = {k: v for k, v in (rl.get("reward_settings") or {}).items() if v is not None}
    prompts = rl.get("prompts") or {}
    lines += [
        "",
        f"Reward settings: {settings}. Prompts: `{prompts.get('source')}` ({prompts.get('languages')}); "
        f"{rl.get('num_generations')} completions per prompt, at most {rl.get('max_completion_length')} "
        f"tokens each, KL coefficient {rl.get('beta')}, self-debug rounds {rl.get('self_debug_rounds', 0)}.\n",
    ]
    stats = rl.get("reward_stats") or {}
    if stats:
        lines.append(
            f"Completions scored: {stats.get('scored', 0)}; renders run: {stats.get('renders', 0)} "
            f"(cache hits {stats.get('render_cache_hits', 0)}); environment failures left unscored: "
            f"{stats.get('status_env_failure', 0)}; judge failures: {stats.get('status_judge_failure', 0)}.\n"
        )
    lines.append("### Reward curve\n")
    lines.append(_curve_table(rl.get("reward_curve") or [], name="Mean reward"))
    return "\n".join(lines)


def render_model_card(summary: TrainSummary, evaluation: str | None = None) -> str:
    """The README.md text for ``summary`` (with ``evaluation`` Markdown when given)."""
    hub_dataset = summary.dataset if _is_hub_id(summary.dataset) else None
    hub_base = summary.base_model if _is_hub_id(summary.base_model) else None
    front = ["---"] + ([f"base_model: {hub_base}"] if hub_base else [])
    front += [
        "library_name: peft" if summary.lora else "library_name: transformers",
        "license: apache-2.0",
        "pipeline_tag: text-generation",
    ]
    if hub_dataset:
        front += ["datasets:", f"- {hub_dataset}"]
    front += [
        "tags:",
        "- viscoder2",
        "- visualization",
        "- code",
        "- trl",
        "- grpo" if summary.rl else "- sft",
    ]
    front += ["---", ""]
    data = summary.data
    hp = summary.hyperparameters
    kind = "a LoRA adapter on" if summary.lora else "a full fine-tune of"
    base = f"[{hub_base}](https://huggingface.co/{hub_base})" if hub_base else f"`{summary.base_model}`"
    parts = [
        "\n".join(front),
        f"# {summary.model_id}\n",
        f"{summary.model_id} is {kind} {base} for "
        "writing and fixing visualization code (Python, Vega-Lite, LilyPond, Mermaid, SVG, LaTeX, Asymptote, "
        "HTML and more), trained with the `viscoder2-train` recipes "
        + (
            "(trl `GRPOTrainer`, rewards from rendering the code it writes).\n"
            if summary.rl
            else "(trl `SFTTrainer`, assistant-only loss, packing) in the manner of VisCoder2.\n"
        ),
        "## Training data\n",
        (
            f"Prompts: `{summary.dataset}` (the policy writes the answers; nothing is imitated).\n"
            if summary.rl
            else f"Source: `{summary.dataset}`. Samples are chat conversations (`language`, `messages`); only "
            "assistant turns carry loss.\n"
        ),
    ]
    if data:
        langs = sorted(set(data.get("read", {})) | set(data.get("trained", {})))
        rows = ["| Language | Read | After mixing | Dropped (over-long) | Trained |", "|---|---|---|---|---|"]
        for lang in langs:
            rows.append(
                f"| {lang} | {data.get('read', {}).get(lang, 0)} | {data.get('mixed', {}).get(lang, 0)} | "
                f"{data.get('dropped_overlong', {}).get(lang, 0)} | {data.get('trained', {}).get(lang, 0)} |"
            )
        parts.append("\n".join(rows) + "\n")
        parts.append(
            f"Samples longer than {data.get('max_length')} tokens are dropped, not truncated "
            f"({data.get('total_dropped_overlong', 0)} here). Trained tokens: {data.get('tokens', 0):,}, "
            f"of which {data.get('assistant_tokens', 0):,} carry loss."
            + (f" Language weights: {data['weights']}." if data.get("weights") else "")
            + "\n"
        )
    if summary.rl:
        parts.append(rl_section(summary.rl))
    parts.append("## Training procedure\n")
    parts.append(f"Recipe: `{summary.recipe}`.\n")
    rows = ["| Hyperparameter | Value |", "|---|---|"] + [f"| {k} | {v} |" for k, v in hp.items()]
    rows += [f"| lora_{k} | {v} |" for k, v in summary.lora.items()]
    parts.append("\n".join(rows) + "\n")
    parts.append(f"Optimizer steps: {summary.total_steps}; training time: {summary.train_runtime_s:.1f} s.\n")
    parts.append("### Training loss\n")
    parts.append(_curve_table(summary.loss_curve))
    parts.append("## Evaluation\n")
    if evaluation:
        parts.append(evaluation)
    else:
        parts.append(
            "Not evaluated yet. Run VisPlotBench on this checkpoint and rebuild this card with its results:\n\n"
            "```bash\nvisplotbench run --model transformers:<this folder> --out runs/eval\n"
            "viscoder2-train card <this folder> --eval-run runs/eval\n```\n"
        )
    parts.append("## Usage\n")
    parts.append(
        "```python\nfrom transformers import AutoModelForCausalLM, AutoTokenizer\n\n"
        f'tok = AutoTokenizer.from_pretrained("{summary.model_id}")\n'
        f'model = AutoModelForCausalLM.from_pretrained("{summary.model_id}")\n'
        'messages = [{"role": "user", "content": "Draw a bar chart of sales per month as a Vega-Lite '
        'spec."}]\nids = tok.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt")\n'
        "print(tok.decode(model.generate(ids, max_new_tokens=512)[0][ids.shape[1]:]))\n```\n"
    )
    if summary.versions:
        parts.append("## Framework versions\n")
        parts.append("\n".join(f"- {k} {v}" for k, v in summary.versions.items()) + "\n")
    return "\n".join(parts)


def write_model_card(folder: str | Path, summary: TrainSummary, eval_run: str | Path | None = None) -> Path:
    """Write ``README.md`` (and ``train_summary.json``) into ``folder``; return the card's path."""
    folder = Path(folder)
    evaluation = evaluation_table(eval_run) if eval_run else None
    summary.save(folder)
    path = folder / "README.md"
    path.write_text(render_model_card(summary, evaluation), encoding="utf-8")
    return path
