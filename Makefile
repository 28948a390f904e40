# Entry points; every target installs what it needs first (idempotent, seconds when present).
VENV ?= .venv
PY := $(VENV)/bin/python
VPB := $(VENV)/bin/visplotbench

.PHONY: install run test test-fast check bench-render bench-run bench-stops bench-pipeline train dataset space publish-space

install:
	bash scripts/install.sh

# The benchmark on built-in defaults: check the machine, then run VisPlotBench on the bundled tasks with
# MODEL (default: the gold backend, which replays every reference solution), K self-debug rounds.
# `make run MODEL=openai:gpt-4.1` (OPENAI_API_KEY set) or MODEL=transformers:/path/to/checkpoint.
MODEL ?= gold
K ?= 3
RUN_DIR ?= runs/$(subst :,_,$(subst /,_,$(MODEL)))
run: install
	-$(VPB) doctor
	$(VPB) run --model $(MODEL) --languages all --self-debug $(K) --out $(RUN_DIR) --resume

# The whole suite (what CI runs). `make test-fast` leaves out the tests marked slow (real benchmark runs,
# training, every timeout and hostile-program case): minutes instead of the full run, for development.
test: install
	$(PY) -m pytest -q

test-fast: install
	$(PY) -m pytest -q -m "not slow"

check: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench-render: install
	$(PY) benchmarks/bench_render.py

# Cold gold runs with misbehaving programs: 120 programs (12 valid + 3 broken per language), median
# of 3; BENCH_RUN_ARGS="--set valid" for the 96 valid ones, "--set paper888" for 888 tasks.
BENCH_RUN_ARGS ?=
bench-run: install
	$(PY) benchmarks/bench_run.py $(BENCH_RUN_ARGS)

# Build VisCode-Multi from real programs fetched from the package registries (PyPI sdists, Debian
# documentation packages, npm), verified by the render engine, into ./viscode-multi (the Hub layout:
# `datasets.load_dataset("viscode-multi")`). Resumable: run it again after a crash or kill.
# DATASET_ARGS caps the slow renderers' candidates so a 2-core machine finishes in about an hour;
# `make dataset DATASET_ARGS=` reads everything. See viscode_multi/README.md for endpoints, Ray, Slurm.
DATASET_OUT ?= viscode-multi
DATASET_WORK ?= runs/viscode-multi-work
DATASET_ARGS ?= --language-cap latex=800 --language-cap lilypond=700
dataset: install
	$(VENV)/bin/viscode-multi build --out $(DATASET_OUT) --work $(DATASET_WORK) $(DATASET_ARGS)

bench-pipeline: install
	$(PY) benchmarks/bench_pipeline.py

# How fast each language's limits stop a hostile job, and how soon the next job renders (the timings
# the tests no longer assert: they belong to benchmarks on a shared machine).
bench-stops: install
	$(PY) benchmarks/bench_stops.py

# Fine-tune VisCoder2: SIZE=tiny trains on this machine's CPU (about a minute); SIZE=3b|7b|14b|32b|7b-lora
# launch accelerate (DeepSpeed ZeRO-3 for the full fine-tunes) on the GPUs present, or print the plan and
# what it needs when there are none. Extra sft flags: `make train SIZE=7b ARGS="--num_train_epochs 1"`.
# DATA=viscode-multi trains on the folder `make dataset` built (any dataset name or folder works).
# RECIPE=grpo: reinforcement learning with the render engine as reward (recipe grpo-$(SIZE): tiny, 7b, 32b).
SIZE ?= tiny
RECIPE ?=
ARGS ?=
DATA ?=
TRAIN_ARGS = $(strip $(if $(DATA),--dataset_name $(DATA)) $(ARGS))
train: install
	$(VENV)/bin/viscoder2-train launch $(if $(strip $(RECIPE)),$(RECIPE)-)$(SIZE) $(if $(TRAIN_ARGS),-- $(TRAIN_ARGS))

# The VisCoder2 Space (spaces/viscoder2) on http://127.0.0.1:7860 (VISCODER2_PORT=... to change it).
# A model: VISCODER2_BASE_URL=http://host:8000/v1 VISCODER2_MODEL=<name> make space (see its README).
space: install
	GRADIO_ANALYTICS_ENABLED=False HF_HUB_DISABLE_TELEMETRY=1 $(PY) spaces/viscoder2/app.py

# Upload the Space to the Hub as a Docker Space: make publish-space SPACE_REPO=<user>/viscoder2 (HF_TOKEN set).
SPACE_REPO ?=
publish-space: install
	$(PY) spaces/viscoder2/publish.py --repo-id $(SPACE_REPO)
