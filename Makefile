# The two set-up commands of the README: `make demo` and `make test` (both install first).
.PHONY: install demo example-report test test-fast check lint typecheck bench

# The demo writes under runs/, which git ignores: `make demo` leaves `git status` clean.
DEMO_RUN := runs/default
DEMO_REPORT := runs/default-report

install:
	@scripts/install.sh

# The main job: the embedded default suite; its leaderboard is printed, and written as a report
# to $(DEMO_REPORT)/index.html.
demo: install
	.venv/bin/evals run --config default --out $(DEMO_RUN)
	.venv/bin/evals report $(DEMO_RUN) --out $(DEMO_REPORT)

# The committed example under reports/default/, rebuilt from the demo's run on this machine.
# Its figures depend on the CPU (bf16 numerics differ); the report names the hardware it ran on.
example-report: demo
	.venv/bin/evals report $(DEMO_RUN) --out reports/default

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
