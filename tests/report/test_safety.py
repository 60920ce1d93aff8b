"""Escaping and redaction: no model output can become markup, no GPQA text is published."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from synthetic_runs import RunWriter, outcomes, sample, task_samples

from evals.report import build_report
from evals.report.htmlkit import json_block, script_json
from evals.report.redact import placeholder, redact_samples, redacted_tasks
from evals.report.viewer import split_reasoning
from tests.conftest import BenchmarkData

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "text",
    [
        "</script><script>alert(1)</script>",  # source: the classic way out of an inline script
        "<!--<script>",  # source: HTML spec, 'script data double escaped' state
        "line\u2028separator\u2029paragraph",  # source: JSON is not a subset of old JavaScript
        "&lt; & &amp; > <",
        "</SCRIPT >",
    ],
)
def test_script_json_cannot_leave_its_block(text: str) -> None:
    encoded = script_json({"output": text})
    assert not set(encoded) & {"<", ">", "&", "\u2028", "\u2029"}
    assert json.loads(encoded) == {"output": text}
    block = json_block("data", [text])
    assert block.count("</script") == 1 and block.endswith("</script>")


@pytest.mark.parametrize(
    ("output", "reasoning", "expected"),
    [
        ("<think>a b</think> 42", None, ("a b", "42")),
        ("a b</think>42", None, ("a b", "42")),  # source: the prompt ended with <think> (R1 template)
        ("<think>never closed", None, ("never closed", "")),  # source: truncated inside reasoning
        ("plain 42", None, (None, "plain 42")),
        ("42", "separate field", ("separate field", "42")),  # source: a backend's reasoning field
    ],
)
def test_reasoning_is_split_from_the_answer(
    output: str, reasoning: str | None, expected: tuple[str | None, str]
) -> None:
    assert split_reasoning(output, reasoning) == expected


def test_no_output_becomes_markup_in_any_file(make_run: RunWriter, tmp_path: Path) -> None:
    payload = "</script><script>window.__xss=1</script><img src=x onerror=alert(1)></textarea>"
    rows = task_samples("m", "task-a", outcomes(3, 2))
    rows[0] = sample("m", "task-a", "task-a-000", output=payload, prompt=payload, extracted=payload)
    paths = build_report([make_run("r", rows)], tmp_path / "report")
    for path in (paths.index_html, paths.markdown, *paths.plots, *paths.sample_pages):
        text = path.read_text(encoding="utf-8")
        assert "<img" not in text and "<script>window" not in text and "</textarea>" not in text, path
    page = paths.sample_pages[0].read_text(encoding="utf-8")
    assert "\\u003cimg src=x onerror=alert(1)\\u003e" in page  # there, as escaped JSON
    assert page.count("<script") == 2  # the JSON block and the viewer
    assert "Content-Security-Policy" in page and "script-src &#x27;sha256-" in page


def gpqa_items(data: BenchmarkData, n: int = 5) -> list[dict[str, str]]:
    """The first GPQA items: synthetic ones in its schema (fixtures), or the real ones (full data)."""
    with (data.path / "gpqa_diamond" / "test.jsonl").open(encoding="utf-8") as handle:
        return [json.loads(line) for _, line in zip(range(n), handle, strict=False)]


def fragments(text: str, size: int) -> list[str]:
    """Plain-text windows of ``text`` that no escaping changes (so a leak is found verbatim)."""
    return [match[:size] for match in re.findall(rf"[A-Za-z0-9 ,.]{{{size},}}", text)]


def report_text(root: Path) -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in sorted(root.rglob("*")) if path.is_file())


@pytest.fixture
def gpqa_run(make_run: RunWriter, benchmark_data: BenchmarkData) -> tuple[Path, list[str], list[str]]:
    """GPQA items as a model sees and echoes them, beside an arithmetic task."""
    rows = []
    items = gpqa_items(benchmark_data)
    for index, item in enumerate(items):
        options = [item["Correct Answer"], item["Incorrect Answer 1"], item["Incorrect Answer 2"],
                   item["Incorrect Answer 3"]]  # fmt: skip
        prompt = item["Question"] + "\n" + "\n".join(f"{'ABCD'[i]}) {o}" for i, o in enumerate(options))
        output = f"<think>The question asks: {item['Question']}</think>So {options[1]}. Answer: B"
        rows.append(sample("m", "gpqa_diamond", item["Record ID"], "incorrect", prompt=prompt, output=output,
                           extracted="B", gold="A", choices=options))  # fmt: skip
        rows.append(
            sample("m", "arith", f"arith-{index}", prompt=f"What is {index} plus one hundred and seven?")
        )
    questions = [f for item in items for f in fragments(item["Question"], 30)]
    choices = [f for item in items for key in ("Correct Answer", "Incorrect Answer 1")
               for f in fragments(item[key], 12)]  # fmt: skip
    assert len(questions) >= 5 and len(choices) >= 2  # enough to detect a leak
    return make_run("gpqa-run", rows), questions, choices


def test_gpqa_text_never_reaches_a_published_file(
    gpqa_run: tuple[Path, list[str], list[str]], tmp_path: Path
) -> None:
    run, questions, choices = gpqa_run
    paths = build_report([run], tmp_path / "report")
    text = report_text(paths.root)
    assert [f for f in questions + choices if f in text] == []
    assert placeholder("gpqa_diamond") in text
    assert "plus one hundred and seven" in text  # other tasks keep their text by default
    assert paths.redacted_tasks == ("gpqa_diamond",) and paths.publishable
    # The same detector finds the text when redaction is off: the check above can fail.
    exposed = build_report([run], tmp_path / "exposed", redact_tasks=False)
    leaked = report_text(exposed.root)
    assert all(f in leaked for f in questions[:3]) and not exposed.publishable
    assert "task gpqa_diamond is not redacted: this report must not be published" in exposed.warnings


def test_redact_prompts_hides_every_task(gpqa_run: tuple[Path, list[str], list[str]], tmp_path: Path) -> None:
    run, questions, _ = gpqa_run
    paths = build_report([run], tmp_path / "report", redact_tasks=True)
    text = report_text(paths.root)
    assert "plus one hundred and seven" not in text and not any(f in text for f in questions)
    assert paths.redacted_tasks == ("arith", "gpqa_diamond")
    data = json.loads(paths.json.read_text(encoding="utf-8"))
    assert data["redacted_tasks"] == ["arith", "gpqa_diamond"] and data["publishable"] is True


def test_redaction_keeps_short_answers_and_missing_values() -> None:
    import pandas as pd

    rows = [sample("m", "gpqa_diamond", "q1", "incorrect", extracted="B", gold="A", reasoning=None),
            sample("m", "gpqa_diamond", "q2", "incorrect", extracted="x" * 40, gold="A"),
            sample("m", "gsm8k", "q3", prompt="keep me")]  # fmt: skip
    frame = pd.DataFrame(rows)
    hidden = redact_samples(frame, redacted_tasks(frame["task"], None))
    mark = placeholder("gpqa_diamond")
    assert list(hidden["prompt"]) == [mark, mark, "keep me"]
    assert list(hidden["output"])[:2] == [mark, mark]
    assert list(hidden["extracted"]) == ["B", mark, "1"] and list(hidden["gold"]) == ["A", "A", "1"]
    assert hidden["reasoning"].isna().all()  # nothing to hide stays nothing
    assert list(frame["prompt"])[0] != mark  # the input is not modified
