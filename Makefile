# The two set-up commands of the README: `make demo` and `make test` (both install first).
.PHONY: install demo test test-fast check lint typecheck bench

install:
	@scripts/install.sh

# The main job: the embedded default suite; its leaderboard is printed and written to reports/default.
demo: install
	.venv/bin/evals run --config default --out runs/default
	.venv/bin/evals report runs/default --out reports/default

test: install
	.venv/bin/python -m pytest -q

test-fast: install
	.venv/bin/python -m pytest -q -m "not vllm and not ray and not browser"

lint:
	.venv/bin/ruff check evals tests bench
	.venv/bin/ruff format --check evals tests bench

typecheck:
	.venv/bin/mypy

check: install lint typecheck
