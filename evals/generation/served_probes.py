"""Budget probes of a served model through vLLM's completions endpoint, on token ids.

A chat server renders prompts itself, so the probe prompt is assembled from the server's
own tokenizer: ``/tokenize`` of the chat messages (with the generation prompt), of the
stored answer (a separate reasoning field first, inside a think block: the budget counts
reasoning and answer tokens in generation order; cut at the budget) and of the closing
text, then ``/v1/completions`` with those ids, greedily. The endpoints are vLLM's
(``vllm serve``); a server without ``/tokenize`` cannot be probed and says so in one line.
A probe that fails is stored failed (a rerun probes it again).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from evals.errors import EvalsError
from evals.generation.http_retry import display_url, one_line, server_message
from evals.probes import PROBE_STOP, ProbeCompletion, ProbeRequest
from evals.records import Prompt


class ServedProber:
    """Probes against one server and model, one request at a time."""

    def __init__(self, base_url: str, model_name: str, api_key: str | None, timeout_s: float) -> None:
        self._v1 = base_url.rstrip("/")
        self._root = self._v1.removesuffix("/v1")
        self._model = model_name
        self._headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._secrets = (api_key,) if api_key else ()
        self._timeout_s = timeout_s
        self._prompts: dict[Prompt, tuple[list[int], str]] = {}

    def probe(self, requests: Sequence[ProbeRequest], on_finished: Callable[[Sequence[Any]], None]) -> None:
        with httpx.Client(timeout=self._timeout_s, headers=self._headers) as http:
            for request in requests:
                on_finished([self._one(http, request)])

    def _post(self, http: httpx.Client, url: str, body: dict[str, Any]) -> dict[str, Any]:
        response = http.post(url, json={"model": self._model, **body})
        if response.status_code == 404 and url.endswith("/tokenize"):
            raise EvalsError(
                f"{display_url(self._v1)} has no /tokenize: budget probes of served models need vllm serve"
            )
        if response.status_code != 200:
            raise _ProbeFailed(
                one_line(f"HTTP {response.status_code}: {server_message(response.content)}", self._secrets)
            )
        data: dict[str, Any] = response.json()
        return data

    def _prompt(self, http: httpx.Client, prompt: Prompt) -> tuple[list[int], str]:
        cached = self._prompts.get(prompt)
        if cached is None:
            messages = [{"role": m.role, "content": m.content} for m in prompt.messages]
            ids = self._post(
                http, f"{self._root}/tokenize", {"messages": messages, "add_generation_prompt": True}
            )
            text = self._post(http, f"{self._root}/detokenize", {"tokens": ids["tokens"]})["prompt"]
            cached = self._prompts[prompt] = (list(ids["tokens"]), str(text))
        return cached

    def _one(self, http: httpx.Client, request: ProbeRequest) -> ProbeCompletion:
        started = time.perf_counter()
        try:
            prompt_ids, prompt_text = self._prompt(http, request.prompt)
            output_ids = request.output_token_ids
            if output_ids is None:  # reasoning returned apart counts first (see generated_text)
                body = {"prompt": request.generated_text(prompt_text), "add_special_tokens": False}
                output_ids = tuple(self._post(http, f"{self._root}/tokenize", body)["tokens"])
            kept = list(output_ids[: request.budget])
            kept_text = (
                str(self._post(http, f"{self._root}/detokenize", {"tokens": kept})["prompt"]) if kept else ""
            )
            closing = request.closing_after(prompt_text, kept_text)
            body = {"prompt": closing, "add_special_tokens": False}
            closing_ids = self._post(http, f"{self._root}/tokenize", body)["tokens"]
            ids = [*prompt_ids, *kept, *closing_ids]
            reply = self._post(
                http,
                f"{self._v1}/completions",
                {
                    "prompt": ids,
                    "max_tokens": request.max_tokens,
                    "temperature": 0.0,
                    "stop": list(PROBE_STOP),
                },
            )
            choice, usage = reply["choices"][0], reply.get("usage") or {}
            return ProbeCompletion(
                request=request,
                closing=closing,
                output=str(choice.get("text") or ""),
                prompt_tokens=int(usage.get("prompt_tokens", len(ids))),
                completion_tokens=int(usage.get("completion_tokens", 0)),
                finish_reason=str(choice.get("finish_reason") or "stop"),
                engine_seconds=time.perf_counter() - started,
            )
        except (_ProbeFailed, httpx.HTTPError, KeyError, ValueError, TypeError) as error:
            message = str(error) if isinstance(error, _ProbeFailed) else f"{type(error).__name__}: {error}"
            return ProbeCompletion(
                request,
                "",
                "",
                0,
                0,
                "error",
                time.perf_counter() - started,
                one_line(message, self._secrets),
            )


class _ProbeFailed(Exception):
    """The server answered a probe's request with an error (the message is one line)."""
