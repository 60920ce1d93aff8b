"""evals/published.yaml as data: the shipped table loads, bad entries are refused all at once."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from evals.errors import ConfigError
from evals.published import SHIPPED_PUBLISHED, load_published, parse_published, standing

ALIASES = ("smollm2-135m", "deepseek-r1-distill-qwen-7b")
TASKS = ("gsm8k", "math500", "aime2024")
PROTOCOL = {"samples": 64, "temperature": 0.6, "top_p": 0.95, "max_tokens": 32768, "prompt": None}
GOOD = {
    "model": "deepseek-r1-distill-qwen-7b",
    "task": "math500",
    "metric": "accuracy",
    "protocol": PROTOCOL,
    "value": 92.8,
    "source": "DeepSeek-R1 model card, read 2026-12-01",
}


def test_shipped_table_loads_with_a_dated_source_for_every_entry() -> None:
    table = load_published()
    raw = yaml.safe_load(SHIPPED_PUBLISHED.read_text(encoding="utf-8"))
    assert len(table.entries) == len(raw) > 0
    # Source: the DeepSeek-R1 card's distilled table, 7B on MATH-500.
    entry = table.headline("deepseek-r1-distill-qwen-7b", "math500")
    assert entry is not None and entry.value == 92.8 and entry.protocol.samples == 64
    assert table.headline("smollm2-135m", "aime2024") is None


# (case, entry changes, expected problem fragments): one case per rule of the table.
BAD_ENTRIES: list[tuple[str, dict[str, Any], tuple[str, ...]]] = [
    ("no source", {"source": None}, ("entry 1: source",)),
    ("source without a date read", {"source": "somewhere"}, ("entry 1: source", "date")),
    (
        "unknown alias, close to a known one",
        {"model": "smollm2-135"},
        ("unknown alias 'smollm2-135'", "did you mean"),
    ),
    ("unknown task", {"task": "gsm9k"}, ("unknown task 'gsm9k'",)),
    ("percentage over 100", {"value": 140.0}, ("entry 1: value",)),
    ("unknown key", {"score": 3}, ("entry 1: score",)),
    ("other metric", {"metric": "pass@64"}, ("entry 1: metric",)),
]


@pytest.mark.parametrize(("case", "changes", "fragments"), BAD_ENTRIES, ids=[c[0] for c in BAD_ENTRIES])
def test_bad_entry_is_refused_naming_its_field(
    case: str, changes: dict[str, Any], fragments: tuple[str, ...]
) -> None:
    entry = {**GOOD, **changes}
    with pytest.raises(ConfigError) as error:
        parse_published([entry], "published.yaml", ALIASES, TASKS)
    for fragment in fragments:
        assert fragment in str(error.value), case


def test_every_problem_is_reported_at_once() -> None:
    entries = [GOOD, {**GOOD, "model": "nope"}, {**GOOD, "task": "nope", "source": ""}]
    with pytest.raises(ConfigError) as error:
        parse_published(entries, "published.yaml", ALIASES, TASKS)
    # Entry 3 has two problems: its unknown task is reported beside its schema error.
    assert [p.split(":")[1].strip() for p in error.value.problems] == ["entry 2", "entry 3", "entry 3"]


def test_a_broken_table_file_is_one_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "published.yaml"
    path.write_text("- model: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="malformed YAML"):
        load_published(path)


# (published fraction, CI, standing): ends of the interval count as inside.
STANDINGS = [
    (0.5, (0.4, 0.6), "inside"),
    (0.4, (0.4, 0.6), "inside"),
    (0.3, (0.4, 0.6), "below"),
    (0.7, (0.4, 0.6), "above"),
    (0.5, (None, None), None),
]


@pytest.mark.parametrize(("value", "ci", "expected"), STANDINGS)
def test_standing_against_our_ci(
    value: float, ci: tuple[float | None, float | None], expected: str | None
) -> None:
    assert standing(value, *ci) == expected
