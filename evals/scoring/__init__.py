"""Scoring: extract the final answer from a model output and judge it against the gold.

Public face: ``split_reasoning``/``ReasoningSplit`` (think blocks are never scored),
``ScoreRequest``, ``Scorer`` (``score``, ``score_many``, ``close``), ``parse_gold`` and
``SCORER_VERSION``. Verdicts are ``evals.records.Verdict``.
"""

from evals.scoring.judges import parse_gold
from evals.scoring.reasoning import ReasoningSplit, split_reasoning
from evals.scoring.scorer import SCORER_VERSION, Scorer, ScoreRequest

__all__ = [
    "SCORER_VERSION",
    "ReasoningSplit",
    "ScoreRequest",
    "Scorer",
    "parse_gold",
    "split_reasoning",
]
