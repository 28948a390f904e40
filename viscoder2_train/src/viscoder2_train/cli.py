"""``viscoder2-train``: train, launch, list recipes, rebuild a model card, push to the Hub.

viscoder2-train recipes                              # the bundled recipes, one line each
viscoder2-train sft --recipe tiny [flags...]         # train in this process (see viscoder2_train.sft)
viscoder2-train grpo --recipe grpo-tiny [flags...]   # RL, rewards from the render engine (viscoder2_train.grpo)
viscoder2-train launch 32b [--dry-run]               # accelerate on the GPUs present (see viscoder2_train.launch)
viscoder2-train card OUTPUT_DIR [--eval-run RUN]     # rebuild README.md, with a VisPlotBench table
viscoder2-train push OUTPUT_DIR --repo-id me/name    # upload the final model and its card
"""

from __future__ import annotations

import argparse
import sys


def _recipes() -> int:
    from viscoder2_train.recipes import list_recipes, load_recipe

    for name in list_recipes():
        values = load_recipe(name)
        length = values.get("max_length") or values.get("max_completion_length")
        print(
            f"{name:10} {values.get('stage', 'sft'):5} {values.get('model_name_or_path', '?'):36} "
            f"launcher={values.get('launcher', 'single_gpu'):10} lr={values.get('learning_rate')} max_length={length}"
        )
    return 0


def _card(argv: list[str]) -> int:
    from viscoder2_train.card import TrainSummary, write_model_card

    p = argparse.ArgumentParser(prog="viscoder2-train card")
    p.add_argument("output_dir")
    p.add_argument("--eval-run", help="a `visplotbench run` folder for the evaluation table")
    p.add_argument("--model-id", help="the name the card uses (e.g. the Hub repo id)")
    args = p.parse_args(argv)
    summary = TrainSummary.load(args.output_dir)
    if args.model_id:
        summary.model_id = args.model_id
    print(write_model_card(args.output_dir, summary, args.eval_run))
    return 0


def _push(argv: list[str]) -> int:
    from viscoder2_train.hub import prepare_push, push

    p = argparse.ArgumentParser(prog="viscoder2-train push")
    p.add_argument("output_dir")
    p.add_argument("--repo-id", required=True, help="owner/name on the Hub")
    p.add_argument("--private", action="store_true")
    p.add_argument("--dry-run", action="store_true", help="list what would be uploaded")
    args = p.parse_args(argv)
    plan = prepare_push(args.output_dir, args.repo_id, private=args.private)
    print(f"{plan.folder} -> {plan.url}\n" + "\n".join(f"  {f}" for f in plan.files))
    if not args.dry_run:
        print(push(plan))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    command, rest = args[0], args[1:]
    if command == "sft":
        from viscoder2_train.sft import run

        run(rest)
        return 0
    if command == "grpo":
        from viscoder2_train.grpo import run as run_grpo

        run_grpo(rest)
        return 0
    if command == "launch":
        from viscoder2_train.launch import main as launch_main

        return launch_main(rest)
    if command == "recipes":
        return _recipes()
    if command == "card":
        return _card(rest)
    if command == "push":
        return _push(rest)
    print(
        f"Unknown command {command!r}; choose from sft, grpo, launch, recipes, card, push.", file=sys.stderr
    )
    return 2


if __name__ == "__main__":
    sys.exit(main())
