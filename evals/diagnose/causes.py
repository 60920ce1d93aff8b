"""Likely causes of a gap between our score and a published one, each with its numbers.

Every function looks at the samples of one model on one task. ``gap`` is published
minus ours (fractions); a cause "explains" the part of the gap it could account for at
most (same direction only, never more than the gap), or None when it cannot be put
in points (a protocol difference): those are ranked after the measured ones.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from evals.diagnose.lenient import lenient_correct
from evals.published import PublishedScoreSpec

UNJUDGED = ("gold_unparseable", "timeout", "error")


@dataclass(frozen=True)
class Cause:
    """One candidate explanation: ``explains`` in accuracy (0-1) at most, or None."""

    name: str  # protocol, truncation, extraction, unjudged, nondeterminism
    present: bool  # False: checked and ruled out (kept so readers see it was looked at)
    explains: float | None
    summary: str  # one line, with the numbers
    figures: Mapping[str, Any] = field(default_factory=dict)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _explained(gap: float, upside: float, downside: float = 0.0) -> float:
    """How much of ``gap`` a cause that could move our score up or down could close."""
    reach = upside if gap > 0 else downside
    return max(0.0, min(abs(gap), reach))


def _fmt(value: Any) -> str:
    return "not stated" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def protocol_cause(
    generation: Mapping[str, Any], max_tokens: int | None, published: PublishedScoreSpec
) -> Cause:
    """Decoding settings that differ from the published protocol (ours vs theirs)."""
    theirs = published.protocol
    ours = {
        "samples": generation.get("samples"),
        "temperature": generation.get("temperature"),
        "top_p": generation.get("top_p"),
        "max_tokens": max_tokens,
    }
    stated = {"samples": theirs.samples, "temperature": theirs.temperature, "top_p": theirs.top_p,
              "max_tokens": theirs.max_tokens}  # fmt: skip
    differences = {
        name: {"ours": ours[name], "published": value}
        for name, value in stated.items()
        if value is not None and ours[name] is not None and float(ours[name] or 0) != float(value)
    }
    parts = [f"{name} {_fmt(d['ours'])} vs {_fmt(d['published'])}" for name, d in differences.items()]
    prompt = f"; published prompt: {theirs.prompt}" if theirs.prompt else ""
    system = generation.get("system_prompt")
    ours_prompt = f"; our system prompt: {system!r}" if system else "; our prompt: the task template"
    unstated = [name for name, value in stated.items() if value is None]
    summary = ("; ".join(parts) if parts else "decoding settings match where stated") + prompt + ours_prompt
    if unstated:
        summary += f" (not stated by the source: {', '.join(unstated)})"
    return Cause(
        "protocol",
        present=bool(differences),
        explains=None,
        summary=summary,
        figures={
            "differences": differences,
            "published_prompt": theirs.prompt,
            "our_system_prompt": system,
            "not_stated": unstated,
        },  # fmt: skip
    )


def _judged(samples: pd.DataFrame) -> pd.DataFrame:
    return samples[samples["correct"].notna()]


def truncation_cause(samples: pd.DataFrame, gap: float) -> Cause:
    """Accuracy on answers that finished, and the bound if every truncated one had been right."""
    judged = _judged(samples)
    n_judged, n_correct = len(judged), int(judged["correct"].astype(bool).sum())
    n_truncated = int((judged["status"] == "truncated").sum())
    finished = judged[judged["status"] != "truncated"]
    accuracy = _share(n_correct, n_judged)
    on_finished = _share(int(finished["correct"].astype(bool).sum()), len(finished))
    bound = _share(n_correct + n_truncated, n_judged)
    upside = (bound or 0.0) - (accuracy or 0.0)
    rate = _share(n_truncated, n_judged)
    return Cause(
        "truncation",
        present=n_truncated > 0,
        explains=_explained(gap, upside),
        summary=f"{n_truncated} of {n_judged} answers cut at max_tokens ({_pct(rate)}); "
        f"accuracy on finished answers {_pct(on_finished)}; {_pct(bound)} if every truncated one were right",
        figures={
            "n_truncated": n_truncated,
            "n_judged": n_judged,
            "truncated_rate": rate,
            "accuracy_finished": on_finished,
            "accuracy_if_truncated_right": bound,
        },  # fmt: skip
    )


def extraction_cause(samples: pd.DataFrame, gap: float) -> Cause:
    """No-answer rate, and the score if a lenient reading found the gold in wrong answers."""
    judged = _judged(samples)
    n_judged, n_correct = len(judged), int(judged["correct"].astype(bool).sum())
    n_no_answer = int((judged["status"] == "no_answer").sum())
    wrong = judged[judged["status"].isin(["incorrect", "no_answer"])]
    rescued = sum(
        lenient_correct(
            str(output), str(gold), str(answer_type), [str(c) for c in (() if choices is None else choices)]
        )
        for output, gold, answer_type, choices in zip(
            wrong["output"], wrong["gold"], wrong["answer_type"], wrong["choices"], strict=True
        )
    )
    accuracy, lenient = _share(n_correct, n_judged), _share(n_correct + rescued, n_judged)
    return Cause(
        "extraction",
        present=n_no_answer > 0 or rescued > 0,
        explains=_explained(gap, (lenient or 0.0) - (accuracy or 0.0)),
        summary=f"no answer found in {n_no_answer} of {n_judged} ({_pct(_share(n_no_answer, n_judged))}); "
        f"lenient extraction finds the gold in {rescued} more: {_pct(lenient)} instead of {_pct(accuracy)}",
        figures={
            "n_no_answer": n_no_answer,
            "no_answer_rate": _share(n_no_answer, n_judged),
            "n_lenient_rescued": rescued,
            "accuracy_lenient": lenient,
        },  # fmt: skip
    )


def unjudged_cause(samples: pd.DataFrame, gap: float) -> Cause:
    """Answers left out of accuracy (gold unparseable, timeout, error): the range they allow."""
    n_all = len(samples)
    unjudged = samples[samples["status"].isin(UNJUDGED)]
    by_status = {str(k): int(v) for k, v in unjudged["status"].value_counts().items()}
    n_correct = int(_judged(samples)["correct"].astype(bool).sum())
    n_judged, n_unjudged = n_all - len(unjudged), len(unjudged)
    accuracy = _share(n_correct, n_judged)
    if_right, if_wrong = _share(n_correct + n_unjudged, n_all), _share(n_correct, n_all)
    explains = _explained(gap, (if_right or 0.0) - (accuracy or 0.0), (accuracy or 0.0) - (if_wrong or 0.0))
    counts = ", ".join(f"{n} {status}" for status, n in sorted(by_status.items())) or "none"
    return Cause(
        "unjudged",
        present=n_unjudged > 0,
        explains=explains if n_unjudged else 0.0,
        summary=f"{n_unjudged} of {n_all} answers unjudged ({counts}); counted right {_pct(if_right)}, "
        f"counted wrong {_pct(if_wrong)}",
        figures={
            "n_unjudged": n_unjudged,
            "by_status": by_status,
            "accuracy_if_right": if_right,
            "accuracy_if_wrong": if_wrong,
        },  # fmt: skip
    )


def rank_causes(causes: list[Cause]) -> tuple[Cause, ...]:
    """Measured causes by how much they explain, then unmeasured present ones, then ruled out."""

    def key(cause: Cause) -> tuple[int, float]:
        if cause.present and cause.explains:
            return (0, -cause.explains)
        if cause.present:
            return (1, 0.0)
        return (2, 0.0)

    return tuple(sorted(causes, key=key))
