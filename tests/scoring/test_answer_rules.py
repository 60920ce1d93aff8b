"""The answer-type rules: one per named type, registered once, each declaring its statuses."""

from __future__ import annotations

import pytest

from evals.probes import DEFAULT_CLOSING
from evals.records import ANSWER_TYPES, Status
from evals.scoring import Scorer, ScoreRequest, rule_for
from evals.scoring.rules import NUMBER, RULES, _register


def test_every_named_answer_type_has_one_rule() -> None:
    assert sorted(RULES) == sorted(ANSWER_TYPES)
    for answer_type, rule in RULES.items():
        assert rule.answer_type == answer_type
        assert rule.no_answer_reason
        assert {Status.CORRECT, Status.INCORRECT, Status.NO_ANSWER} <= rule.statuses
    assert sorted(DEFAULT_CLOSING) == sorted(ANSWER_TYPES), "every answer type has a probe closing"


def test_a_second_rule_for_a_type_is_refused() -> None:
    with pytest.raises(ValueError, match="already has a rule"):
        _register(NUMBER)


# (answer type, what the error names): source: a task spec or request with a typo.
UNKNOWN = [("numbr", "unknown answer type 'numbr'"), ("", "unknown answer type ''")]


@pytest.mark.parametrize(("answer_type", "message"), UNKNOWN)
def test_an_unknown_answer_type_is_named(answer_type: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        rule_for(answer_type)
    with Scorer() as scorer, pytest.raises(ValueError, match=message):
        scorer.score(ScoreRequest(output="The answer is 4.", gold="4", answer_type=answer_type))  # type: ignore[arg-type]
