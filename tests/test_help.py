"""``evals --help`` and every sub-command's help: plain text, and every option explained."""

from __future__ import annotations

import argparse
import re

import pytest

from evals.cli import build_parser, plain_text

# Markup that reStructuredText docstrings carry and a terminal shows raw.
RST = re.compile(r"``|:(?:class|func|mod|data|meth|attr):`")


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


def test_top_level_help_is_for_users() -> None:
    text = build_parser().format_help()
    assert not RST.search(text)
    # source: issue 10, the help showed "one sub-command per module in evals.commands"
    assert "evals.commands" not in text and "module" not in text


@pytest.mark.parametrize("name", sorted(_subcommands()))
def test_every_option_has_help_and_no_markup(name: str) -> None:
    parser = _subcommands()[name]
    undocumented = [
        action.option_strings or [action.dest]
        for action in parser._actions
        if not isinstance(action, argparse._HelpAction) and not action.help
    ]
    assert undocumented == []  # source: issue 10, --temperature, --top-p, --seed, --dtype had none
    assert not RST.search(parser.format_help())


@pytest.mark.parametrize(
    ("raw", "plain"),
    [
        ("``evals run``: evaluate models", "evals run: evaluate models"),
        (
            "see :func:`evals.metrics.summarize` and :class:`~evals.suite.Suite`",
            "see evals.metrics.summarize and evals.suite.Suite",
        ),
        ("a `single` backtick stays", "a `single` backtick stays"),
    ],
)
def test_plain_text_drops_rst_markup(raw: str, plain: str) -> None:
    assert plain_text(raw) == plain
