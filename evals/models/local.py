"""Facts read cheaply from a model directory on disk (no weights loaded)."""

from __future__ import annotations

import json
from pathlib import Path

from evals.errors import EvalsError

THINK_OPEN = "<think>"


def check_model_directory(path: Path, name: str | None = None) -> None:
    """Raise one clear EvalsError unless ``path`` is a directory holding ``config.json``.

    ``name`` is how the user wrote the path (default: the path itself).
    """
    shown = name if name is not None else str(path)
    if not path.exists():
        raise EvalsError(f"model {shown}: no such directory")
    if not path.is_dir():
        raise EvalsError(f"model {shown}: not a directory")
    if not (path / "config.json").is_file():
        raise EvalsError(f"model {shown}: no config.json in the directory")


def read_chat_template(model_dir: Path) -> str | None:
    """The chat template text, wherever transformers keeps it, or None when there is none.

    transformers 5 writes ``chat_template.jinja``; older checkpoints keep the template
    in ``tokenizer_config.json`` (a string, or a list of named templates) or in
    ``chat_template.json``.
    """
    jinja = model_dir / "chat_template.jinja"
    if jinja.is_file():
        return jinja.read_text("utf-8")
    for name in ("tokenizer_config.json", "chat_template.json"):
        template = _template_from_json(model_dir / name)
        if template:
            return template
    return None


def template_opens_thinking(template: str | None) -> bool:
    """Whether the template handles a ``<think>`` block (R1 distills open one, Qwen3 expects one)."""
    return template is not None and THINK_OPEN in template


def _template_from_json(path: Path) -> str | None:
    try:
        data = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    template = data.get("chat_template") if isinstance(data, dict) else None
    if isinstance(template, list):
        named = {entry.get("name"): entry.get("template") for entry in template if isinstance(entry, dict)}
        template = named.get("default") or next(iter(named.values()), None)
    return template if isinstance(template, str) and template else None
