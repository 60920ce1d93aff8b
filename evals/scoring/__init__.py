"""Scoring: extract the final answer from a model output and judge it against the gold."""
