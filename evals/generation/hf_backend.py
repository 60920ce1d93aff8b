"""Generation with transformers ``generate``: for models vLLM does not run, and to cross-check it.

Prompts are rendered exactly as the vLLM backend renders them (``render_prompt``) and
batched with left padding. Decoding is greedy for temperature 0; otherwise each row
samples with its own ``torch.Generator`` seeded by the sample's seed (a logits
processor draws the token and ``generate`` keeps it), so a sample depends on its seed
and not on which other prompts shared its batch. Records match the other backends:
completion tokens count the end-of-sequence token as vLLM does, and the text is
detokenized as vLLM does it (streamed, special tokens left out).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from evals.errors import EvalsError
from evals.generation.base import GenerationRequest, OnFinished, SamplingSettings, apportion_seconds
from evals.generation.render import RenderedPrompt, render_prompt
from evals.probes import PROBE_STOP, ProbeCompletion, ProbeRequest
from evals.records import Completion

if TYPE_CHECKING:
    import torch

    from evals.generation.vllm_backend import EngineSetup
    from evals.plan import ModelPlan

DEFAULT_BATCH_SIZE = 16
OnProbes = Callable[[Sequence[ProbeCompletion]], None]
_DTYPES = {"float32": "float32", "float": "float32", "bfloat16": "bfloat16", "float16": "float16",
           "half": "float16", "auto": "auto"}  # fmt: skip


class SeededSampler:
    """A logits processor that samples each row with its own generator and forces that token.

    Returned scores are 0 at the drawn token and -inf elsewhere, so greedy selection in
    ``generate`` picks exactly the token this row's generator drew.
    """

    def __init__(self, temperature: float, top_p: float, generators: Sequence[torch.Generator]) -> None:
        self._temperature = temperature
        self._top_p = top_p
        self._generators = list(generators)

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        import torch

        probs = torch.softmax(scores.float() / self._temperature, dim=-1)
        if self._top_p < 1.0:
            probs = _nucleus(probs, self._top_p)
        drawn = torch.stack(
            [
                torch.multinomial(row, 1, generator=gen)
                for row, gen in zip(probs, self._generators, strict=True)
            ]
        )
        forced = torch.full_like(scores, float("-inf"))
        return forced.scatter_(1, drawn, 0.0)  # type: ignore[return-value]


def _nucleus(probs: torch.Tensor, top_p: float) -> torch.Tensor:
    """Zero every token outside the smallest set whose probability reaches ``top_p``."""
    import torch

    sorted_probs, order = torch.sort(probs, descending=True, dim=-1)
    before = torch.cumsum(sorted_probs, dim=-1) - sorted_probs  # mass of the tokens ranked above
    sorted_probs = sorted_probs.masked_fill(before >= top_p, 0.0)
    return torch.zeros_like(probs).scatter_(-1, order, sorted_probs)


class HFBackend:
    """One transformers model on the best device here (CUDA if present, else CPU)."""

    def __init__(self, model_path: str, dtype: str = "auto", batch_size: int = DEFAULT_BATCH_SIZE) -> None:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from evals.models.hf_quiet import quiet_transformers

        if dtype not in _DTYPES:
            raise EvalsError(f"dtype {dtype!r} is not one of {', '.join(_DTYPES)} (hf backend)")
        self._device = "cuda" if torch.cuda.is_available() else "cpu"
        started = time.perf_counter()
        try:
            with quiet_transformers():
                self._tokenizer = AutoTokenizer.from_pretrained(model_path)
                model = AutoModelForCausalLM.from_pretrained(model_path, dtype=_DTYPES[dtype])
        except (OSError, ValueError) as error:
            first_line = (str(error).strip().splitlines() or [type(error).__name__])[0]
            raise EvalsError(f"could not load {model_path} with transformers: {first_line}") from None
        self._model: Any = model.to(self._device).eval()  # type: ignore[arg-type]
        self.load_seconds = time.perf_counter() - started
        self._tokenizer.padding_side = "left"
        self._eos_ids = _eos_ids(self._tokenizer, self._model)
        self._pad_id = (
            self._tokenizer.pad_token_id if self._tokenizer.pad_token_id is not None else self._eos_ids[0]
        )
        self._batch_size = batch_size

    def render(self, request: GenerationRequest) -> RenderedPrompt:
        return render_prompt(self._tokenizer, request.prompt)

    def generate(self, requests: Sequence[GenerationRequest], on_finished: OnFinished) -> None:
        """Batches of equal settings, longest prompts first (padding and memory peak early)."""
        rendered = [(request, self.render(request)) for request in requests]
        by_settings: dict[tuple[float, float, int], list[tuple[GenerationRequest, RenderedPrompt]]] = {}
        for request, prompt in rendered:
            s = request.sampling
            by_settings.setdefault((s.temperature, s.top_p, s.max_tokens), []).append((request, prompt))
        for group in by_settings.values():
            group.sort(key=lambda pair: len(pair[1].token_ids), reverse=True)
            for start in range(0, len(group), self._batch_size):
                on_finished(self._generate_batch(group[start : start + self._batch_size]))

    def _run(
        self, prompts: Sequence[Sequence[int]], config: Any, **generate: Any
    ) -> tuple[list[list[int]], float]:
        """The new tokens of each prompt (left-padded into one batch) and the batch's seconds."""
        import torch

        padded = self._tokenizer.pad(
            {"input_ids": [list(ids) for ids in prompts]}, padding=True, return_tensors="pt"
        ).to(self._device)
        started = time.perf_counter()
        with torch.inference_mode():
            output = self._model.generate(
                input_ids=padded["input_ids"],
                attention_mask=padded["attention_mask"],
                generation_config=config,
                **generate,
            )
        return output[:, padded["input_ids"].shape[1] :].tolist(), time.perf_counter() - started

    def _generate_batch(self, batch: Sequence[tuple[GenerationRequest, RenderedPrompt]]) -> list[Completion]:
        sampling = batch[0][0].sampling
        new_tokens, seconds = self._run(
            [prompt.token_ids for _, prompt in batch],
            self._generation_config(sampling.max_tokens),
            logits_processor=self._sampler(sampling, [request.sampling.seed for request, _ in batch]),
        )
        rows = [self._finished_row(tokens, sampling.max_tokens) for tokens in new_tokens]
        weights = [
            len(prompt.token_ids) + len(tokens) for (_, prompt), (tokens, _) in zip(batch, rows, strict=True)
        ]
        return [
            Completion(
                key=request.key,
                prompt_text=prompt.text,
                output=self._text(prompt.token_ids, tokens),
                reasoning=None,
                prompt_tokens=len(prompt.token_ids),
                completion_tokens=len(tokens),
                finish_reason=finish_reason,
                engine_seconds=share,
                seed=request.sampling.seed,
                output_token_ids=tuple(tokens),
            )
            for (request, prompt), (tokens, finish_reason), share in zip(
                batch, rows, apportion_seconds(seconds, weights), strict=True
            )
        ]

    def probe(self, requests: Sequence[ProbeRequest], on_finished: OnProbes) -> None:
        """Forced answers: prompt ids + the first ``budget`` completion ids + closing, greedily.

        Generation stops at a blank line (``PROBE_STOP``), left out of the text as vLLM does.
        Each sample's probes stay adjacent, in batches of the backend's batch size.
        """
        inputs = [(request, *self._probe_input(request)) for request in requests]
        for start in range(0, len(inputs), self._batch_size):
            batch = inputs[start : start + self._batch_size]
            max_tokens = max(request.max_tokens for request, _, _ in batch)
            config = self._generation_config(max_tokens, stop_strings=list(PROBE_STOP))
            new_tokens, seconds = self._run([ids for _, ids, _ in batch], config, tokenizer=self._tokenizer)
            rows = [
                self._probe_row(tokens, request.max_tokens)
                for (request, _, _), tokens in zip(batch, new_tokens, strict=True)
            ]
            weights = [len(ids) + len(tokens) for (_, ids, _), (tokens, _) in zip(batch, rows, strict=True)]
            on_finished([
                ProbeCompletion(
                    request=request,
                    closing=closing,
                    output=self._text(ids, tokens).split(PROBE_STOP[0])[0],
                    prompt_tokens=len(ids),
                    completion_tokens=len(tokens),
                    finish_reason=finish_reason,
                    engine_seconds=share,
                )
                for (request, ids, closing), (tokens, finish_reason), share in zip(
                    batch, rows, apportion_seconds(seconds, weights), strict=True
                )
            ])  # fmt: skip

    def _probe_input(self, request: ProbeRequest) -> tuple[list[int], str]:
        rendered = render_prompt(self._tokenizer, request.prompt)
        output_ids = request.output_token_ids
        if output_ids is None:  # a completion stored without ids: its text, tokenized
            text = request.generated_text(rendered.text)
            output_ids = tuple(self._tokenizer(text, add_special_tokens=False)["input_ids"])
        kept = list(output_ids[: request.budget])
        closing = request.closing_after(rendered.text, str(self._tokenizer.decode(kept)))
        closing_ids = self._tokenizer(closing, add_special_tokens=False)["input_ids"]
        return [*rendered.token_ids, *kept, *closing_ids], closing

    def _probe_row(self, tokens: list[int], max_tokens: int) -> tuple[list[int], str]:
        """A probe's tokens up to its end-of-sequence token or blank line, and why it ended."""
        tokens, reason = self._finished_row(tokens, max_tokens)
        for index in range(len(tokens)):
            if PROBE_STOP[0] in self._tokenizer.decode(tokens[: index + 1]):
                return tokens[: index + 1], "stop"
        return tokens, reason

    def _text(self, prompt_ids: Sequence[int], tokens: Sequence[int]) -> str:
        """The output text as vLLM detokenizes it: streamed after the prompt, end-of-sequence left out.

        A stream holds back bytes that do not form a whole UTF-8 character yet, so an
        output cut off inside a character ends without it (a plain ``decode`` would end
        in U+FFFD there); slow tokenizers have no stream and use ``decode``.
        """
        body = [t for t in tokens if t not in self._eos_ids]
        backend = getattr(self._tokenizer, "backend_tokenizer", None)
        if backend is None:
            return str(self._tokenizer.decode(body, skip_special_tokens=True))
        from tokenizers.decoders import DecodeStream

        stream = DecodeStream(ids=list(prompt_ids), skip_special_tokens=True)
        return "".join(stream.step(backend, token) or "" for token in body)

    def _generation_config(self, max_tokens: int, stop_strings: list[str] | None = None) -> Any:
        from transformers import GenerationConfig

        # Neutral values set explicitly: unset ones would come from the model's generation_config
        # (a repetition penalty, say), which the vLLM backend does not apply either.
        return GenerationConfig(
            max_new_tokens=max_tokens,
            do_sample=False,
            num_beams=1,
            repetition_penalty=1.0,
            no_repeat_ngram_size=0,
            min_new_tokens=0,
            pad_token_id=self._pad_id,
            eos_token_id=list(self._eos_ids),
            stop_strings=stop_strings,
        )

    def _sampler(self, sampling: SamplingSettings, seeds: Sequence[int | None]) -> Any:
        import torch
        from transformers import LogitsProcessorList

        if sampling.temperature == 0.0:
            return LogitsProcessorList()
        generators = []
        for seed in seeds:
            generator = torch.Generator(device=self._device)
            if seed is None:
                generator.seed()
            else:
                generator.manual_seed(seed)
            generators.append(generator)
        return LogitsProcessorList([SeededSampler(sampling.temperature, sampling.top_p, generators)])

    def _finished_row(self, tokens: list[int], max_tokens: int) -> tuple[list[int], str]:
        """The row's tokens up to and including its end-of-sequence token, and why it ended."""
        for index, token in enumerate(tokens):
            if token in self._eos_ids:
                return tokens[: index + 1], "stop"
        return tokens[:max_tokens], "length"

    def close(self) -> None:
        del self._model


def _eos_ids(tokenizer: Any, model: Any) -> tuple[int, ...]:
    """End-of-sequence ids from the generation config (may be several) and the tokenizer."""
    configured = getattr(model.generation_config, "eos_token_id", None)
    ids = configured if isinstance(configured, list) else [configured]
    ids = [*ids, tokenizer.eos_token_id]
    found = tuple(dict.fromkeys(int(i) for i in ids if i is not None))
    if not found:
        raise EvalsError(
            "the model defines no end-of-sequence token; the hf backend cannot tell when to stop"
        )
    return found


def make_hf_backend(model: ModelPlan, setup: EngineSetup, seed: int) -> HFBackend:
    """The backend for a suite entry with ``backend: hf`` (dtype as the vLLM engine would use)."""
    batch_size = model.entry.engine.max_num_seqs or DEFAULT_BATCH_SIZE
    return HFBackend(str(model.model.path_or_id), dtype=setup.dtype, batch_size=batch_size)
