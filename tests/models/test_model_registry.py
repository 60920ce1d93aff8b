"""Model references: aliases, local directories, Hub ids, and the registry's own rules."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from evals.errors import ConfigError, EvalsError
from evals.models import (
    ModelAliasSpec,
    ModelRegistry,
    default_registry,
    load_registry,
    resolve_model,
    validate_model_ref,
)
from evals.models.smollm2 import SOURCE as SMOLLM2_SOURCE

# (alias, Hub id, reasoning); source: the model cards on huggingface.co for each id.
HUB_ALIASES = [
    ("deepseek-r1-distill-qwen-1.5b", "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B", True),
    ("deepseek-r1-distill-qwen-7b", "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", True),
    ("deepseek-r1-distill-qwen-14b", "deepseek-ai/DeepSeek-R1-Distill-Qwen-14B", True),
    ("deepseek-r1-distill-qwen-32b", "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B", True),
    ("deepseek-r1-distill-llama-8b", "deepseek-ai/DeepSeek-R1-Distill-Llama-8B", True),
    ("deepseek-r1-distill-llama-70b", "deepseek-ai/DeepSeek-R1-Distill-Llama-70B", True),
    ("qwen2.5-math-1.5b-instruct", "Qwen/Qwen2.5-Math-1.5B-Instruct", False),
    ("qwen2.5-7b-instruct", "Qwen/Qwen2.5-7B-Instruct", False),
    ("qwq-32b", "Qwen/QwQ-32B", True),
]


@pytest.mark.parametrize(("alias", "hub_id", "reasoning"), HUB_ALIASES)
def test_hub_alias_resolves_to_its_id_without_fetching(
    alias: str, hub_id: str, reasoning: bool, tmp_path: Path
) -> None:
    model = resolve_model(alias, cache_dir=tmp_path)
    assert (model.kind, model.alias, model.path_or_id) == ("alias", alias, hub_id)
    assert model.reasoning is reasoning
    assert model.source == f"Hugging Face Hub {hub_id}"
    assert (model.weights_sha256, model.available) == (None, False)


def test_embedded_alias_points_into_the_cache_and_never_downloads(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    model = resolve_model("smollm2-135m", cache_dir=cache)
    assert (model.kind, model.embedded, model.source) == ("alias", "smollm2-135m", SMOLLM2_SOURCE)
    assert model.path_or_id == str(cache / "models" / "smollm2-135m")
    assert (model.available, model.weights_sha256) == (False, None)
    assert validate_model_ref("smollm2-135m", cache_dir=cache) is None
    assert not cache.exists(), "resolving or validating must not create or fill the cache"


def test_every_packaged_alias_resolves(tmp_path: Path) -> None:
    registry = default_registry()
    assert len(registry) >= 15
    for spec in registry:
        assert resolve_model(spec.alias, cache_dir=tmp_path).alias == spec.alias


# (typed, expected hint); the hint is difflib's closest alias (evals.errors.closest).
UNKNOWN_ALIASES = [
    ("smollm2-135", " (did you mean 'smollm2-135m'?)"),
    ("smollm-135m", " (did you mean 'smollm2-135m'?)"),
    ("deepseek-r1-distill-qwen-15b", " (did you mean 'deepseek-r1-distill-qwen-1.5b'?)"),
    ("qwen2.5-7b", " (did you mean 'qwen2.5-7b-instruct'?)"),
    ("zzzz", ""),
]


@pytest.mark.parametrize(("typed", "hint"), UNKNOWN_ALIASES)
def test_unknown_alias_suggests_the_closest(typed: str, hint: str) -> None:
    with pytest.raises(EvalsError) as caught:
        resolve_model(typed)
    message = str(caught.value)
    assert message.startswith(f"unknown model {typed!r}{hint};")
    assert "\n" not in message
    assert validate_model_ref(typed) == message


def _model_dir(root: Path, *, config: bool = True, template: str | None = None) -> Path:
    root.mkdir(parents=True)
    if config:
        (root / "config.json").write_text(json.dumps({"model_type": "llama"}))
    if template is not None:
        (root / "tokenizer_config.json").write_text(json.dumps({"chat_template": template}))
    return root


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("./missing-model", "model ./missing-model: no such directory"),
        ("{tmp}/missing-model", "model {tmp}/missing-model: no such directory"),
        ("./no-config", "model ./no-config: no config.json in the directory"),
        ("no-config", "model no-config: no config.json in the directory"),
        ("./a-file", "model ./a-file: not a directory"),
    ],
    ids=["dot-missing", "absolute-missing", "dot-no-config", "bare-existing-no-config", "file"],
)
def test_bad_local_directory_is_one_clear_error(
    ref: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tmp = tmp_path.resolve()
    monkeypatch.chdir(tmp)
    _model_dir(tmp / "no-config", config=False)
    (tmp / "a-file").write_text("not a model")
    with pytest.raises(EvalsError) as caught:
        resolve_model(ref.format(tmp=tmp))
    assert str(caught.value) == expected.format(tmp=tmp)


@pytest.mark.parametrize("spelling", ["./my-model", "my-model", "{tmp}/my-model", "~/my-model"])
def test_local_directory_resolves_to_its_absolute_path(
    spelling: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tmp = tmp_path.resolve()
    monkeypatch.chdir(tmp)
    monkeypatch.setenv("HOME", str(tmp))
    directory = _model_dir(tmp / "my-model", template="{{ messages }}")
    model = resolve_model(spelling.format(tmp=tmp))
    assert (model.kind, model.alias, model.path_or_id) == ("local", None, str(directory))
    assert model.has_chat_template is True
    assert model.reasoning is False


def test_local_directory_whose_template_opens_think_is_reasoning(tmp_path: Path) -> None:
    # The DeepSeek-R1 distills' template ends its generation prompt with "<think>\n".
    template = "{% if add_generation_prompt %}<｜Assistant｜><think>\n{% endif %}"
    directory = _model_dir(tmp_path / "r1-like", template=template)
    assert resolve_model(str(directory)).reasoning is True


@pytest.mark.parametrize(
    "hub_id", ["some-org/some-model", "Org_1/Model.v2-7B", "meta-llama/Llama-3.1-8B-Instruct"]
)
def test_hub_id_passes_through(hub_id: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    model = resolve_model(hub_id)
    assert (model.kind, model.alias, model.path_or_id, model.reasoning) == ("hub", None, hub_id, False)


@pytest.mark.parametrize(
    ("ref", "expected_start"),
    [
        ("", "empty model reference"),
        ("a/b/c", "unknown model 'a/b/c'"),
        ("/", "model /: no config.json in the directory"),
    ],
)
def test_references_that_are_nothing(ref: str, expected_start: str) -> None:
    problem = validate_model_ref(ref)
    assert problem is not None and problem.startswith(expected_start), problem


def _spec(alias: str, **source: str) -> ModelAliasSpec:
    return ModelAliasSpec.model_validate({"alias": alias, "params": "1B", **source})


def test_duplicate_alias_is_refused() -> None:
    specs = [_spec("m", hub="a/b"), _spec("other", hub="c/d"), _spec("m", hub="e/f")]
    with pytest.raises(ConfigError) as caught:
        ModelRegistry(specs, origin="my-aliases.yaml")
    assert caught.value.problems == ("my-aliases.yaml: alias 'm' is defined more than once",)


def test_alias_yaml_problems_are_all_listed_with_file_and_field(tmp_path: Path) -> None:
    path = tmp_path / "aliases.yaml"
    path.write_text(
        "- {alias: good, hub: a/b, params: 1B}\n"
        "- {alias: both, hub: a/b, embedded: smollm2-135m, params: 1B}\n"
        "- {alias: typo, hub: a/b, params: 1B, reasonning: true}\n"
        "- {alias: Bad Name, hub: not-an-id, params: 1B}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_registry(path)
    problems = caught.value.problems
    assert all(problem.startswith(f"{path}: alias ") for problem in problems), problems
    assert any("alias both:" in p and "exactly one source" in p for p in problems)
    assert any("alias typo: field 'reasonning'" in p and "Extra inputs" in p for p in problems)
    assert any("alias Bad Name: field 'alias'" in p for p in problems)
    assert any("alias Bad Name: field 'hub'" in p for p in problems)
    assert len(problems) == 4


def test_alias_yaml_that_is_not_a_list_or_not_yaml(tmp_path: Path) -> None:
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("smollm2-135m: {hub: a/b}\n")
    broken = tmp_path / "broken.yaml"
    broken.write_text("- alias: [unclosed\n")
    with pytest.raises(ConfigError, match="expected a list of aliases, got dict"):
        load_registry(mapping)
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_registry(broken)
