# Entry points; every target installs what it needs first (idempotent, seconds when present).
VENV ?= .venv
PY := $(VENV)/bin/python
VPB := $(VENV)/bin/visplotbench

.PHONY: install run test check bench-render train space publish-space

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

test: install
	$(PY) -m pytest -q

check: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

bench-render: install
	$(PY) benchmarks/bench_render.py

# Fine-tune VisCoder2: SIZE=tiny trains on this machine's CPU (about a minute); SIZE=3b|7b|14b|32b|7b-lora
# launch accelerate (DeepSpeed ZeRO-3 for the full fine-tunes) on the GPUs present, or print the plan and
# what it needs when there are none. Extra sft flags: `make train SIZE=7b ARGS="--num_train_epochs 1"`.
SIZE ?= tiny
ARGS ?=
train: install
	$(VENV)/bin/viscoder2-train launch $(SIZE) $(if $(strip $(ARGS)),-- $(ARGS))

# The VisCoder2 Space (spaces/viscoder2) on http://127.0.0.1:7860 (VISCODER2_PORT=... to change it).
# A model: VISCODER2_BASE_URL=http://host:8000/v1 VISCODER2_MODEL=<name> make space (see its README).
space: install
	GRADIO_ANALYTICS_ENABLED=False HF_HUB_DISABLE_TELEMETRY=1 $(PY) spaces/viscoder2/app.py

# Upload the Space to the Hub as a Docker Space: make publish-space SPACE_REPO=<user>/viscoder2 (HF_TOKEN set).
SPACE_REPO ?=
publish-space: install
	$(PY) spaces/viscoder2/publish.py --repo-id $(SPACE_REPO)
