"""Summary figures of an optional judge model, counted apart from the rules' figures.

- ``accuracy_with_judge``: the rules' verdicts, except where the judge decides (answers
  the rules marked no_answer or ambiguous, or incorrect with ``--judge-all-incorrect``)
  and its reply was parseable; an unparseable reply leaves the rules' verdict.
- ``judge_agreement``: over rule-decided answers (correct/incorrect) the judge also
  judged, the share where it agrees; ``n_judge_agreement`` says over how many.
- ``judge_cost_usd``: the judge's generations, priced like any generation (None when
  the price is unknown).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

EQUIVALENT, NOT_EQUIVALENT = "equivalent", "not_equivalent"


def judge_fields(group: pd.DataFrame) -> dict[str, Any]:
    """The judge's summary fields for the rows of one (model, task)."""
    verdict = group["judge_verdict"]
    parsed = verdict.isin((EQUIVALENT, NOT_EQUIVALENT))
    says_equal = verdict == EQUIVALENT
    decides = group["judge_decides"].fillna(False).astype(bool) & parsed
    rules = group["correct"].astype("boolean")
    with_judge = rules.mask(decides, says_equal.astype("boolean"))
    n_final = int(with_judge.notna().sum())
    rule_decided = group["status"].astype(str).isin(("correct", "incorrect")) & parsed
    agree = (says_equal[rule_decided] == rules[rule_decided].astype(bool)).sum()
    n_agreement = int(rule_decided.sum())
    seen = group["judge_model"].notna()
    costs = group.loc[seen, "judge_cost_usd"]
    models = sorted({str(m) for m in group.loc[seen, "judge_model"]})
    return {
        "judge_model": ", ".join(models) or None,
        "accuracy_with_judge": float(with_judge.fillna(False).sum()) / n_final if n_final else None,
        "n_judged_with_judge": n_final,
        "n_judge_decided": int(decides.sum()),
        "n_judge_unparseable": int((verdict == "unparseable").sum()),
        "judge_agreement": float(agree) / n_agreement if n_agreement else None,
        "n_judge_agreement": n_agreement,
        "judge_cost_usd": float(costs.sum()) if len(costs) and costs.notna().all() else None,
    }
