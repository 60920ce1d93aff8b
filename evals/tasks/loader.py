"""Load a task's items: from a local JSONL file, the Hugging Face Hub, or a generator.

``load_task("gsm8k", data_dir=Path("data"), limit=50)`` reads ``data/gsm8k/test.jsonl``
with the ``datasets`` json builder and returns the first 50 items in file order.
With ``data_dir=None`` the ``EVALS_DATA_DIR`` folder is used if set, else the Hub.
Every bad input ends in one ``EvalsError`` line that names the file, record and field.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from evals.errors import ConfigError, EvalsError
from evals.records import AnswerType, Item
from evals.tasks import generators
from evals.tasks.gold import TransformError, apply_transform
from evals.tasks.hub_access import hub_or_cache
from evals.tasks.registry import load_task_spec
from evals.tasks.spec import (
    HUB_SUBTASK_PLACEHOLDER,
    ColumnChoices,
    DatasetSpec,
    FieldMap,
    GeneratorSpec,
    InlineChoices,
    ListChoices,
    TaskSpec,
    spec_problems,
)

DATA_DIR_ENV = "EVALS_DATA_DIR"
# Written by ``evals data pull`` beside a file it took from the Hub: the file keeps the Hub
# copy's fields, so it is read with the Hub field map and loads the same items as the Hub.
PULLED_MARKER = "pulled-from-hub.json"
OFFLINE_HINT = "offline? pass --data-dir DIR with DIR/{local_file}"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_INLINE_OPTION = re.compile(r"^\(([A-Z])\)\s*(.*?)\s*$", re.MULTILINE)
_CHOICE_GOLD = re.compile(r"^\(?([A-Z])\)?$")

Record = dict[str, Any]


@dataclass(frozen=True)
class LoadedTask:
    """A task's spec with its items, where they came from and the seed that shaped them.

    ``seed`` is the generator seed or the option-shuffle seed actually used (None when
    neither applies); record it with the run so the same items can be rebuilt.
    """

    spec: TaskSpec
    items: tuple[Item, ...]
    source: str
    seed: int | None

    @property
    def name(self) -> str:
        return self.spec.name


def default_data_dir() -> Path | None:
    """The folder named by ``EVALS_DATA_DIR``, or None (then file-backed tasks use the Hub)."""
    value = os.environ.get(DATA_DIR_ENV)
    return Path(value) if value else None


def load_task(
    name_or_spec: str | TaskSpec,
    *,
    data_dir: Path | None = None,
    limit: int | None = None,
    seed: int | None = None,
    extra_dirs: Sequence[Path] = (),
) -> LoadedTask:
    """Load a task's items.

    ``limit`` keeps the first N items in file order (for a group, after selecting its
    subtask); a generated task is an unbounded stream whose first ``limit`` items are
    returned (``n_items`` of its spec when None). ``seed`` replaces the spec's recorded
    generator or shuffle seed; None keeps it, so every run sees the same items.
    """
    if limit is not None and limit <= 0:
        raise EvalsError(f"--limit must be a positive number of items, got {limit}")
    spec = _resolve_spec(name_or_spec, extra_dirs)
    if spec.generator is not None:
        return _generated(spec, spec.generator, limit, seed)
    assert spec.dataset is not None  # spec_problems guarantees one of the two
    data_dir = data_dir if data_dir is not None else default_data_dir()
    if data_dir is not None:
        path = data_dir / spec.dataset.local_file
        records, fields = _read_local(spec, path), _local_fields(spec.dataset, path)
        source = str(path)
    else:
        records, fields, source = read_hub(spec, spec.dataset)
    shuffle_seed = _shuffle_seed(spec.dataset, seed)
    items = _ItemBuilder(spec, spec.dataset, fields, shuffle_seed).items(records, limit)
    if not items:
        raise EvalsError(f"task {spec.name!r}: {source} holds no items")
    return LoadedTask(spec, items, source, shuffle_seed)


def _resolve_spec(name_or_spec: str | TaskSpec, extra_dirs: Sequence[Path]) -> TaskSpec:
    if isinstance(name_or_spec, str):
        return load_task_spec(name_or_spec, extra_dirs)
    problems = spec_problems(name_or_spec)
    if problems:
        raise ConfigError([f"task {name_or_spec.name}: {problem}" for problem in problems])
    return name_or_spec


def _generated(
    spec: TaskSpec, generator_spec: GeneratorSpec, limit: int | None, seed: int | None
) -> LoadedTask:
    generator = generators.get_generator(generator_spec.name)
    seed = generator_spec.seed if seed is None else seed
    answer_type = spec.answer_type_of(None)
    items = []
    for index in range(limit or generator_spec.n_items):
        problem = generator.generate(seed, generator_spec.level, index)
        items.append(Item(spec.name, f"s{seed}-{index:05d}", problem.question, problem.answer, answer_type))
    source = f"generated:{generator_spec.name}/{generator_spec.level}"
    return LoadedTask(spec, tuple(items), source, seed)


def _shuffle_seed(dataset: DatasetSpec, seed: int | None) -> int | None:
    choices = dataset.choices
    if isinstance(choices, ColumnChoices | ListChoices) and choices.shuffle_seed is not None:
        return choices.shuffle_seed if seed is None else seed
    return None


@contextmanager
def _quiet_datasets() -> Iterator[None]:
    """Hide datasets' progress bars and the Hub client's retry warnings while loading.

    Restores the caller's settings: a failed load ends in one error line, not a log.
    """
    import datasets
    import huggingface_hub.utils

    were_disabled = datasets.are_progress_bars_disabled()
    verbosity = datasets.logging.get_verbosity()
    hub_verbosity = huggingface_hub.utils.logging.get_verbosity()
    datasets.disable_progress_bars()
    datasets.logging.set_verbosity_error()
    huggingface_hub.utils.logging.set_verbosity_error()
    try:
        yield
    finally:
        huggingface_hub.utils.logging.set_verbosity(hub_verbosity)
        datasets.logging.set_verbosity(verbosity)
        if not were_disabled:
            datasets.enable_progress_bars()


def _local_fields(dataset: DatasetSpec, path: Path) -> FieldMap:
    """The local file's field map: the Hub copy's where ``evals data pull`` wrote the file."""
    if dataset.hub is not None and dataset.hub.fields and (path.parent / PULLED_MARKER).is_file():
        return dataset.hub.fields
    return dataset.fields


def _read_local(spec: TaskSpec, path: Path) -> list[tuple[str, Record]]:
    """(where, record) pairs of a JSONL file, read with the datasets json builder."""
    assert spec.dataset is not None
    if not path.is_file():
        raise EvalsError(
            f"task {spec.name!r}: data file {path} not found "
            f"(--data-dir DIR must hold DIR/{spec.dataset.local_file})"
        )
    import datasets

    with _quiet_datasets():
        try:
            rows = datasets.load_dataset("json", data_files=str(path), split="train").to_list()
        except Exception as error:  # the json builder raises many types; all mean "unreadable"
            message = f"task {spec.name!r}: cannot read {path}: {_first_line(error)}"
            raise EvalsError(message) from None
    return [(f"line {index + 1} of {path}", row) for index, row in enumerate(rows)]


def read_hub(
    spec: TaskSpec, dataset: DatasetSpec, offline_hint: str = OFFLINE_HINT
) -> tuple[list[tuple[str, Record]], FieldMap, str]:
    """Records from the Hub copy named in the spec (one config per subtask if templated).

    Returns (where, record) pairs, the field map they are read with, and the source.
    """
    hub = dataset.hub
    if hub is None:
        raise EvalsError(
            f"task {spec.name!r} has no Hub copy; pass --data-dir DIR with DIR/{dataset.local_file}"
        )
    import datasets

    configs: list[tuple[str | None, str | None]] = [(hub.name, None)]
    if hub.name == HUB_SUBTASK_PLACEHOLDER and dataset.subtasks is not None:
        configs = [(name, name) for name in dataset.subtasks.selected()]
    records: list[tuple[str, Record]] = []
    for config, subtask in configs:
        label = f"{hub.path}" + (f" ({config})" if config else "")
        with _quiet_datasets(), hub_or_cache():
            try:
                rows = datasets.load_dataset(hub.path, config, split=hub.split).to_list()
            except Exception as error:  # network, auth and schema errors all end the load
                raise EvalsError(
                    f"task {spec.name!r}: cannot load {label} split {hub.split!r} from the "
                    f"Hugging Face Hub: {_first_line(error)} "
                    f"({offline_hint.format(local_file=dataset.local_file)})"
                ) from None
        for index, row in enumerate(rows):
            if subtask is not None and dataset.subtasks is not None:
                row[dataset.subtasks.field] = subtask
            records.append((f"row {index} of {label}", row))
    return records, hub.fields or dataset.fields, f"hub:{hub.path}"


def _first_line(error: BaseException) -> str:
    cause = error.__cause__ or error
    text = str(cause).strip() or type(cause).__name__
    return text.splitlines()[0]


class _ItemBuilder:
    """Turns the records of one file (or Hub split) into Items, naming the record on errors."""

    def __init__(
        self,
        spec: TaskSpec,
        dataset: DatasetSpec,
        fields: FieldMap,
        shuffle_seed: int | None,
    ) -> None:
        self.spec, self.dataset, self.fields = spec, dataset, fields
        self.shuffle_seed = shuffle_seed

    def items(self, records: list[tuple[str, Record]], limit: int | None) -> tuple[Item, ...]:
        subtasks = self.dataset.subtasks
        selected = set(subtasks.selected()) if subtasks else set()
        positions: dict[str | None, int] = {}
        items: list[Item] = []
        seen: dict[str, str] = {}
        for where, record in records:
            subtask = self._subtask_of(where, record) if subtasks else None
            position = positions.get(subtask, 0)
            positions[subtask] = position + 1
            if subtasks and subtask not in selected:
                continue
            if limit is not None and len(items) >= limit:
                break
            item = self._item(where, record, position, subtask)
            if item.item_id in seen:
                raise self._error(where, f"item id {item.item_id!r} repeats {seen[item.item_id]}")
            seen[item.item_id] = where
            items.append(item)
        return tuple(items)

    def _item(self, where: str, record: Record, position: int, subtask: str | None) -> Item:
        fields = self.fields
        raw_question = self._value(where, record, fields.question)
        question = self._transform(where, fields.question, fields.question_transform, raw_question)
        item_id = self._item_id(where, record, position, subtask, question)
        answer_type = self.spec.answer_type_of(subtask)
        choices: tuple[str, ...] = ()
        if answer_type == "choice":
            gold, choices = self._choice_gold(where, record, question, item_id)
        else:
            assert fields.gold is not None  # spec_problems: only column choices omit it
            raw_gold = self._value(where, record, fields.gold)
            gold = self._transform(where, fields.gold, fields.gold_transform, raw_gold)
            self._check_gold(where, fields.gold, answer_type, gold)
        return Item(self.spec.name, item_id, question, gold, answer_type, choices, subtask)

    def _subtask_of(self, where: str, record: Record) -> str:
        assert self.dataset.subtasks is not None
        field = self.dataset.subtasks.field
        name = str(self._value(where, record, field))
        if name not in self.dataset.subtasks.members:
            raise self._error(where, f"field {field!r}: {name!r} is not a listed subtask")
        return name

    def _item_id(self, where: str, record: Record, position: int, subtask: str | None, question: str) -> str:
        if self.fields.id is not None:
            return str(self._value(where, record, self.fields.id)).strip()
        # No id in the data: position (within the subtask) plus a hash of the text, so
        # ids survive --limit and match between the local file and the Hub copy.
        digest = hashlib.sha1(question.encode()).hexdigest()[:8]
        return f"{subtask}-{position:04d}-{digest}" if subtask else f"{position:05d}-{digest}"

    def _choice_gold(
        self, where: str, record: Record, question: str, item_id: str
    ) -> tuple[str, tuple[str, ...]]:
        choices = self.dataset.choices
        if isinstance(choices, InlineChoices):
            return self._inline_gold(where, record, question, choices)
        if isinstance(choices, ColumnChoices):
            columns = (choices.correct, *choices.incorrect)
            options = [self._text(where, record, column) for column in columns]
            correct = 0
        else:
            assert isinstance(choices, ListChoices)
            options, correct = self._listed_options(where, record, choices)
        order = list(range(len(options)))
        if self.shuffle_seed is not None:
            generators.item_rng("shuffle", self.shuffle_seed, item_id).shuffle(order)
        return LETTERS[order.index(correct)], tuple(options[index] for index in order)

    def _listed_options(self, where: str, record: Record, choices: ListChoices) -> tuple[list[str], int]:
        value = self._value(where, record, choices.field)
        texts = value.get(choices.text_key) if isinstance(value, dict) else None
        labels = value.get(choices.label_key) if isinstance(value, dict) else None
        if not isinstance(texts, list) or not isinstance(labels, list) or len(texts) != len(labels):
            raise self._error(
                where,
                f"field {choices.field!r}: expected lists {choices.text_key!r} and "
                f"{choices.label_key!r} of equal length",
            )
        assert self.fields.gold is not None
        raw = self._value(where, record, self.fields.gold)
        gold = self._transform(where, self.fields.gold, self.fields.gold_transform, raw)
        labels = [str(label).strip() for label in labels]
        if gold not in labels:
            raise self._error(
                where, f"field {self.fields.gold!r}: {gold!r} is not one of the labels {labels}"
            )
        return [str(text).strip() for text in texts], labels.index(gold)

    def _inline_gold(
        self, where: str, record: Record, question: str, choices: InlineChoices
    ) -> tuple[str, tuple[str, ...]]:
        found = _INLINE_OPTION.findall(question)
        letters = "".join(letter for letter, _ in found)
        if not found or letters != LETTERS[: len(found)]:
            raise self._error(where, "question has no '(A) ...' option lines lettered in order")
        assert self.fields.gold is not None
        raw = self._value(where, record, self.fields.gold)
        gold = self._transform(where, self.fields.gold, self.fields.gold_transform, raw)
        match = _CHOICE_GOLD.match(gold)
        if match and match.group(1) in letters:
            gold = match.group(1)
        elif choices.unmatched_gold == "error":
            raise self._error(
                where, f"field {self.fields.gold!r}: {gold!r} names none of the options {letters}"
            )
        return gold, tuple(text for _, text in found)

    def _check_gold(self, where: str, field: str, answer_type: AnswerType, gold: str) -> None:
        if answer_type != "number":
            return
        try:
            Decimal(gold.replace(",", ""))
        except InvalidOperation:
            raise self._error(where, f"field {field!r}: {gold!r} is not a number") from None

    def _value(self, where: str, record: Record, field: str) -> Any:
        value = record.get(field)
        if value is None:
            raise self._error(where, f"missing field {field!r}")
        return value

    def _text(self, where: str, record: Record, field: str) -> str:
        return self._transform(where, field, "strip", self._value(where, record, field))

    def _transform(self, where: str, field: str, transform: str, value: object) -> str:
        try:
            return apply_transform(transform, value)
        except TransformError as error:
            raise self._error(where, f"field {field!r} ({transform}): {error}") from None

    def _error(self, where: str, message: str) -> EvalsError:
        return EvalsError(f"task {self.spec.name!r}: {where}: {message}")
