"""The exact prompt text and token ids a local model sees, rendered as the vLLM backend does.

Chat template applied once with the generation prompt; no template (base models):
the contents joined by blank lines, as lm-evaluation-harness does. The template
already holds any BOS token, so tokenizing adds no special tokens.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from evals.records import Prompt


@dataclass(frozen=True)
class RenderedPrompt:
    text: str
    token_ids: tuple[int, ...]


def render_prompt(
    tokenizer: Any, prompt: Prompt, template_kwargs: Mapping[str, Any] | None = None
) -> RenderedPrompt:
    """``prompt`` rendered by a Hugging Face tokenizer (the same text vLLM's backend renders).

    ``template_kwargs`` (a suite's ``chat_template_kwargs``, e.g. ``enable_thinking``) are
    passed to the chat template.
    """
    messages = [{"role": m.role, "content": m.content} for m in prompt.messages]
    if getattr(tokenizer, "chat_template", None) is not None:
        text = tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True, **dict(template_kwargs or {})
        )
    else:
        text = "\n\n".join(m["content"] for m in messages) + "\n"
    token_ids = tuple(tokenizer(text, add_special_tokens=False)["input_ids"])
    return RenderedPrompt(str(text), token_ids)
