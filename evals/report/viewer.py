"""Sample viewer: one page per model x task to read every answer and find extraction errors.

The first ~1 MB of samples travels as JSON in a ``<script type="application/json">``
block, so the first screen shows at once; the rest (a run of reasoning-length
outputs is tens of MB per page) follows in data files of the same size beside the
page, ``<slug>.data/NNN.js``, which ``viewer.js`` loads one after the other with
``<script>`` elements (``fetch`` of a local file is refused under ``file://``), from the
page's load event on, so that they never delay it. The report reads each page's texts
from its run alone (``read_group`` of :func:`sample_pages`): memory stays one page's worth.
``viewer.js`` renders one page of rows at a time with DOM APIs and ``textContent``,
so no output is ever parsed as HTML, and filters and search cover the rows loaded so far.

An item is a *disagreement* when the models that answered it judged differ in
their accuracy on it (the share of their judged samples that are correct): for
one sample per item, some model is right and another wrong.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from evals.metrics.figures import figures_shown_in
from evals.report import htmlkit
from evals.report.htmlkit import esc
from evals.report.leaderboard import Leaderboard, TaskResult
from evals.report.redact import placeholder

COLUMNS = (
    "item",
    "sample",
    "status",
    "answer",
    "reasoning",
    "extracted",
    "gold",
    "tokens",
    "finish",
    "reason",
    "subtask",
    "error",
)


@dataclass(frozen=True)
class ItemVotes:
    """Per item of one task: each model's (correct, judged) sample counts, and disagreement."""

    votes: dict[str, list[list[int]]]  # item_id -> [[model index, correct, judged], ...]
    disagree: frozenset[str]


def split_reasoning(output: str, reasoning: str | None) -> tuple[str | None, str]:
    """(reasoning, answer): a separate reasoning field, else the ``<think>`` part of the output."""
    if reasoning:
        return reasoning, output
    close = output.rfind("</think>")
    if close >= 0:
        thought = output[:close]
        start = thought.find("<think>")
        return thought[start + len("<think>") if start >= 0 else 0 :].strip(), output[close + 8 :].strip()
    stripped = output.lstrip()
    if stripped.startswith("<think>"):  # never closed: the answer was cut inside its reasoning
        return stripped[len("<think>") :].strip(), ""
    return None, output


# The last user turn of a rendered prompt: ChatML (SmolLM2, Qwen), Llama 3, or the transcript
# of a served model's messages ("[user]\n..."; see evals.generation.chat_reply).
_USER_TURN = (
    re.compile(r"<\|im_start\|>user\n(.*?)<\|im_end\|>", re.DOTALL),
    re.compile(r"<\|start_header_id\|>user<\|end_header_id\|>\n\n(.*?)<\|eot_id\|>", re.DOTALL),
    re.compile(r"(?:^|\n\n)\[user\]\n(.*?)(?=\n\n\[(?:system|assistant)\]\n|\Z)", re.DOTALL),
)


def question_of(prompt: str | None) -> str | None:
    """What a sample card shows: the user's message of the prompt, without system prompt and chat markup.

    A prompt in no known chat format is shown whole.
    """
    if prompt is None:
        return None
    for pattern in _USER_TURN:
        turns = pattern.findall(prompt)
        if turns:
            return str(turns[-1]).strip()
    return prompt


def _text(value: Any) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return str(value)


def item_votes(task_samples: pd.DataFrame, models: list[str]) -> ItemVotes:
    """Judged and correct samples per item and model of one task."""
    frame = task_samples[["item_id", "model"]].assign(
        judged=task_samples["correct"].notna(), right=task_samples["correct"].fillna(False).astype(bool)
    )
    counts = frame.groupby(["item_id", "model"], sort=True)[["right", "judged"]].sum()
    index = {model: i for i, model in enumerate(models)}
    votes: dict[str, list[list[int]]] = {}
    shares: dict[str, set[float]] = {}
    for (item, model), right, judged in zip(counts.index, counts["right"], counts["judged"], strict=True):
        votes.setdefault(str(item), []).append([index[str(model)], int(right), int(judged)])
        if judged > 0:
            shares.setdefault(str(item), set()).add(round(int(right) / int(judged), 9))
    return ItemVotes(votes, frozenset(item for item, seen in shares.items() if len(seen) > 1))


# Sample columns in the order of the viewer's COLUMNS (the prompt is kept apart, once per item).
_SOURCE_COLUMNS = ("item_id", "sample_idx", "status", "output", "reasoning", "extracted", "gold",
                   "completion_tokens", "finish_reason", "reason", "subtask", "error")  # fmt: skip


def _viewer_row(values: tuple[Any, ...]) -> list[Any]:
    """One sample as the viewer's array: the output split into answer and reasoning."""
    item, idx, status, output, reasoning, extracted, gold, tokens, *rest = values
    thought, answer = split_reasoning(_text(output) or "", _text(reasoning))
    count = None if _text(tokens) is None else int(tokens)
    head = [str(item), int(idx), str(status), answer, thought, _text(extracted), _text(gold), count]
    return head + [_text(value) for value in rest]


def _questions(prompts: Mapping[str, str | None]) -> dict[str, str | None]:
    """The question of each item; None where it is the whole prompt (the viewer shows the prompt)."""
    out = {}
    for item, prompt in prompts.items():
        question = question_of(prompt)
        out[item] = None if question == prompt else question
    return out


def page_data(
    model: str, task: str, samples: pd.DataFrame, votes: ItemVotes, models: list[str], redacted: bool
) -> dict[str, Any]:
    """The JSON the viewer renders: rows as arrays (see COLUMNS), prompts once per item."""
    ordered = samples.sort_values(["item_id", "sample_idx"], kind="stable")
    rows = [
        _viewer_row(values) for values in zip(*(ordered[c].tolist() for c in _SOURCE_COLUMNS), strict=True)
    ]
    prompts: dict[str, str | None] = {}
    for item, prompt in zip(ordered["item_id"].tolist(), ordered["prompt"].tolist(), strict=True):
        prompts.setdefault(str(item), _text(prompt))
    return {
        "model": model,
        "task": task,
        "redacted": placeholder(task) if redacted else None,
        "models": models,
        "columns": list(COLUMNS),
        "rows": rows,
        "prompts": prompts,
        # None where the question is the whole prompt (the viewer then shows the prompt).
        "questions": {
            item: None if question_of(prompt) == prompt else question_of(prompt)
            for item, prompt in prompts.items()
        },
        "votes": {item: votes.votes.get(item, []) for item in prompts},
        "disagree": sorted(item for item in prompts if item in votes.disagree),
    }


def _figures_phrase(result: TaskResult) -> str:
    """The figures the viewer shows, each after its label ("; tokens/answer 35; truncated 9.4%")."""
    parts = [f"{f.label.lower()} {esc(result.figures[f.key].display)}" for f in figures_shown_in("viewer")]
    if not parts:
        return ""
    # The first figure ends the run's line, the others share the next one.
    return f"; {parts[0]}" + (";\n" + "; ".join(parts[1:]) if parts[1:] else "")


# JSON characters of samples per data file: the page's first screen, and each file loaded after it.
CHUNK_CHARS = 1_000_000
_ITEM_KEYS = ("prompts", "questions", "votes")


def _row_chars(row: list[Any]) -> int:
    """About the JSON length of a row, without serializing it."""
    return 16 * len(row) + sum(len(value) for value in row if isinstance(value, str))


def split_chunks(data: dict[str, Any], chunk_chars: int = CHUNK_CHARS) -> list[dict[str, Any]]:
    """The rows of ``page_data`` in pieces of about ``chunk_chars``, each with its new items' data.

    Rows are ordered by item, so each item's prompt travels with the first piece that shows it.
    """
    chunks: list[dict[str, Any]] = []
    size = chunk_chars
    for row in data["rows"]:
        if size >= chunk_chars:
            chunks.append({"rows": [], **{key: {} for key in _ITEM_KEYS}})
            size = 0
        chunk, item = chunks[-1], row[0]
        chunk["rows"].append(row)
        size += _row_chars(row)
        if not any(item in other["prompts"] for other in chunks[-2:]):  # rows of an item are adjacent
            for key in _ITEM_KEYS:
                chunk[key][item] = data[key].get(item)
            size += len(data["prompts"].get(item) or "")
    return chunks or [{"rows": [], **{key: {} for key in _ITEM_KEYS}}]


def page_files(slug: str, data: dict[str, Any]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The page's JSON (with the first chunk of rows) and its data files as (name, JS) pairs."""
    chunks = split_chunks(data)
    statuses: dict[str, int] = {}
    for row in data["rows"]:
        statuses[row[2]] = statuses.get(row[2], 0) + 1
    names = [f"{slug}.data/{index:03d}.js" for index in range(1, len(chunks))]
    head = {key: value for key, value in data.items() if key not in ("rows", *_ITEM_KEYS)}
    inline = {**head, **chunks[0], "n_rows": len(data["rows"]), "statuses": statuses, "chunk_files": names}
    files = [
        (name, f"evalsViewerChunk({htmlkit.script_json(chunk)});\n")
        for name, chunk in zip(names, chunks[1:], strict=True)
    ]
    return inline, files


def render_page(result: TaskResult, model: str, data: dict[str, Any], siblings: Mapping[str, str]) -> str:
    """One model x task page; ``siblings`` maps the other models to their page of this task."""
    others = " ".join(
        f'<a href="{esc(href.removeprefix("samples/"))}">{esc(name)}</a>' for name, href in siblings.items()
    )
    body = f"""<header><p><a href="../index.html">&larr; Leaderboard</a></p>
<h1>{esc(model)} <span class="muted">on</span> {esc(result.task)}</h1>
<p>Accuracy {esc(result.accuracy.display)} over {result.n_items} items, {result.n_samples} samples
({result.n_unscored} not judged); run {esc(result.run)}{_figures_phrase(result)}.</p>
{
        f'<p class="note">{esc(data["redacted"])}: prompts, choices and outputs are not published.</p>'
        if data["redacted"]
        else ""
    }
<p>Other models on this task: {others or "none"}</p></header>
<form id="filters" class="filters" autocomplete="off">
<fieldset id="status-filter"><legend>Status</legend></fieldset>
<label>Models <select id="agreement"><option value="all">all items</option>
<option value="disagree">disagree on the item</option>
<option value="agree">agree on the item</option></select></label>
<label>Search <input id="search" type="search" placeholder="item id, answer, output"></label>
</form>
<nav class="pager"><button type="button" id="prev">&larr; Previous</button>
<span id="count" aria-live="polite"></span><button type="button" id="next">Next &rarr;</button></nav>
<ol id="samples" class="samples"></ol>
<noscript><p>The sample viewer needs JavaScript.</p></noscript>"""
    return htmlkit.page(
        f"{model} on {result.task}: samples",
        body,
        scripts=[htmlkit.asset("viewer.js")],
        data_blocks=[htmlkit.json_block("samples-data", data)],
        script_files=bool(data.get("chunk_files")),
    )


def sample_pages(
    board: Leaderboard,
    samples: pd.DataFrame,
    read_group: Callable[[str, str], pd.DataFrame] | None = None,
) -> Iterator[tuple[str, str]]:
    """(relative path, text) of every model x task page (``.html``) and of its data files (``.js``).

    ``read_group(model, task)``: that page's samples with their texts, when ``samples`` has
    only the columns the votes need (a run of reasoning-length outputs does not fit in memory).
    """
    results = {(row.model, task): result for row in board.rows for task, result in row.tasks.items()}
    for task, task_samples in samples.groupby("task", sort=True):
        models = sorted(map(str, task_samples["model"].unique()))
        votes = item_votes(task_samples, models)
        pages = {m: results[(m, str(task))].samples_page for m in models if (m, str(task)) in results}
        redacted = str(task) in board.redacted_tasks
        for model, group in task_samples.groupby("model", sort=True):
            result = results.get((str(model), str(task)))
            if result is None:
                continue
            if read_group is not None:
                group = read_group(str(model), str(task))
            data = page_data(str(model), str(task), group, votes, models, redacted)
            siblings = {m: href for m, href in pages.items() if m != model}
            slug = result.samples_page.removeprefix("samples/").removesuffix(".html")
            inline, files = page_files(slug, data)
            for name, script in files:
                yield f"samples/{name}", script
            yield result.samples_page, render_page(result, str(model), inline, siblings)
