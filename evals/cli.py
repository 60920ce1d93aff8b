"""The ``evals`` command line: one sub-command per module in ``evals.commands``."""

from __future__ import annotations

import argparse
import importlib
import os
import re
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
    "data",
)


DESCRIPTION = (
    "Compare language models on reasoning benchmarks by accuracy and by cost per answer, with "
    "error bars. Start with 'evals run --config default'; 'evals COMMAND --help' tells more."
)

# Docstring markup that help pages show as plain text: ``code`` and :role:`target`.
_MARKUP = re.compile(r"``(.+?)``|:[a-z]+:`~?([^`]+)`", re.DOTALL)


def plain_text(text: str) -> str:
    """Help text without reStructuredText markup (command docstrings double as descriptions)."""
    return _MARKUP.sub(lambda match: match.group(1) or match.group(2), text)


class _OneLineParser(argparse.ArgumentParser):
    """Argument errors as one line on stderr and exit 2, like every other bad input.

    Help pages are plain text: the sub-commands' docstrings lose their markup.
    """

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"evals: error: {message} (see '{self.prog} --help')\n")

    def format_help(self) -> str:
        return plain_text(super().format_help())


def build_parser() -> argparse.ArgumentParser:
    parser = _OneLineParser(prog="evals", description=DESCRIPTION)
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
