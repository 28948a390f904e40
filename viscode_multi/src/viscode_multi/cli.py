"""``viscode-multi``: build VisCode-Multi from real corpora, stage by stage, resumably.

    viscode-multi build                                  # all stages, built-in defaults (registry corpora)
    viscode-multi build --max-per-language 200 --languages python svg
    viscode-multi verify --work runs/viscode-multi-work   # one stage (the earlier ones must be done)
    viscode-multi build --executor ray --workers 8        # Ray (ray.init() finds a cluster or starts a local one)
    viscode-multi build --llm-base-url http://127.0.0.1:8000/v1 --llm-model gpt-4.1-mini \\
        --vlm-base-url http://127.0.0.1:8000/v1 --vlm-model gpt-4.1     # LLM extraction/repairs, VLM instructions
    viscode-multi push viscode-multi --repo-id me/viscode-multi [--dry-run]
    viscode-multi corpora                                # the registry corpora, one line each

Stages: filter, extract, verify, instruct, dialogues, dedup, decontaminate, publish (``build`` = sources + all).
Run again after a crash or kill: finished stages and tasks are skipped; ``--force`` redoes the named stage.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

STAGE_COMMANDS = ("filter", "extract", "verify", "instruct", "dialogues", "dedup", "decontaminate", "publish")


def make_parser() -> argparse.ArgumentParser:
    from viscode_multi.config import BuildConfig

    d = BuildConfig()
    p = argparse.ArgumentParser(
        prog="viscode-multi", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("command", choices=["build", "sources", *STAGE_COMMANDS, "push", "corpora"])
    p.add_argument("target", nargs="?", help="push: the dataset folder")
    p.add_argument("--out", default=d.out, help="dataset folder (default: %(default)s)")
    p.add_argument("--work", default=d.work, help="work folder (default: %(default)s)")
    p.add_argument("--corpora", nargs="+", default=None, help="registry corpora (default: all)")
    p.add_argument(
        "--source",
        action="append",
        default=[],
        help="extra source: hub:..., jsonl:..., parquet:..., folder:...",
    )
    p.add_argument("--languages", nargs="+", default=None)
    p.add_argument("--max-per-language", type=int, default=None, help="candidates per language")
    p.add_argument(
        "--language-cap",
        action="append",
        default=[],
        metavar="LANG=N",
        help="per-language candidate cap, overrides --max-per-language (repeatable)",
    )
    p.add_argument("--shards", type=int, default=d.shards)
    p.add_argument("--workers", type=int, default=d.workers)
    p.add_argument("--executor", choices=["local", "ray", "slurm"], default=d.executor)
    p.add_argument(
        "--slurm", default="{}", help='JSON of SlurmPipelineExecutor options, e.g. {"partition": "cpu"}'
    )
    p.add_argument(
        "--cache",
        default=None,
        help="registry download cache (default: $VISCODE_MULTI_CACHE or ~/.cache/viscode-multi)",
    )
    p.add_argument("--min-image-bytes", type=int, default=d.verify.min_image_bytes)
    p.add_argument("--min-colors", type=int, default=d.verify.min_colors)
    p.add_argument(
        "--repair-min-image-bytes",
        type=int,
        default=d.verify.repair_min_image_bytes,
        help="smallest PNG a verified repair may draw (0: any non-monochrome picture)",
    )
    p.add_argument(
        "--wall-s", type=float, default=None, help="per-program time limit (default: the engine's)"
    )
    p.add_argument("--cap-per-language", type=int, default=None, help="balance cap on published samples")
    p.add_argument("--decontam-ngram", type=int, default=d.quality.decontam_ngram)
    for role in ("llm", "vlm"):
        p.add_argument(
            f"--{role}-base-url",
            default=None,
            help=f"OpenAI-compatible endpoint for the {role.upper()} stages",
        )
        p.add_argument(f"--{role}-model", default=None)
        p.add_argument(f"--{role}-api-key-env", default="OPENAI_API_KEY")
    p.add_argument(
        "--dialogues-import", default=None, help="hub:m-a-p/Code-Feedback or a local JSONL/parquet file"
    )
    p.add_argument("--no-llm-repairs", action="store_true", help="only deterministic fixes in the dialogues")
    p.add_argument("--force", action="store_true", help="redo the named stage even if it is done")
    p.add_argument("--repo-id", help="push: owner/name on the Hub")
    p.add_argument("--private", action="store_true")
    p.add_argument("--dry-run", action="store_true", help="push: list the files, upload nothing")
    return p


def config_from_args(args: argparse.Namespace):  # -> BuildConfig
    from viscode_multi.config import BuildConfig, QualityConfig, VerifyConfig
    from viscode_multi.corpora import DEFAULT_CORPORA
    from viscode_multi.llm import LLMConfig

    saved = Path(args.work) / "config.json"
    if args.command != "build" and saved.exists():
        # a single stage continues the build that made the work folder
        return BuildConfig.from_json(json.loads(saved.read_text()))

    def endpoint(role: str) -> LLMConfig | None:
        url, model = getattr(args, f"{role}_base_url"), getattr(args, f"{role}_model")
        if bool(url) != bool(model):
            raise SystemExit(f"--{role}-base-url and --{role}-model go together.")
        return LLMConfig(url, model, getattr(args, f"{role}_api_key_env")) if url else None

    return BuildConfig(
        out=args.out, work=args.work, corpora=args.corpora or list(DEFAULT_CORPORA), sources=args.source,
        languages=args.languages, max_per_language=args.max_per_language,
        language_caps={k: int(v) for k, v in (item.split("=", 1) for item in args.language_cap)}, shards=args.shards, workers=args.workers,
        executor=args.executor, cache=args.cache, llm=endpoint("llm"), vlm=endpoint("vlm"),
        dialogues_import=args.dialogues_import, repair_with_llm=not args.no_llm_repairs,
        verify=VerifyConfig(min_image_bytes=args.min_image_bytes, min_colors=args.min_colors, repair_min_image_bytes=args.repair_min_image_bytes, wall_s=args.wall_s),
        quality=QualityConfig(cap_per_language=args.cap_per_language, decontam_ngram=args.decontam_ngram),
        slurm=json.loads(args.slurm),
    )  # fmt: skip


def _push(args: argparse.Namespace) -> int:
    from viscode_multi.push import prepare_push, push

    if not args.target or not args.repo_id:
        raise SystemExit(
            "usage: viscode-multi push DATASET_FOLDER --repo-id owner/name [--private] [--dry-run]"
        )
    plan = prepare_push(Path(args.target), args.repo_id, private=args.private)
    print(f"{plan.folder} -> {plan.url} ({len(plan.files)} files)")
    for name in plan.files:
        print(f"  {name}")
    if not args.dry_run:
        print(push(plan))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if args.command == "corpora":
        from viscode_multi.corpora import CORPORA

        for c in CORPORA.values():
            print(
                f"{c.name:22} {c.language:10} {c.package.registry}:{c.package.spec():32} {c.license:32} {c.about}"
            )
        return 0
    if args.command == "push":
        return _push(args)
    from viscode_multi.pipeline import STAGES, Build

    build = Build(config_from_args(args))
    if args.command == "build":
        for stage in STAGES:
            build.run(stage, force=False)
        print(
            f"dataset written to {build.config.out}; load it with datasets.load_dataset({build.config.out!r})"
        )
    else:
        build.run(args.command if args.command != "sources" else "sources", force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
