"""A tiny Llama with random weights and a locally trained tokenizer, for fast real tests.

Its answers are gibberish, but it exercises the real path: a Hugging Face directory
that vLLM and transformers load, a chat template, special tokens, token counts.
The architecture respects vLLM's CPU kernels (head dim 32; 16 is unsupported there).
The same seed gives byte-identical files, hence the same weights hash.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from evals.models.hf_quiet import quiet_transformers

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

BOS, EOS, PAD = "<s>", "</s>", "<pad>"
ROLE_TOKENS = ("<|system|>", "<|user|>", "<|assistant|>")
SPECIAL_TOKENS = (PAD, BOS, EOS, *ROLE_TOKENS)
# A reasoning model's markers, one token each (vLLM's <think> reasoning parsers need them so).
THINK_TOKENS = ("<think>", "</think>")
VOCAB_SIZE = 1024
HIDDEN_SIZE = 64
HEADS = 2  # head dim 64 / 2 = 32
LAYERS = 2
INTERMEDIATE_SIZE = 128
MAX_POSITIONS = 1024
# Weights drawn wider than Llama's usual 0.02: at 0.02 the logits are nearly flat and greedy
# decoding repeats one token forever; at 0.3 outputs vary with the prompt.
INIT_STD = 0.3
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{{ '<|' + message['role'] + '|>\\n' + message['content'] + eos_token + '\\n' }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}"
)

_NAMES = ("Ana", "Ben", "Chen", "Dara", "Eli", "Fay", "Gus", "Hana", "Ivo", "Jun")
_THINGS = ("apples", "books", "coins", "eggs", "marbles", "pens", "shells", "stamps")
# fmt: off
_WORDS = (
    "the", "answer", "is", "what", "how", "many", "total", "each", "more", "fewer", "left",
    "after", "before", "then", "so", "first", "second", "step", "add", "subtract", "multiply",
    "divide", "plus", "minus", "times", "equals", "sum", "difference", "product", "question",
    "solve", "number", "final", "result", "because", "therefore",
)
# fmt: on


def build_tiny_model(out_dir: Path, *, seed: int = 0, think_tokens: bool = False) -> Path:
    """Write the tiny model (config, safetensors weights, tokenizer) into ``out_dir``.

    ``think_tokens``: ``<think>`` and ``</think>`` are special tokens of its vocabulary.
    """
    import torch
    from transformers import AutoModelForCausalLM, LlamaConfig

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tokenizer = build_tiny_tokenizer(seed=seed, think_tokens=think_tokens)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=HIDDEN_SIZE,
        intermediate_size=INTERMEDIATE_SIZE,
        num_hidden_layers=LAYERS,
        num_attention_heads=HEADS,
        num_key_value_heads=HEADS,
        head_dim=HIDDEN_SIZE // HEADS,
        max_position_embeddings=MAX_POSITIONS,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
        initializer_range=INIT_STD,
        dtype="bfloat16",
    )
    # A private RNG stream: building the model must not disturb the caller's torch seed.
    with torch.random.fork_rng(devices=[]), quiet_transformers():
        torch.manual_seed(seed)
        model = AutoModelForCausalLM.from_config(config, dtype=torch.bfloat16)
        model.save_pretrained(out_dir)
        tokenizer.save_pretrained(out_dir)
    return out_dir


def build_tiny_tokenizer(*, seed: int = 0, think_tokens: bool = False) -> PreTrainedTokenizerFast:
    """A byte-level BPE tokenizer trained on generated English and arithmetic text.

    Digits are split one per token (as Llama does) so numbers tokenize predictably.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    backend = Tokenizer(models.BPE())
    backend.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False),
        ]
    )
    backend.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=[*SPECIAL_TOKENS, *(THINK_TOKENS if think_tokens else ())],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    backend.train_from_iterator(training_text(seed=seed), trainer=trainer)
    extra = {"additional_special_tokens": list(THINK_TOKENS)} if think_tokens else {}
    return PreTrainedTokenizerFast(
        tokenizer_object=backend,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        **extra,
        chat_template=CHAT_TEMPLATE,
        model_max_length=MAX_POSITIONS,
    )


def training_text(*, seed: int = 0, sentences: int = 3000) -> Iterator[str]:
    """Generated sentences: small word problems, equations and filler words."""
    rng = random.Random(seed)
    for _ in range(sentences):
        name, thing = rng.choice(_NAMES), rng.choice(_THINGS)
        a, b = rng.randint(0, 999), rng.randint(0, 99)
        yield rng.choice(
            (
                f"{name} has {a} {thing} and gets {b} more, so {name} has {a + b} {thing}.",
                f"What is {a} plus {b}? The answer is {a + b}.",
                f"{a} - {b} = {a - b}, and {a} * {b} = {a * b}.",
                " ".join(rng.choice(_WORDS) for _ in range(rng.randint(4, 12))).capitalize() + ".",
            )
        )
