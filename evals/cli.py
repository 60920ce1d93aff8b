"""The ``evals`` command line: one sub-command per module in ``evals.commands``."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from evals.errors import EvalsError

# Each module exposes ``register(subparsers)``; handlers import heavy packages lazily.
COMMAND_MODULES: tuple[str, ...] = (
    "run",
    "catalog",
    "models_cmd",
    "score",
    "rescore",
    "budgets",
    "extend",
    "check_backends",
    "submit",
    "compare",
    "report",
    "publish",
)


class _OneLineParser(argparse.ArgumentParser):
    """Argument errors as one line on stderr and exit 2, like every other bad input."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"evals: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(prog="evals", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_OneLineParser)
    for name in COMMAND_MODULES:
        importlib.import_module(f"evals.commands.{name}").register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except EvalsError as error:
        print(f"evals: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("evals: interrupted; rerun the same command to resume", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `evals models | head`: the reader left; nothing more to say
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
