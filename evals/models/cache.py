"""Where converted models live, and how a directory is built there atomically.

A cached model directory is trusted only when it holds a ``COMPLETE`` marker. The
marker is written last inside a private build directory that is then renamed into
place, so a killed or concurrent build never leaves a directory that looks finished.
Builders of the same entry serialise on an ``fcntl.flock`` lock file.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CACHE_ENV = "EVALS_CACHE_DIR"
MARKER = "COMPLETE"
MARKER_FORMAT = 1


def cache_root(cache_dir: Path | str | None = None) -> Path:
    """The evals cache: ``cache_dir``, else ``$EVALS_CACHE_DIR``, else the user cache dir."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    from_env = os.environ.get(CACHE_ENV)
    if from_env:
        return Path(from_env).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("evals"))


def models_dir(cache_dir: Path | str | None = None) -> Path:
    return cache_root(cache_dir) / "models"


@contextlib.contextmanager
def exclusive_lock(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``lock_path``; the kernel drops it if the process dies.

    The lock file itself is never deleted: removing it would let two processes lock
    two different inodes under the same name.
    """
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def read_marker(model_dir: Path) -> dict[str, Any] | None:
    """The marker of a finished build, or None when absent, unreadable or not matching the files.

    Checking every file's size against the marker is cheap and catches truncation
    or replacement after the build (a full rehash would cost seconds per GB).
    """
    try:
        marker = json.loads((model_dir / MARKER).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(marker, dict) or marker.get("format") != MARKER_FORMAT:
        return None
    files = marker.get("files")
    if not isinstance(files, dict) or not isinstance(marker.get("weights_sha256"), str):
        return None
    for name, size in files.items():
        try:
            if (model_dir / name).stat().st_size != size:
                return None
        except OSError:
            return None
    return marker


def file_sizes(directory: Path) -> dict[str, int]:
    """Sizes of the regular files directly in ``directory`` (the marker excluded)."""
    return {
        entry.name: entry.stat().st_size
        for entry in sorted(directory.iterdir())
        if entry.is_file() and entry.name != MARKER
    }


def write_marker(model_dir: Path, fields: dict[str, Any]) -> dict[str, Any]:
    """Fsync every file in ``model_dir``, then write the marker (itself fsynced) last.

    Files are made world-readable: some writers (safetensors, mkstemp) create them
    0600, which would hide a shared ``$EVALS_CACHE_DIR`` from other users.
    """
    for entry in model_dir.iterdir():
        if entry.is_file():
            entry.chmod(0o644)
            _fsync_file(entry)
    marker = {"format": MARKER_FORMAT, **fields, "files": file_sizes(model_dir)}
    write_json_atomically(model_dir / MARKER, marker)
    return marker


def write_json_atomically(path: Path, payload: Any) -> None:
    """Replace ``path`` with ``payload`` as JSON so readers see the old or the new file, never half."""
    descriptor, temp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(descriptor, 0o644)
        with os.fdopen(descriptor, "w") as handle:
            json.dump(payload, handle, indent=2, sort_keys=True)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_name)
        raise


@contextlib.contextmanager
def build_directory(final_dir: Path) -> Iterator[Path]:
    """A private scratch directory beside ``final_dir``, removed on exit whatever happens.

    Call under the entry's lock. Leftovers of builds that were killed are removed
    first: holding the lock proves no live builder owns them.
    """
    parent = final_dir.parent
    parent.mkdir(parents=True, exist_ok=True)
    for stale in parent.glob(f".{final_dir.name}.build-*"):
        shutil.rmtree(stale, ignore_errors=True)
    scratch = Path(tempfile.mkdtemp(dir=parent, prefix=f".{final_dir.name}.build-"))
    try:
        yield scratch
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def publish_directory(built: Path, final_dir: Path) -> None:
    """Move a finished ``built`` directory (marker inside) to ``final_dir`` atomically.

    An untrusted directory already at ``final_dir`` (no valid marker) is first moved
    aside into ``built``'s parent scratch area, which its caller removes.
    """
    if final_dir.exists():
        os.replace(final_dir, built.parent / f"replaced-{os.getpid()}")
    os.replace(built, final_dir)
    _fsync_directory(final_dir.parent)


def _fsync_file(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_directory(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
