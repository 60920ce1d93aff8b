"""Generation: turn prompts into completions with an engine (vLLM) or a replay table."""

from evals.generation.base import GenerationRequest, SamplingSettings, sample_seed

__all__ = ["GenerationRequest", "SamplingSettings", "sample_seed"]
