"""Where a run's wall time went, phase by phase, for the manifest's ``profile``.

Phases (seconds): ``imports`` (interpreter start to the run's first step), ``cluster_start``
(Ray runs only; it overlaps the next two), ``model_resolution``,
``task_loading``, ``engine_start``, ``generation``, ``scoring``, ``writing`` and ``report``, plus
``total``. A phase a run did not have (nothing left to generate) is absent, not 0.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

PHASES = (
    "imports",
    "cluster_start",  # --ray: connecting (or starting a local Ray), while models and tasks load
    "model_resolution",
    "task_loading",
    "engine_start",
    "generation",
    "scoring",
    "writing",
    "report",
)


def process_seconds() -> float | None:
    """Seconds since this process started (interpreter start-up and imports included); None if unknown."""
    try:
        import psutil

        return time.time() - psutil.Process().create_time()
    except Exception:  # psutil missing or the platform cannot say: the phase is unknown, not 0
        return None


@dataclass
class Profile:
    """Phase durations, accumulated (a phase run twice adds up); mutable, one per run."""

    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, phase: str, seconds: float) -> None:
        self.seconds[phase] = self.seconds.get(phase, 0.0) + seconds

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.add(name, time.perf_counter() - started)

    def as_dict(self) -> dict[str, float]:
        """The phases in pipeline order, rounded to milliseconds, with ``total`` when known."""
        ordered = {name: round(self.seconds[name], 3) for name in PHASES if name in self.seconds}
        total = process_seconds()
        if total is not None:
            ordered["total"] = round(total, 3)
        return ordered


def format_profile(phases: dict[str, float]) -> str:
    """One line: ``imports 3.1 s, model_resolution 0.2 s, ...``."""
    return ", ".join(f"{name} {seconds:.1f} s" for name, seconds in phases.items())
