"""A model's weights hash, reproducible with coreutils.

``weights_sha256`` is the sha256 of the ``sha256sum`` listing of the weight files, sorted
by name: in the model directory, ``sha256sum $(LC_ALL=C ls *.safetensors) | sha256sum``.
Only ``*.safetensors`` count when there are any (what vLLM loads), else ``*.bin``.
Per-file digests are cached by (path, size, mtime) so a second run does not reread GBs.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from evals.errors import EvalsError
from evals.models.cache import cache_root, exclusive_lock, write_json_atomically

_CHUNK = 1 << 20
_HASH_CACHE = "weights-hashes.json"


def weight_files(model_dir: Path) -> list[Path]:
    """The files whose bytes are the model's weights, sorted by name."""
    safetensors = sorted(model_dir.glob("*.safetensors"))
    return safetensors or sorted(model_dir.glob("*.bin"))


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def combine_digests(named_digests: list[tuple[str, str]]) -> str:
    """The sha256 of a ``sha256sum`` listing ("<digest>  <name>" lines) sorted by name."""
    listing = "".join(f"{digest}  {name}\n" for name, digest in sorted(named_digests))
    return hashlib.sha256(listing.encode()).hexdigest()


def weights_sha256(model_dir: Path) -> str:
    """Hash the weights of ``model_dir`` from scratch (no cache)."""
    files = _require_weight_files(model_dir)
    return combine_digests([(path.name, file_sha256(path)) for path in files])


def cached_weights_sha256(model_dir: Path, cache_dir: Path | str | None = None) -> str:
    """Like ``weights_sha256``, reusing per-file digests whose path, size and mtime are unchanged."""
    files = _require_weight_files(model_dir)
    cache_file = cache_root(cache_dir) / _HASH_CACHE
    known = _read_hash_cache(cache_file)
    named_digests: list[tuple[str, str]] = []
    fresh: dict[str, dict[str, object]] = {}
    for path in files:
        key = str(path.resolve())
        stat = path.stat()
        entry = known.get(key)
        if entry and entry.get("size") == stat.st_size and entry.get("mtime_ns") == stat.st_mtime_ns:
            digest = str(entry["sha256"])
        else:
            digest = file_sha256(path)
            fresh[key] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": digest}
        named_digests.append((path.name, digest))
    if fresh:
        _merge_into_hash_cache(cache_file, fresh)
    return combine_digests(named_digests)


def _require_weight_files(model_dir: Path) -> list[Path]:
    files = weight_files(model_dir)
    if not files:
        raise EvalsError(f"model directory {model_dir} has no weights (*.safetensors or *.bin)")
    return files


def _read_hash_cache(cache_file: Path) -> dict[str, dict[str, object]]:
    """The cached digests; an unreadable cache is only a cache, so it counts as empty."""
    try:
        loaded = json.loads(cache_file.read_text())
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _merge_into_hash_cache(cache_file: Path, fresh: dict[str, dict[str, object]]) -> None:
    """Add entries under a lock so two runs hashing different models both keep theirs.

    Entries of files that no longer exist (test models in temp dirs) are dropped.
    """
    cache_file.parent.mkdir(parents=True, exist_ok=True)
    with exclusive_lock(cache_file.with_name(f".{cache_file.name}.lock")):
        merged = {key: entry for key, entry in _read_hash_cache(cache_file).items() if Path(key).exists()}
        merged.update(fresh)
        write_json_atomically(cache_file, merged)
