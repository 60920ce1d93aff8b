"""Task specs: what a benchmark is, as data read from ``tasks/<name>.yaml``.

YAML is parsed with ``yaml.safe_load`` into frozen pydantic models that reject
unknown keys; nothing in a spec is executed. ``parse_task_file`` reports every
problem of a file at once, each as ``file: field: message``. Importing this module
does not import ``datasets`` or an engine, so a whole suite validates in milliseconds.
"""

from __future__ import annotations

import string
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    PositiveInt,
    ValidationError,
    field_validator,
    model_validator,
)

from evals.errors import ConfigError, EvalsError, closest
from evals.records import AnswerType
from evals.tasks import generators
from evals.tasks.gold import TRANSFORMS

# Placeholders a prompt template may use; the choice ones only for multiple choice.
TEMPLATE_FIELDS = ("question", "choices_block", "letters", "subtask")
CHOICE_TEMPLATE_FIELDS = ("choices_block", "letters")
HUB_SUBTASK_PLACEHOLDER = "{subtask}"


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldMap(_Spec):
    """Which record fields hold the item id, question and gold answer, and how to read them."""

    question: str
    gold: str | None = None  # None only where the choices spec derives the gold (columns)
    id: str | None = None  # None: ids are "<index>-<hash of question>"
    question_transform: str = "strip"
    gold_transform: str = "strip"

    @field_validator("question_transform", "gold_transform")
    @classmethod
    def _known_transform(cls, name: str) -> str:
        if name not in TRANSFORMS:
            raise ValueError(f"unknown transform {name!r}; known: {', '.join(TRANSFORMS)}")
        return name


class ColumnChoices(_Spec):
    """Options in separate columns with the correct one first (GPQA); shuffled per item."""

    kind: Literal["columns"]
    correct: str
    incorrect: tuple[str, ...] = Field(min_length=1)
    shuffle_seed: int


class ListChoices(_Spec):
    """Options in a ``{text: [...], label: [...]}`` field; gold names a label (ARC)."""

    kind: Literal["list"]
    field: str
    text_key: str = "text"
    label_key: str = "label"
    shuffle_seed: int | None = None


class InlineChoices(_Spec):
    """Options written in the question as ``(A) ...`` lines; gold is ``(A)`` or ``A`` (BBH).

    ``unmatched_gold: keep`` keeps a gold that names no option as it is (scoring then
    reports it as unparseable) instead of failing the load.
    """

    kind: Literal["inline"]
    unmatched_gold: Literal["error", "keep"] = "error"


ChoicesSpec = Annotated[ColumnChoices | ListChoices | InlineChoices, Field(discriminator="kind")]


class HubSpec(_Spec):
    """Where users online get the data. ``name: "{subtask}"`` loads one config per subtask."""

    path: str
    name: str | None = None
    split: str
    fields: FieldMap | None = None  # replaces ``dataset.fields`` when the Hub copy differs


class SubtaskSpec(_Spec):
    answer_type: AnswerType | None = None  # None: the task's answer_type
    expected_items: PositiveInt | None = None


class SubtasksSpec(_Spec):
    """A group of subtasks told apart by a record field (BBH's ``task``)."""

    field: str
    members: dict[str, SubtaskSpec] = Field(min_length=1)
    only: str | None = None  # restrict loading to one member ("bbh:navigate" sets this)

    def selected(self) -> tuple[str, ...]:
        return (self.only,) if self.only else tuple(self.members)


class DatasetSpec(_Spec):
    local_file: str  # relative to --data-dir, e.g. "gsm8k/test.jsonl"
    hub: HubSpec | None = None
    fields: FieldMap
    choices: ChoicesSpec | None = None
    subtasks: SubtasksSpec | None = None


class GeneratorSpec(_Spec):
    name: str
    level: str
    seed: int = 0
    n_items: PositiveInt  # default size; the stream is unbounded (see loader.load_task)

    @model_validator(mode="after")
    def _known_generator(self) -> GeneratorSpec:
        if self.name not in generators.generator_names():
            known = ", ".join(generators.generator_names())
            raise ValueError(f"unknown generator {self.name!r}; known: {known}")
        levels = generators.get_generator(self.name).levels
        if self.level not in levels:
            raise ValueError(f"unknown level {self.level!r}; known: {', '.join(levels)}")
        return self


class PromptSpec(_Spec):
    """The user message as a ``str.format`` template (``{{``/``}}`` for literal braces).

    ``template`` is one string, or one per answer type for groups that mix types.
    """

    template: str | dict[AnswerType, str]
    system: str | None = None

    @field_validator("template")
    @classmethod
    def _known_placeholders(cls, template: str | dict[AnswerType, str]) -> object:
        texts = template.values() if isinstance(template, dict) else [template]
        problems = [problem for text in texts for problem in template_problems(text)]
        if problems:
            raise ValueError("; ".join(problems))
        return template

    def template_for(self, answer_type: AnswerType) -> str:
        if isinstance(self.template, str):
            return self.template
        return self.template[answer_type]


class GenerationDefaults(_Spec):
    """Sampling defaults for this task; command-line options override them."""

    max_tokens: PositiveInt = 1024
    temperature: NonNegativeFloat | None = None
    top_p: Annotated[float, Field(gt=0, le=1)] | None = None
    stop: tuple[str, ...] = ()


class TaskSpec(_Spec):
    """One benchmark (or a procedurally generated family) as declared in its YAML file."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    description: str
    answer_type: AnswerType | None = None  # may be left to the subtasks
    expected_items: PositiveInt | None = None  # the verified count of the full task
    dataset: DatasetSpec | None = None
    generator: GeneratorSpec | None = None
    prompt: PromptSpec
    generation: GenerationDefaults = GenerationDefaults()

    def answer_type_of(self, subtask: str | None) -> AnswerType:
        """The answer type of a subtask's items (or of the task's items when None)."""
        subtasks = self.dataset.subtasks if self.dataset else None
        if subtask is not None and subtasks is not None:
            member = subtasks.members[subtask].answer_type
            if member is not None:
                return member
        if self.answer_type is None:
            raise ValueError(f"task {self.name!r} declares no answer type for {subtask!r}")
        return self.answer_type

    @property
    def subtask_names(self) -> tuple[str, ...]:
        """The subtasks this spec loads (empty for a task without subtasks)."""
        subtasks = self.dataset.subtasks if self.dataset else None
        return subtasks.selected() if subtasks else ()

    @property
    def answer_types(self) -> tuple[AnswerType, ...]:
        """The distinct answer types of the items this spec loads, in first-use order."""
        names = self.subtask_names or (None,)
        return tuple(dict.fromkeys(self.answer_type_of(name) for name in names))


def template_problems(template: str) -> list[str]:
    """What is wrong with a prompt template: unknown or malformed placeholders."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as error:
        return [f"malformed template ({error}; write {{{{ and }}}} for literal braces)"]
    problems = []
    for _, field, format_spec, conversion in parsed:
        if field is None:
            continue
        if field not in TEMPLATE_FIELDS:
            problems.append(f"unknown placeholder {{{field}}} (known: {', '.join(TEMPLATE_FIELDS)})")
        elif format_spec or conversion:
            problems.append(f"placeholder {{{field}}} takes no format spec or conversion")
    return problems


def template_placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


def spec_problems(spec: TaskSpec) -> list[str]:
    """Problems that span several sections of a spec, each as ``field: message``."""
    if (spec.dataset is None) == (spec.generator is None):
        return ["dataset/generator: give exactly one of 'dataset' (a file) or 'generator'"]
    problems = _answer_type_problems(spec)
    if problems:
        return problems  # the other checks need every answer type resolved
    if spec.dataset is not None:
        problems += _dataset_problems(spec, spec.dataset)
    if spec.generator is not None:
        expected = generators.get_generator(spec.generator.name).answer_type
        if spec.answer_type != expected:
            problems.append(f"answer_type: generator {spec.generator.name!r} makes {expected!r} answers")
        if spec.expected_items not in (None, spec.generator.n_items):
            problems.append(
                f"expected_items: {spec.expected_items} but generator.n_items is {spec.generator.n_items}"
            )
    return problems + _prompt_problems(spec)


def _answer_type_problems(spec: TaskSpec) -> list[str]:
    subtasks = spec.dataset.subtasks if spec.dataset else None
    if subtasks is None:
        return [] if spec.answer_type else ["answer_type: field required"]
    if spec.answer_type:
        return []
    return [
        f"dataset.subtasks.members.{name}.answer_type: required (the task declares no answer_type)"
        for name, member in subtasks.members.items()
        if member.answer_type is None
    ]


def _dataset_problems(spec: TaskSpec, dataset: DatasetSpec) -> list[str]:
    problems: list[str] = []
    uses_choice = "choice" in spec.answer_types
    if uses_choice and dataset.choices is None:
        problems.append("dataset.choices: required for answer_type 'choice'")
    if not uses_choice and dataset.choices is not None:
        problems.append("dataset.choices: no item has answer_type 'choice'")
    derives_gold = isinstance(dataset.choices, ColumnChoices)
    field_maps = {"dataset.fields": dataset.fields}
    if dataset.hub and dataset.hub.fields:
        field_maps["dataset.hub.fields"] = dataset.hub.fields
    for where, fields in field_maps.items():
        if fields.gold is None and not derives_gold:
            problems.append(f"{where}.gold: field required")
        if fields.gold is not None and derives_gold:
            problems.append(f"{where}.gold: not used: choices of kind 'columns' give the gold")
    subtasks = dataset.subtasks
    hub_name = dataset.hub.name if dataset.hub else None
    if hub_name and "{" in hub_name and (hub_name != HUB_SUBTASK_PLACEHOLDER or subtasks is None):
        problems.append("dataset.hub.name: only '{subtask}' (with subtasks) may use braces")
    if subtasks is None:
        return problems
    if subtasks.only is not None and subtasks.only not in subtasks.members:
        problems.append(f"dataset.subtasks.only: {subtasks.only!r} is not a member")
    counts = [member.expected_items for member in subtasks.members.values()]
    if spec.expected_items and None not in counts:
        total = sum(count or 0 for count in counts)
        if total != spec.expected_items:
            problems.append(f"expected_items: {spec.expected_items} but the subtasks add to {total}")
    return problems


def _prompt_problems(spec: TaskSpec) -> list[str]:
    problems = []
    template = spec.prompt.template
    if isinstance(template, dict):
        missing = [kind for kind in spec.answer_types if kind not in template]
        unused = [kind for kind in template if kind not in spec.answer_types]
        problems += [f"prompt.template.{kind}: field required" for kind in missing]
        problems += [f"prompt.template.{kind}: no item has this answer type" for kind in unused]
    for kind in spec.answer_types:
        if isinstance(template, dict) and kind not in template:
            continue
        where = f"prompt.template.{kind}" if isinstance(template, dict) else "prompt.template"
        used = template_placeholders(spec.prompt.template_for(kind))
        if kind != "choice":
            problems += [
                f"{where}: {{{field}}} is only for multiple choice, not {kind!r} items"
                for field in CHOICE_TEMPLATE_FIELDS
                if field in used
            ]
        if "subtask" in used and not spec.subtask_names:
            problems.append(f"{where}: {{subtask}} needs dataset.subtasks")
    return list(dict.fromkeys(problems))


def parse_task_file(path: Path) -> TaskSpec:
    """Read and validate one task YAML; raise ConfigError listing every problem."""
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError([f"{source}: cannot read: {error.strerror or error}"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark is not None else source
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError([f"{where}: malformed YAML: {problem}"]) from None
    if not isinstance(data, dict):
        raise ConfigError([f"{source}: expected a mapping of task fields at the top level"])
    try:
        spec = TaskSpec.model_validate(data)
    except ValidationError as error:
        raise ConfigError([f"{source}: {problem}" for problem in _pydantic_problems(error)]) from None
    problems = spec_problems(spec)
    if spec.name != path.stem:
        problems.insert(0, f"name: {spec.name!r} must match the file name {path.stem!r}")
    if problems:
        raise ConfigError([f"{source}: {problem}" for problem in problems])
    return spec


def _pydantic_problems(error: ValidationError) -> list[str]:
    problems = []
    for detail in error.errors(include_url=False):
        # Drop union-branch labels ("columns", "str") that are not keys of the YAML.
        location = ".".join(str(part) for part in detail["loc"] if not _is_branch_label(part))
        message = detail["msg"].removeprefix("Value error, ")
        if detail["type"] == "extra_forbidden":
            message = "unknown field"
        problems.append(f"{location or '<top>'}: {message}")
    return list(dict.fromkeys(problems))


def _is_branch_label(part: object) -> bool:
    return part in ("columns", "list", "inline", "str", "dict[enum,str]") or (
        isinstance(part, str) and part.startswith(("dict[", "function-"))
    )


def select_subtask(spec: TaskSpec, subtask: str) -> TaskSpec:
    """The spec narrowed to one subtask, named ``<task>:<subtask>`` (e.g. ``bbh:navigate``)."""
    subtasks = spec.dataset.subtasks if spec.dataset else None
    if subtasks is None:
        raise EvalsError(f"task {spec.name!r} has no subtasks (asked for {subtask!r})")
    if subtask not in subtasks.members:
        hint = closest(subtask, list(subtasks.members))
        raise EvalsError(
            f"task {spec.name!r} has no subtask {subtask!r}{hint}; list them with 'evals tasks --subtasks'"
        )
    assert spec.dataset is not None
    narrowed = subtasks.model_copy(update={"only": subtask})
    return spec.model_copy(
        update={
            "name": f"{spec.name}:{subtask}",
            "expected_items": subtasks.members[subtask].expected_items,
            "dataset": spec.dataset.model_copy(update={"subtasks": narrowed}),
        }
    )
