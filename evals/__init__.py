"""evals: compare language models on reasoning benchmarks by accuracy and by cost per answer."""

__version__ = "0.1.0"
