"""How far two backends agree on the same greedy prompts: identical outputs, accuracy difference.

Greedy decoding is deterministic per backend, so any difference comes from the
backends themselves (kernels, dtype, batching numerics, prompt rendering, stopping).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from evals.records import Completion, Item


@dataclass(frozen=True)
class BackendScore:
    name: str
    judged: int  # samples with a verdict (failed generations and unscorable golds excluded)
    correct: int

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.judged if self.judged else None


@dataclass(frozen=True)
class FirstDifference:
    item_id: str
    char: int  # index of the first character where the outputs differ


@dataclass(frozen=True)
class PromptOutcome:
    """One prompt as each backend answered it: output text and verdict (None: not judged)."""

    item_id: str
    outputs: tuple[str, str]
    finish_reasons: tuple[str | None, str | None]
    correct: tuple[bool | None, bool | None]


@dataclass(frozen=True)
class Agreement:
    """The comparison of backend ``a`` and backend ``b`` on the same prompts."""

    a: BackendScore
    b: BackendScore
    n_prompts: int
    identical_outputs: int
    identical_prompts: int  # same rendered prompt text (a backend rendering differently shows here)
    mean_shared_prefix: float | None  # mean fraction of the longer output that both start with
    first_difference: FirstDifference | None
    prompts: tuple[PromptOutcome, ...] = ()  # per prompt, for checking the counts above

    @property
    def identical_fraction(self) -> float | None:
        return self.identical_outputs / self.n_prompts if self.n_prompts else None

    @property
    def accuracy_difference(self) -> float | None:
        """Accuracy of ``b`` minus accuracy of ``a``; None when either is undefined."""
        if self.a.accuracy is None or self.b.accuracy is None:
            return None
        return self.b.accuracy - self.a.accuracy


def shared_prefix(first: str, second: str) -> int:
    """Length of the longest common prefix."""
    for index, (x, y) in enumerate(zip(first, second, strict=False)):
        if x != y:
            return index
    return min(len(first), len(second))


def compare_outputs(
    names: tuple[str, str],
    outputs: tuple[Sequence[Completion], Sequence[Completion]],
    verdicts: tuple[Mapping[str, bool | None], Mapping[str, bool | None]],
    items: Sequence[Item],
) -> Agreement:
    """Compare per item (sample 0 of each backend); ``verdicts`` map item id -> correct."""
    by_item = [{c.key.item_id: c for c in completions} for completions in outputs]
    ids = [item.item_id for item in items if all(item.item_id in side for side in by_item)]
    identical = prompts_same = 0
    prefixes: list[float] = []
    first: FirstDifference | None = None
    for item_id in ids:
        left, right = by_item[0][item_id], by_item[1][item_id]
        prompts_same += left.prompt_text == right.prompt_text
        if left.output == right.output:
            identical += 1
        elif first is None:
            first = FirstDifference(item_id, shared_prefix(left.output, right.output))
        longest = max(len(left.output), len(right.output))
        prefixes.append(shared_prefix(left.output, right.output) / longest if longest else 1.0)
    scores = tuple(
        BackendScore(
            name,
            judged=sum(verdict.get(i) is not None for i in ids),
            correct=sum(verdict.get(i) is True for i in ids),
        )
        for name, verdict in zip(names, verdicts, strict=True)
    )
    return Agreement(
        a=scores[0],
        b=scores[1],
        n_prompts=len(ids),
        identical_outputs=identical,
        identical_prompts=prompts_same,
        mean_shared_prefix=sum(prefixes) / len(prefixes) if prefixes else None,
        first_difference=first,
        prompts=tuple(
            PromptOutcome(
                item_id,
                (by_item[0][item_id].output, by_item[1][item_id].output),
                (by_item[0][item_id].finish_reason, by_item[1][item_id].finish_reason),
                (verdicts[0].get(item_id), verdicts[1].get(item_id)),
            )
            for item_id in ids
        ),
    )
