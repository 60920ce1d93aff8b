"""Scoring: extract the final answer from a model output and judge it against the gold.

Public face: ``split_reasoning``/``ReasoningSplit`` (think blocks are never scored),
``ScoreRequest``, ``Scorer`` (``score``, ``score_many``, ``close``), the answer-type
rules (``AnswerRule``, ``rule_for``; ``parse_gold`` -> ``ParsedGold``) and
``SCORER_VERSION``. Verdicts are ``evals.records.Verdict``.
"""

from evals.scoring.reasoning import ReasoningSplit, split_reasoning
from evals.scoring.rules import AnswerRule, ParsedGold, parse_gold, rule_for
from evals.scoring.scorer import SCORER_VERSION, Scorer, ScoreRequest

__all__ = [
    "SCORER_VERSION",
    "AnswerRule",
    "ParsedGold",
    "ReasoningSplit",
    "ScoreRequest",
    "Scorer",
    "parse_gold",
    "rule_for",
    "split_reasoning",
]
