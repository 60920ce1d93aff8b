"""Figures are declared once (evals/metrics/figures.py) and every output follows the declaration.

A throwaway figure (the prompt tokens per answer, which summary.json holds and no output
shows) is appended to the registry; it must appear in exactly the outputs it is declared for.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from synthetic_runs import RunWriter, outcomes, task_samples

from evals.metrics import figures, read_summary
from evals.metrics.figures import EVERYWHERE, Figure, Where, mean_over_tasks
from evals.report import Leaderboard, build_report
from evals.table import format_summary

THROWAWAY = Figure(
    key="zeta",
    field="prompt_tokens_per_answer",
    label="Zeta figure",
    terminal_label="zeta tok",
    format="tokens",
    direction="higher",
    aggregate=mean_over_tasks,
    shown_in=EVERYWHERE,
    definition=("zeta", "Throwaway: prompt tokens per answer."),
)


def outputs(run: Path, report: Path) -> dict[Where, str]:
    """The text of each output a figure can be shown in."""
    paths = build_report([run], report)
    return {
        "terminal": format_summary(read_summary(run / "summary.json")),
        "markdown": paths.markdown.read_text(encoding="utf-8"),
        "csv": paths.csv.read_text(encoding="utf-8"),
        "json": paths.json.read_text(encoding="utf-8"),
        "html": paths.index_html.read_text(encoding="utf-8"),
        "viewer": "".join(page.read_text(encoding="utf-8") for page in paths.sample_pages),
    }


def shows_throwaway(where: Where, text: str) -> bool:
    if where == "terminal":
        return "zeta tok" in text
    if where in ("markdown", "html"):
        return "Zeta figure" in text
    if where == "csv":
        return "prompt_tokens_per_answer" in text.splitlines()[0].split(",")
    if where == "json":
        return "zeta" in json.loads(text)["rows"][0]
    return "zeta figure 20" in text  # the viewer: lower-cased label and the task's value


@pytest.fixture
def run(make_run: RunWriter) -> Path:
    # Every sample has 20 prompt tokens (synthetic_runs.sample): the throwaway figure is 20.
    rows = task_samples("A", "task-a", outcomes(10, 7, ["no_answer"]))
    rows += task_samples("A", "task-b", outcomes(10, 5))
    rows += task_samples("B", "task-a", outcomes(10, 4))
    rows += task_samples("B", "task-b", outcomes(10, 6))
    return make_run("figures", rows)


@pytest.mark.parametrize("where", sorted(EVERYWHERE))
def test_a_declared_figure_appears_only_where_declared(
    where: Where, run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = outputs(run, tmp_path / "before")
    assert not any(shows_throwaway(w, text) for w, text in before.items())
    declared = Figure(**{**vars(THROWAWAY), "shown_in": frozenset({where})})
    monkeypatch.setattr(figures, "FIGURES", (*figures.FIGURES, declared))
    after = outputs(run, tmp_path / "after")
    assert {w for w, text in after.items() if shows_throwaway(w, text)} == {where}


def test_a_figure_declared_everywhere_has_its_cells_header_sort_and_definition(
    run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(figures, "FIGURES", (*figures.FIGURES, THROWAWAY))
    texts = outputs(run, tmp_path / "report")
    # summary.json holds the figure's field; the terminal table shows it after the declared ones.
    assert json.loads((run / "summary.json").read_text())[0]["prompt_tokens_per_answer"] == 20.0
    assert texts["terminal"].splitlines()[0].rstrip().endswith("no answer  zeta tok")
    table = list(csv.DictReader(io.StringIO(texts["csv"])))
    assert [row["prompt_tokens_per_answer"] for row in table] == ["20.0", "20.0"]
    data = json.loads(texts["json"])
    assert data["rows"][0]["zeta"] == {"value": 20.0, "display": "20", "ci_low": None, "ci_high": None,
                                       "runs": ["figures"]}  # fmt: skip
    assert data["rows"][0]["tasks"]["task-a"]["zeta"]["display"] == "20"
    assert data["definitions"]["zeta"] == "Throwaway: prompt tokens per answer."
    header = next(line for line in texts["markdown"].splitlines() if line.startswith("| Rank |"))
    first = next(line for line in texts["markdown"].splitlines() if line.startswith("| =1 | A |"))
    column = header.split(" | ").index("Zeta figure")
    assert first.split(" | ")[column] == "20"
    assert "- Throwaway: prompt tokens per answer." in texts["markdown"]
    # direction "higher": the column sorts the highest value first.
    assert (
        '<th scope="col" data-type="num-desc" aria-sort="none"><button type="button">Zeta figure<'
        in texts["html"]
    )
    assert '<li id="def-zeta">Throwaway: prompt tokens per answer.</li>' in texts["html"]
    # leaderboard.json loads back into the records, the figure with the others.
    board = Leaderboard.model_validate_json(texts["json"])
    assert list(board.rows[0].figures) == [figure.key for figure in figures.FIGURES]


@pytest.mark.parametrize(
    ("field", "interval"),
    [
        ("prompt_token_per_answer", None),  # a misspelt field
        ("cost_per_correct_usd", ("cost_per_correct_low", "cost_per_correct_ci_high")),  # a misspelt bound
    ],
)
def test_a_figure_must_name_summary_fields(field: str, interval: tuple[str, str] | None) -> None:
    with pytest.raises(ValueError, match="SummaryRow has no field"):
        Figure(**{**vars(THROWAWAY), "field": field, "interval": interval})


def test_terminal_and_report_show_a_figure_alike(make_run: RunWriter, tmp_path: Path) -> None:
    # One format per figure: 4,213 tokens read the same after `evals run` as in the report
    # (the terminal table printed 4213 before figures were declared once).
    run = make_run("long", task_samples("A", "task-a", outcomes(4, 2), tokens=4213))
    texts = outputs(run, tmp_path / "report")
    terminal_row = texts["terminal"].splitlines()[2].split()
    assert "4,213" in terminal_row and "4213" not in terminal_row
    assert json.loads(texts["json"])["rows"][0]["tokens_per_answer"]["display"] == "4,213"
