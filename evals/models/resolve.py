"""From what the user typed (alias, local directory or Hub id) to a model vLLM can load.

Two steps, so that validation stays fast: ``resolve_model`` only reads small files and
never downloads or hashes; ``ensure_available`` puts the weights on this machine
(fetching or converting them if needed) and fills in the weights hash.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from evals.errors import EvalsError
from evals.models import smollm2
from evals.models.hashing import cached_weights_sha256
from evals.models.local import check_model_directory, read_chat_template, template_opens_thinking
from evals.models.registry import ModelAliasSpec, ModelRegistry, default_registry, hub_id_like

ModelKind = Literal["alias", "local", "hub"]
Notify = Callable[[str], None]
_PATH_PREFIXES = (".", "/", "~")
# What vLLM needs from a Hub repo; other formats (.pth, .gguf, .onnx) are skipped.
_HUB_FILES = ["*.json", "*.safetensors", "*.jinja", "*.model", "*.tiktoken", "*.txt"]


@dataclass(frozen=True)
class ResolvedModel:
    """A model reference resolved to something vLLM and transformers can load.

    ``path_or_id`` is what to hand to ``vllm.LLM(model=...)``: a Hub id until
    ``ensure_available`` has fetched it, then the local directory whose weights were
    hashed (so the hash recorded is of the files loaded). ``embedded`` names the
    embedded model an alias stands for, if any.
    ``weights_sha256`` and ``has_chat_template`` are None until the files are on disk;
    ``available`` says ``ensure_available`` has nothing left to do. ``reasoning`` is
    True when answers follow a ``<think>...</think>`` block.
    """

    ref: str
    kind: ModelKind
    alias: str | None
    path_or_id: str
    source: str
    reasoning: bool
    embedded: str | None = None
    weights_sha256: str | None = None
    has_chat_template: bool | None = None
    available: bool = False

    def manifest_entry(self) -> dict[str, object]:
        """The fields a run manifest records about this model."""
        return {
            "ref": self.ref,
            "alias": self.alias,
            "kind": self.kind,
            "source": self.source,
            "resolved_path": self.path_or_id,
            "weights_sha256": self.weights_sha256,
            "reasoning": self.reasoning,
            "has_chat_template": self.has_chat_template,
        }


def resolve_model(
    ref: str, *, cache_dir: Path | str | None = None, registry: ModelRegistry | None = None
) -> ResolvedModel:
    """Resolve ``ref`` without downloading; raise one clear EvalsError when it cannot be.

    Order: a path-like string (``.``, ``/``, ``~``) is a local directory; then an
    alias; then an existing path; then anything shaped ``org/name`` is a Hub id;
    anything else is an unknown alias (with the closest one suggested).
    """
    text = ref.strip()
    if not text:
        raise EvalsError("empty model reference; pass an alias, a Hugging Face id or a directory")
    registry = registry if registry is not None else default_registry()
    if text.startswith(_PATH_PREFIXES):
        return _resolve_local(ref, Path(text).expanduser())
    if text in registry:
        return _resolve_alias(ref, registry.get(text), cache_dir)
    if Path(text).exists():
        return _resolve_local(ref, Path(text))
    if hub_id_like(text):
        return _hub_model(ref, text, alias=None, reasoning=False)
    registry.get(text)  # raises, suggesting the closest alias
    raise AssertionError("unreachable: registry.get raises for unknown aliases")


def validate_model_ref(
    ref: str, *, cache_dir: Path | str | None = None, registry: ModelRegistry | None = None
) -> str | None:
    """The problem with ``ref`` as one line, or None when it resolves. Never downloads."""
    try:
        resolve_model(ref, cache_dir=cache_dir, registry=registry)
    except EvalsError as error:
        return str(error)
    return None


def notify_on_stderr(message: str) -> None:
    """Tell the user about a slow one-off step (a download, a conversion)."""
    print(f"evals: {message}", file=sys.stderr, flush=True)


def ensure_available(
    model: ResolvedModel,
    *,
    cache_dir: Path | str | None = None,
    notify: Notify | None = notify_on_stderr,
) -> ResolvedModel:
    """Put the weights on this machine and return the record with hash and template filled in.

    Embedded aliases are fetched and converted once into the cache; Hub models are
    downloaded into the Hugging Face cache (needs Hub access); local directories are
    hashed (cached by path, size and mtime). A no-op for an available model.
    ``notify`` hears about slow one-off steps (None: silent).
    """
    if model.available:
        return model
    if model.embedded is not None:
        obtained = smollm2.ensure_model(cache_dir, notify=notify)
        # The hash was computed once at conversion and kept in the marker.
        return _on_disk(model, obtained.path, obtained.weights_sha256)
    if model.kind == "local":
        directory = Path(model.path_or_id)
        check_model_directory(directory)
    else:
        directory = _fetch_from_hub(model.path_or_id, notify)
    return _on_disk(model, directory, cached_weights_sha256(directory, cache_dir))


def _resolve_local(ref: str, directory: Path) -> ResolvedModel:
    check_model_directory(directory.absolute(), ref)
    directory = directory.resolve()
    template = read_chat_template(directory)
    return ResolvedModel(
        ref=ref,
        kind="local",
        alias=None,
        path_or_id=str(directory),
        source=f"local directory {directory}",
        reasoning=template_opens_thinking(template),
        has_chat_template=template is not None,
    )


def _resolve_alias(ref: str, spec: ModelAliasSpec, cache_dir: Path | str | None) -> ResolvedModel:
    if spec.hub is not None:
        return _hub_model(ref, spec.hub, alias=spec.alias, reasoning=spec.reasoning)
    cached = smollm2.cached_model(cache_dir)
    directory = smollm2.model_dir(cache_dir)
    return ResolvedModel(
        ref=ref,
        kind="alias",
        alias=spec.alias,
        path_or_id=str(directory),
        source=smollm2.SOURCE,
        reasoning=spec.reasoning,
        embedded=spec.embedded,
        weights_sha256=cached.weights_sha256 if cached else None,
        has_chat_template=True if cached else None,
        available=cached is not None,
    )


def _hub_model(ref: str, hub_id: str, *, alias: str | None, reasoning: bool) -> ResolvedModel:
    return ResolvedModel(
        ref=ref,
        kind="alias" if alias else "hub",
        alias=alias,
        path_or_id=hub_id,
        source=f"Hugging Face Hub {hub_id}",
        reasoning=reasoning,
    )


def _on_disk(model: ResolvedModel, directory: Path, digest: str) -> ResolvedModel:
    template = read_chat_template(directory)
    return dataclasses.replace(
        model,
        path_or_id=str(directory),
        weights_sha256=digest,
        has_chat_template=template is not None,
        reasoning=model.reasoning or template_opens_thinking(template),
        available=True,
    )


def _fetch_from_hub(hub_id: str, notify: Notify | None) -> Path:
    """Download ``hub_id`` into the Hugging Face cache (a no-op when already there)."""
    from huggingface_hub import snapshot_download

    if notify is not None:
        notify(f"fetching {hub_id} from the Hugging Face Hub (once; kept in its cache)")
    try:
        directory = Path(snapshot_download(hub_id, allow_patterns=_HUB_FILES))
        if not any(directory.glob("*.safetensors")):
            directory = Path(snapshot_download(hub_id, allow_patterns=[*_HUB_FILES, "*.bin"]))
    except Exception as error:  # network, auth, missing repo: each becomes one user-facing line
        reason = " ".join(str(error).split())[:300]
        raise EvalsError(
            f"cannot fetch {hub_id!r} from the Hugging Face Hub ({type(error).__name__}: {reason}); "
            "Hub models need Hub access (and HF_TOKEN for gated ones), or pass a local directory"
        ) from None
    return directory


def cached_alias_path(spec: ModelAliasSpec, cache_dir: Path | str | None = None) -> Path | None:
    """Where an alias's weights already are on this machine, or None; never downloads."""
    if spec.embedded is not None:
        found = smollm2.cached_model(cache_dir)
        return found.path if found else None
    from huggingface_hub import try_to_load_from_cache

    assert spec.hub is not None  # ModelAliasSpec guarantees one source
    config = try_to_load_from_cache(spec.hub, "config.json")
    if not isinstance(config, str):
        return None
    snapshot = Path(config).parent
    return snapshot if any(snapshot.glob("*.safetensors")) else None
