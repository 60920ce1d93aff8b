"""What this machine is, for the manifest and for pricing self-hosted runs."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Hardware:
    """The accelerator a run is priced by: a GPU type and count, or CPU cores."""

    accelerator: str  # a GPU name as nvidia-smi prints it, or "cpu-core"
    count: int
    gpu_names: tuple[str, ...]
    cpu_model: str
    cpu_cores: int
    platform: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _gpu_names() -> tuple[str, ...]:
    """GPU names from nvidia-smi (cheap, and needs no torch import)."""
    if shutil.which("nvidia-smi") is None:
        return ()
    try:
        result = subprocess.run(
            ["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return ()
    return tuple(line.strip() for line in result.stdout.splitlines() if line.strip())


def detect_hardware(tensor_parallel_size: int = 1) -> Hardware:
    """The hardware one engine of ``tensor_parallel_size`` GPUs (or this CPU) runs on."""
    gpus = _gpu_names()
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if gpus:
        # The price table matches nvidia-smi names itself (A100 40GB vs 80GB, H100 PCIe vs SXM).
        accelerator, count = gpus[0], min(tensor_parallel_size, len(gpus))
    else:
        accelerator, count = "cpu-core", cores
    return Hardware(accelerator, count, gpus, _cpu_model(), cores, platform.platform())
