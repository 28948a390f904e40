"""Launch a recipe on the machine's GPUs (or several machines), or say what it would need.

    viscoder2-train launch tiny                  # CPU recipe: runs here, in this process
    viscoder2-train launch 32b                   # accelerate + ZeRO-3 on every GPU present
    viscoder2-train launch 32b --dry-run         # print the command and the batch accounting, run nothing
    viscoder2-train launch 7b --launcher fsdp -- --num_train_epochs 1    # flags after -- go to sft

The launcher config comes from the recipe's ``launcher`` (``accelerate_configs/<name>.yaml``); on more
than one node a ZeRO-3 recipe switches to ``multi_node.yaml``. GPUs per node are counted with torch;
nodes, this node's rank and the rendezvous address come from the environment, read once:
``NNODES``/``PET_NNODES``, ``NODE_RANK``/``PET_NODE_RANK``, ``MASTER_ADDR``/``PET_MASTER_ADDR``,
``MASTER_PORT``/``PET_MASTER_PORT`` (torchrun's names). ``gradient_accumulation_steps`` is derived from
the recipe's ``global_batch_size`` for the resulting number of processes and passed explicitly.
With no GPU (or fewer than the recipe's ``min_gpus``) the plan and the requirements are printed and the
exit status is 2.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from viscoder2_train.config import gradient_accumulation_for
from viscoder2_train.recipes import list_recipes, load_recipe

LAUNCHERS = ("cpu", "single_gpu", "multi_gpu", "zero3", "fsdp", "multi_node")
_NEEDS_DEEPSPEED = ("zero3", "multi_node")
_GPUS_PER_NODE = 8  # what a plan assumes per node when this machine has no GPU


def launcher_config_path(name: str) -> Path:
    """The accelerate config file of a launcher name."""
    if name not in LAUNCHERS or name == "cpu":
        raise ValueError(
            f"Unknown launcher {name!r}; choose from {', '.join(n for n in LAUNCHERS if n != 'cpu')}."
        )
    return Path(str(resources.files("viscoder2_train") / "accelerate_configs" / f"{name}.yaml"))


def _first_int(environ: Mapping[str, str], names: tuple[str, ...], default: int) -> int:
    for name in names:
        value = environ.get(name)
        if value not in (None, ""):
            try:
                return int(value)
            except ValueError as exc:
                raise ValueError(f"{name}={value!r} is not an integer.") from exc
    return default


@dataclass(frozen=True)
class NodeEnv:
    """Where this machine stands in a multi-node job, parsed once from the environment.

    Attributes:
        nnodes: machines in the job (``NNODES`` / ``PET_NNODES``; 1 when unset).
        node_rank: this machine's rank (``NODE_RANK`` / ``PET_NODE_RANK``; 0 when unset).
        master_addr: the rank-0 machine (``MASTER_ADDR`` / ``PET_MASTER_ADDR``).
        master_port: its rendezvous port (``MASTER_PORT`` / ``PET_MASTER_PORT``; 29500 when unset).
    """

    nnodes: int = 1
    node_rank: int = 0
    master_addr: str | None = None
    master_port: int = 29500

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> NodeEnv:
        env = os.environ if environ is None else environ
        node = cls(
            nnodes=_first_int(env, ("NNODES", "PET_NNODES"), 1),
            node_rank=_first_int(env, ("NODE_RANK", "PET_NODE_RANK"), 0),
            master_addr=env.get("MASTER_ADDR") or env.get("PET_MASTER_ADDR") or None,
            master_port=_first_int(env, ("MASTER_PORT", "PET_MASTER_PORT"), 29500),
        )
        if node.nnodes < 1 or not 0 <= node.node_rank < node.nnodes:
            raise ValueError(f"NODE_RANK={node.node_rank} must be in [0, NNODES={node.nnodes}).")
        if node.nnodes > 1 and not node.master_addr:
            raise ValueError(
                f"NNODES={node.nnodes} but MASTER_ADDR is not set: every node needs the rank-0 "
                "machine's address (export MASTER_ADDR=<host of node 0>)."
            )
        return node


@dataclass
class LaunchPlan:
    """What ``launch`` will run.

    Attributes:
        recipe: the recipe name or file.
        launcher: the launcher used (after the multi-node switch).
        config_file: its accelerate config (``None`` for ``cpu``).
        gpus_per_node: GPUs per node planned for: those counted (or given), or the recipe's ``min_gpus``
            when this machine has none.
        node: the multi-node environment.
        per_device_batch: ``per_device_train_batch_size``.
        gradient_accumulation_steps: derived from ``global_batch_size`` (or the recipe's value).
        global_batch: per-device batch x processes x accumulation.
        command: the command line.
        problems: why it cannot run here (empty: it can).
        needs: what the recipe needs, in words.
        gpus_found: GPUs counted (or given) on this machine.
    """

    recipe: str
    launcher: str
    config_file: Path | None
    gpus_per_node: int
    node: NodeEnv
    per_device_batch: int
    gradient_accumulation_steps: int
    global_batch: int
    command: list[str]
    problems: list[str] = field(default_factory=list)
    needs: str = ""
    gpus_found: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def processes(self) -> int:
        return 1 if self.launcher == "cpu" else self.gpus_per_node * self.node.nnodes

    def describe(self) -> str:
        machines = f"{self.node.nnodes} x {self.gpus_per_node} GPU(s)"
        if self.launcher == "cpu":
            machines = "this machine, CPU"
        lines = [
            f"recipe:    {self.recipe}",
            f"launcher:  {self.launcher}"
            + (f" ({self.config_file})" if self.config_file else " (this process)"),
            f"machines:  {machines}"
            + ("" if self.gpus_found or self.launcher == "cpu" else " (planned for; none found here)")
            + (
                f", this is node {self.node.node_rank}, rendezvous {self.node.master_addr}:{self.node.master_port}"
                if self.node.nnodes > 1
                else ""
            ),
            f"batch:     {self.per_device_batch} per device x {self.processes} process(es) x "
            f"{self.gradient_accumulation_steps} accumulation = {self.global_batch} sequences per step",
            f"needs:     {self.needs}",
            f"command:   {shlex.join(self.command)}",
        ]
        lines += [f"note:      {n}" for n in self.notes]
        lines += [f"problem:   {p}" for p in self.problems]
        return "\n".join(lines)


def count_gpus() -> int:
    try:
        import torch
    except ImportError:
        return 0
    return int(torch.cuda.device_count()) if torch.cuda.is_available() else 0


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def plan_launch(
    recipe: str,
    gpus: int | None = None,
    environ: Mapping[str, str] | None = None,
    launcher: str | None = None,
    extra_args: list[str] | None = None,
) -> LaunchPlan:
    """Work out the launch of ``recipe`` for ``gpus`` per node (default: counted) and the node environment."""
    values = load_recipe(recipe)
    chosen = launcher or str(values.get("launcher", "single_gpu"))
    if chosen not in LAUNCHERS:
        raise ValueError(
            f"Recipe {recipe!r}: unknown launcher {chosen!r}; choose from {', '.join(LAUNCHERS)}."
        )
    node = NodeEnv.from_environ(environ)
    per_device = int(values.get("per_device_train_batch_size", 8))
    min_gpus = int(values.get("min_gpus", 0))
    memory = int(values.get("min_gpu_memory_gb", 0))
    extra = list(extra_args or [])
    stage = str(values.get("stage", "sft"))
    if stage not in ("sft", "grpo"):
        raise ValueError(f"Recipe {recipe!r}: unknown stage {stage!r}; choose sft or grpo.")
    sft = ["-m", f"viscoder2_train.{stage}", "--recipe", recipe]
    if chosen == "cpu":
        accumulation = int(values.get("gradient_accumulation_steps", 1))
        return LaunchPlan(
            recipe,
            "cpu",
            None,
            0,
            NodeEnv(),
            per_device,
            accumulation,
            per_device * accumulation,
            [sys.executable, *sft, *extra],
            needs="CPU only",
        )
    found = count_gpus() if gpus is None else gpus
    # With no GPU here, plan for the hardware the recipe is sized for, so the printout shows what would run.
    gpus = found or min(max(min_gpus, 1), _GPUS_PER_NODE)
    if node.nnodes > 1 and chosen == "zero3":
        chosen = "multi_node"
    if chosen == "multi_gpu" and gpus * node.nnodes == 1:
        chosen = "single_gpu"
    processes = gpus * node.nnodes
    problems: list[str] = []
    needs = (f"{min_gpus} GPU(s) with {memory} GB each" if min_gpus else "1 GPU") + (
        ", DeepSpeed (pip install 'viscoder2-train[deepspeed]')" if chosen in _NEEDS_DEEPSPEED else ""
    )
    if values.get("attn_implementation") == "flash_attention_2":
        needs += ", flash-attn (pip install flash-attn; or --attn_implementation sdpa)"
    notes = _vllm_notes(values, problems) if values.get("use_vllm") else []
    if values.get("use_vllm"):
        needs += ", vLLM (pip install vllm)"
    if found == 0:
        problems.append(
            "no CUDA GPU found on this machine: this recipe does not train on CPU "
            "(the CPU recipes are tiny, tiny-lora and grpo-tiny)."
        )
    elif gpus * node.nnodes < min_gpus:
        problems.append(f"{gpus * node.nnodes} GPU(s) found, the recipe is sized for at least {min_gpus}.")
    if gpus * node.nnodes < min_gpus:
        notes.append(
            f"sized for {min_gpus} training GPUs: run on {-(-min_gpus // gpus)} nodes "
            "(NNODES, NODE_RANK, MASTER_ADDR on each)"
        )
    if chosen in _NEEDS_DEEPSPEED and not _has_module("deepspeed"):
        problems.append("DeepSpeed is not installed: pip install 'viscoder2-train[deepspeed]'.")
    global_batch = values.get("global_batch_size")
    if global_batch:
        accumulation = gradient_accumulation_for(int(global_batch), per_device, processes)
    else:
        accumulation = int(values.get("gradient_accumulation_steps", 1))
    config = launcher_config_path(chosen)
    command = ["accelerate", "launch", "--config_file", str(config), "--num_processes", str(processes)]
    if chosen == "multi_node":
        command += [
            "--num_machines",
            str(node.nnodes),
            "--machine_rank",
            str(node.node_rank),
            "--main_process_ip",
            str(node.master_addr),
            "--main_process_port",
            str(node.master_port),
        ]
    command += [*sft, "--gradient_accumulation_steps", str(accumulation), *extra]
    return LaunchPlan(
        recipe,
        chosen,
        config,
        gpus,
        node,
        per_device,
        accumulation,
        per_device * processes * accumulation,
        command,
        problems,
        needs,
        gpus_found=found,
        notes=notes,
    )


def _vllm_notes(values: Mapping[str, object], problems: list[str]) -> list[str]:
    """How generation runs for a GRPO recipe with vLLM (and the server to start in server mode)."""
    if not _has_module("vllm"):
        problems.append("vLLM is not installed: pip install vllm (the GRPO recipes generate with it).")
    if values.get("vllm_mode", "colocate") != "server":
        return [
            "generation: vLLM colocated in every training process "
            f"(gpu_memory_utilization {values.get('vllm_gpu_memory_utilization', 0.3)}, "
            f"tensor parallel {values.get('vllm_tensor_parallel_size', 1)})"
        ]
    model = values.get("model_name_or_path")
    return [
        "generation: a separate vLLM server; on its own node of 8 GPUs first run:",
        f"  trl vllm-serve --model {model} --tensor_parallel_size 4 --data_parallel_size 2 --port 8000",
        "then pass its address to every training node: -- --vllm_server_base_url http://<vllm host>:8000",
    ]


def make_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="viscoder2-train launch",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("recipe", nargs="?", help=f"recipe name ({', '.join(list_recipes())}) or YAML path")
    p.add_argument("--gpus", type=int, help="GPUs per node (default: counted with torch)")
    p.add_argument("--launcher", choices=LAUNCHERS, help="override the recipe's launcher")
    p.add_argument("--dry-run", action="store_true", help="print the plan and exit")
    p.add_argument(
        "--force", action="store_true", help="launch even with fewer GPUs than the recipe is sized for"
    )
    p.add_argument(
        "--config-path", metavar="LAUNCHER", help="print the path of a launcher's accelerate config and exit"
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args_in = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in args_in:
        cut = args_in.index("--")
        args_in, extra = args_in[:cut], args_in[cut + 1 :]
    args = make_parser().parse_args(args_in)
    if args.config_path:
        print(launcher_config_path(args.config_path))
        return 0
    if not args.recipe:
        print("Give a recipe: " + ", ".join(list_recipes()), file=sys.stderr)
        return 2
    plan = plan_launch(args.recipe, gpus=args.gpus, launcher=args.launcher, extra_args=extra)
    print(plan.describe(), flush=True)
    if args.dry_run:
        return 0
    blocking = [p for p in plan.problems if args.force is False or "no CUDA GPU" in p or "not installed" in p]
    if blocking:
        print(
            f"\nNot launching. {args.recipe} needs {plan.needs}.\nOn a machine that has them, run the command "
            "above (or `make train SIZE=...`); `--dry-run` shows the plan without this message.",
            file=sys.stderr,
        )
        return 2
    if plan.launcher == "cpu":
        import importlib

        importlib.import_module(plan.command[2]).run(plan.command[3:])
        return 0
    return subprocess.call(plan.command)


if __name__ == "__main__":
    sys.exit(main())
