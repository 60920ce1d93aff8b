"""Every generation backend, declared once: how to build it and what it can do.

A suite entry's ``backend:`` names one entry of ``BACKENDS``. Everything that depends on
the backend (suite validation, the CLI's choices, planning, cost, Ray resources, probes,
engine logs, ``--reproducible``) reads the entry's traits; no other module compares a
backend's name.

To add a backend: write its module under ``evals/generation/`` with a function taking a
``BackendTarget`` and returning a ``GenerationBackend``, then add one ``Backend(...)`` to
``BACKENDS`` below, whose factory imports that module when called (so that naming a
backend never imports its engine library).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from evals.errors import EvalsError, closest

if TYPE_CHECKING:
    from evals.generation.base import BackendTarget, GenerationBackend

DEFAULT_BACKEND = "vllm"
# Requests in flight to a server when the suite's ``server.max_concurrency`` is not given.
DEFAULT_SERVER_CONCURRENCY = 8


@dataclass(frozen=True)
class Backend:
    """One backend: its name, a lazy factory, and the traits the rest of the code asks about."""

    name: str
    description: str  # one line, for help texts
    factory: Callable[[BackendTarget], GenerationBackend]  # imports the backend's module when called
    # The model is a name a server knows (the entry needs ``server:``); nothing is resolved,
    # downloaded or hashed on this machine.
    served: bool
    uses_gpu: bool  # runs the model in this process: a Ray worker reserves GPUs on a GPU cluster
    # May be priced per token at an API's price (``server.price``, or a server elsewhere);
    # otherwise always priced by the time of the hardware it runs on.
    token_priced: bool
    probes: bool  # runs forced-answer budget probes (on token ids; served: vLLM's completions endpoint)
    reproducible: bool  # delivers ``--reproducible`` (pins batch composition and kernels)
    engine_log: bool  # its engine library prints: that output goes to the run's engine.log
    default_concurrency: int | None  # requests (or sequences) in flight by default; None: the engine decides


def _vllm(target: BackendTarget) -> GenerationBackend:
    from evals.generation.vllm_backend import make_vllm_backend

    return make_vllm_backend(target)


def _openai(target: BackendTarget) -> GenerationBackend:
    from evals.generation.openai_backend import make_openai_backend

    return make_openai_backend(target)


def _hf(target: BackendTarget) -> GenerationBackend:
    from evals.generation.hf_backend import make_hf_backend

    return make_hf_backend(target, default_batch_size=BACKENDS["hf"].default_concurrency or 1)


def _registry(*backends: Backend) -> Mapping[str, Backend]:
    """The backends by name; a name declared twice is a bug, never a silent override."""
    by_name: dict[str, Backend] = {}
    for backend in backends:
        if backend.name in by_name:
            raise ValueError(f"backend {backend.name!r} is declared twice")
        by_name[backend.name] = backend
    return by_name


BACKENDS: Mapping[str, Backend] = _registry(
    Backend(
        "vllm", "offline vLLM engine in this process", _vllm, served=False, uses_gpu=True,
        token_priced=False, probes=True, reproducible=True, engine_log=True, default_concurrency=None,
    ),
    Backend(
        "openai", "an OpenAI-compatible server (vllm serve, SGLang, an API)", _openai, served=True,
        uses_gpu=False, token_priced=True, probes=True, reproducible=False, engine_log=False,
        default_concurrency=DEFAULT_SERVER_CONCURRENCY,
    ),
    Backend(
        "hf", "transformers generate, for models vLLM does not run", _hf, served=False, uses_gpu=True,
        token_priced=False, probes=True, reproducible=False, engine_log=False, default_concurrency=16,
    ),
)  # fmt: skip


def backend_names() -> tuple[str, ...]:
    return tuple(BACKENDS)


def unknown_backend_message(name: str) -> str:
    """Why ``name`` is not a backend, with the closest known name."""
    return f"unknown backend {name!r}{closest(name, backend_names())}; choose from {', '.join(BACKENDS)}"


def backend_named(name: str) -> Backend:
    """The registered backend called ``name``; one clear error naming the closest one otherwise."""
    backend = BACKENDS.get(name)
    if backend is None:
        raise EvalsError(unknown_backend_message(name))
    return backend


def is_served(name: object) -> bool:
    """Whether a raw (not yet validated) ``backend:`` value names a served backend."""
    backend = BACKENDS.get(name) if isinstance(name, str) else None
    return backend is not None and backend.served
