"""Models: aliases, the embedded default model, and resolving what ``--model`` names.

``resolve_model`` is fast and never downloads; ``ensure_available`` puts the weights on
this machine and fills in their hash. Heavy packages are imported only when needed.
"""

from evals.models.registry import ModelAliasSpec, ModelRegistry, default_registry, load_registry
from evals.models.resolve import ResolvedModel, ensure_available, resolve_model, validate_model_ref
from evals.models.tiny import build_tiny_model

__all__ = [
    "ModelAliasSpec",
    "ModelRegistry",
    "ResolvedModel",
    "build_tiny_model",
    "default_registry",
    "ensure_available",
    "load_registry",
    "resolve_model",
    "validate_model_ref",
]
