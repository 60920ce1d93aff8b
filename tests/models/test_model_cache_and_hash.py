"""The cache's building blocks (lock, marker, atomic publish) and the weights hash."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from evals.errors import EvalsError
from evals.models import ensure_available, resolve_model
from evals.models.cache import (
    MARKER,
    build_directory,
    cache_root,
    exclusive_lock,
    publish_directory,
    read_marker,
    write_marker,
)
from evals.models.hashing import cached_weights_sha256, weights_sha256

TRY_LOCK = """
import fcntl, sys
with open(sys.argv[1], "a") as handle:
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print("held")
    else:
        print("free")
"""


def _other_process_finds_lock(lock: Path) -> str:
    return subprocess.run(
        [sys.executable, "-c", TRY_LOCK, str(lock)], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_lock_excludes_another_process_until_released(tmp_path: Path) -> None:
    lock = tmp_path / "entry.lock"
    with exclusive_lock(lock):
        assert _other_process_finds_lock(lock) == "held"
    assert _other_process_finds_lock(lock) == "free"


def test_cache_root_prefers_argument_then_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EVALS_CACHE_DIR", str(tmp_path / "from-env"))
    assert cache_root(tmp_path / "given") == tmp_path / "given"
    assert cache_root() == tmp_path / "from-env"
    monkeypatch.delenv("EVALS_CACHE_DIR")
    assert cache_root().name == "evals"


def _finished_build(directory: Path, payload: bytes = b"weights") -> dict[str, object]:
    directory.mkdir(parents=True)
    (directory / "config.json").write_text("{}")
    (directory / "model.safetensors").write_bytes(payload)
    return write_marker(directory, {"weights_sha256": "0" * 64})


def test_marker_is_trusted_only_while_file_sizes_match(tmp_path: Path) -> None:
    model = tmp_path / "model"
    marker = _finished_build(model)
    assert marker["files"] == {"config.json": 2, "model.safetensors": 7}
    assert read_marker(model) == marker
    (model / "model.safetensors").write_bytes(b"cut")  # truncated after the build
    assert read_marker(model) is None
    (model / "model.safetensors").write_bytes(b"weights")
    (model / MARKER).write_text('{"format": 1, "weights_sha256": "x", "files": {"gone.bin": 1}}')
    assert read_marker(model) is None
    (model / MARKER).write_text("{half a marker")
    assert read_marker(model) is None


def test_publish_replaces_an_untrusted_directory_and_scratch_is_cleaned(tmp_path: Path) -> None:
    final = tmp_path / "models" / "m"
    final.mkdir(parents=True)
    (final / "config.json").write_text("left by a build of an older evals, no marker")
    stale = tmp_path / "models" / ".m.build-killed"
    stale.mkdir()
    with build_directory(final) as scratch:
        assert not stale.exists(), "a killed build's leftovers are removed under the lock"
        _finished_build(scratch / "model", b"new weights")
        publish_directory(scratch / "model", final)
    assert (final / "model.safetensors").read_bytes() == b"new weights"
    assert read_marker(final) is not None
    assert sorted(p.name for p in final.parent.iterdir()) == ["m"]


def test_failed_build_leaves_nothing_behind(tmp_path: Path) -> None:
    final = tmp_path / "models" / "m"
    with pytest.raises(RuntimeError), build_directory(final) as scratch:
        (scratch / "partial.safetensors").write_bytes(b"half")
        raise RuntimeError("conversion died")
    assert list(final.parent.iterdir()) == []


def _sha256sum_listing_digest(directory: Path, names: list[str]) -> str:
    """What `sha256sum NAMES | sha256sum` prints, computed independently of evals."""
    lines = "".join(
        f"{hashlib.sha256((directory / name).read_bytes()).hexdigest()}  {name}\n" for name in sorted(names)
    )
    return hashlib.sha256(lines.encode()).hexdigest()


@pytest.mark.parametrize(
    ("files", "hashed"),
    [
        ({"model.safetensors": b"a"}, ["model.safetensors"]),
        (
            {"model-00002-of-00002.safetensors": b"b", "model-00001-of-00002.safetensors": b"a"},
            ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"],
        ),
        ({"pytorch_model.bin": b"c"}, ["pytorch_model.bin"]),
        ({"model.safetensors": b"a", "pytorch_model.bin": b"c"}, ["model.safetensors"]),
    ],
    ids=["single", "sharded", "bin-only", "safetensors-preferred"],
)
def test_weights_hash_matches_the_sha256sum_listing(
    files: dict[str, bytes], hashed: list[str], tmp_path: Path
) -> None:
    for name, payload in files.items():
        (tmp_path / name).write_bytes(payload)
    (tmp_path / "config.json").write_text("{}")
    assert weights_sha256(tmp_path) == _sha256sum_listing_digest(tmp_path, hashed)


def test_hash_cache_is_keyed_by_path_size_and_mtime(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    weights = model / "model.safetensors"
    weights.write_bytes(b"original")
    first = cached_weights_sha256(model, tmp_path / "cache")
    assert first == weights_sha256(model)
    stat = weights.stat()
    # Same size and mtime: the cached digest is reused without reading the file,
    # which is observable by changing the bytes behind the cache's back.
    weights.write_bytes(b"ORIGINAL")
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert cached_weights_sha256(model, tmp_path / "cache") == first
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert cached_weights_sha256(model, tmp_path / "cache") == weights_sha256(model) != first
    cached = json.loads((tmp_path / "cache" / "weights-hashes.json").read_text())
    assert list(cached) == [str(weights.resolve())]


def test_ensure_available_hashes_a_local_directory(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text("{}")
    (model / "model.safetensors").write_bytes(b"weights")
    resolved = resolve_model(str(model))
    ready = ensure_available(resolved, cache_dir=tmp_path / "cache")
    assert ready.available and ready.path_or_id == str(model)
    assert ready.weights_sha256 == _sha256sum_listing_digest(model, ["model.safetensors"])
    assert ready.has_chat_template is False
    assert ensure_available(ready) is ready


def test_ensure_available_refuses_a_directory_without_weights(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(EvalsError, match=rf"^model directory {tmp_path} has no weights"):
        ensure_available(resolve_model(str(tmp_path)), cache_dir=tmp_path / "cache")


def test_hub_model_that_cannot_be_fetched_is_one_clear_error(tmp_path: Path) -> None:
    # No Hub here; with Hub access the repo does not exist. Either way: one line.
    missing = resolve_model("evals-test-no-such-org/no-such-model-3141")
    with pytest.raises(EvalsError) as caught:
        ensure_available(missing, cache_dir=tmp_path, notify=None)
    message = str(caught.value)
    assert message.startswith("cannot fetch 'evals-test-no-such-org/no-such-model-3141' from the")
    assert "\n" not in message and "need Hub access" in message
