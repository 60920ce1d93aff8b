"""Metrics: accuracy with error bars, pass@k, maj@k, paired comparisons and cost per answer.

Takes the rows of ``samples.parquet`` (one per model, task, item and sample) and
returns typed records; see :mod:`evals.metrics.summary` for the definitions.
"""

from evals.metrics.cost import (
    ApiPriced,
    CostBasis,
    PriceTable,
    PriceTableSpec,
    SelfHosted,
    UnknownPrice,
    cost_basis,
    load_price_table,
    sample_costs,
)
from evals.metrics.paired import PairedComparison, paired_comparison
from evals.metrics.sampling import (
    MajorityVote,
    default_ks,
    majority_vote,
    normalize_answer,
    pass_at_k,
)
from evals.metrics.summary import summarize
from evals.metrics.summary_file import SummaryRow, read_summary, write_summary

__all__ = [
    "ApiPriced",
    "CostBasis",
    "MajorityVote",
    "PairedComparison",
    "PriceTable",
    "PriceTableSpec",
    "SelfHosted",
    "SummaryRow",
    "UnknownPrice",
    "cost_basis",
    "default_ks",
    "load_price_table",
    "majority_vote",
    "normalize_answer",
    "paired_comparison",
    "pass_at_k",
    "read_summary",
    "sample_costs",
    "summarize",
    "write_summary",
]
