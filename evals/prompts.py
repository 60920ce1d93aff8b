"""Prompt stage: render an Item into chat messages with its task's template.

Templates are ``str.format`` strings validated when the spec loads; the only fields
are ``{question}``, ``{choices_block}`` ("(A) first option" lines), ``{letters}``
("A, B, C or D") and ``{subtask}``. Item text is substituted verbatim, never parsed.
"""

from __future__ import annotations

from evals.records import ChatMessage, Item, Prompt
from evals.tasks.spec import TaskSpec

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def build_prompt(item: Item, spec: TaskSpec, system_prompt: str | None = None) -> Prompt:
    """The messages for ``item``: a system message if any, then the user message.

    ``system_prompt`` replaces the task's own system prompt; pass ``""`` for none.
    """
    template = spec.prompt.template_for(item.answer_type)
    user = template.format(**template_values(item))
    system = spec.prompt.system if system_prompt is None else system_prompt
    messages = (ChatMessage("system", system),) if system else ()
    return Prompt(item, (*messages, ChatMessage("user", user)))


def template_values(item: Item) -> dict[str, str]:
    """The values of every template field for ``item``."""
    letters = LETTERS[: len(item.choices)]
    block = "\n".join(f"({letter}) {text}" for letter, text in zip(letters, item.choices, strict=True))
    return {
        "question": item.question,
        "choices_block": block,
        "letters": _spoken_list(list(letters)),
        "subtask": item.subtask or "",
    }


def _spoken_list(words: list[str]) -> str:
    """``["A", "B", "C"]`` -> ``"A, B or C"``."""
    if len(words) < 2:
        return "".join(words)
    return f"{', '.join(words[:-1])} or {words[-1]}"
