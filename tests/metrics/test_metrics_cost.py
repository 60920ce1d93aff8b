"""The shipped price table, user overrides, cost bases and per-sample costs."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from evals.errors import ConfigError
from evals.metrics import (
    ApiPriced,
    SelfHosted,
    UnknownPrice,
    cost_basis,
    load_price_table,
    sample_costs,
)


@pytest.mark.parametrize(
    "name",
    ["H100", "H200", "A100-80GB", "A100-40GB", "L40S", "L4", "A10G", "T4", "cpu-core"],
)
def test_shipped_table_prices_every_accelerator_the_brief_names(name: str) -> None:
    price = load_price_table().accelerators[name]
    assert price.usd_per_hour > 0 and price.source and price.read <= date.today()


@pytest.mark.parametrize(
    "name",
    [
        "deepseek-r1",
        "deepseek-reasoner",
        "deepseek-v3",
        "deepseek-chat",
        "gpt-4o",
        "gpt-4o-mini",
        "o1",
        "o3-mini",
        "claude-3-7-sonnet",
    ],
)
def test_shipped_table_prices_the_api_models_issue_3_names(name: str) -> None:
    basis = cost_basis(load_price_table(), accelerator=None, count=0, api_model=name)
    assert isinstance(basis, ApiPriced) and basis.usd_per_m_output >= basis.usd_per_m_input > 0


@pytest.mark.parametrize(
    ("reported", "canonical"),
    [
        pytest.param("NVIDIA H100 80GB HBM3", "H100", id="torch.cuda.get_device_name on an H100 SXM"),
        pytest.param("NVIDIA H100 PCIe", "H100-PCIe", id="torch name of the PCIe card"),
        pytest.param("NVIDIA H200", "H200", id="torch name of an H200"),
        pytest.param("NVIDIA A100-SXM4-80GB", "A100-80GB", id="torch name of an A100 80GB"),
        pytest.param("NVIDIA A100-PCIE-40GB", "A100-40GB", id="torch name of an A100 40GB PCIe"),
        pytest.param("Tesla T4", "T4", id="torch name of a T4"),
        pytest.param("nvidia l40s", "L40S", id="case and spacing ignored"),
    ],
)
def test_reported_device_names_find_their_price(reported: str, canonical: str) -> None:
    basis = cost_basis(load_price_table(), accelerator=reported, count=8, api_model=None)
    assert isinstance(basis, SelfHosted) and (basis.accelerator, basis.count) == (canonical, 8)


@pytest.mark.parametrize(
    ("accelerator", "count", "api_model", "reason"),
    [
        pytest.param(
            "A100",
            1,
            None,
            "'A100' in the price table (did you mean one of 'A100-80GB', 'A100-40GB'?)",
            id="ambiguous name lists both sizes",
        ),
        pytest.param("B300", 1, None, "no price for accelerator 'B300'", id="unknown accelerator"),
        pytest.param(None, 0, "gpt-5-turbo", "no price for API model 'gpt-5-turbo'", id="unknown API model"),
        pytest.param(None, 0, None, "no accelerator or API model recorded", id="nothing to price"),
        pytest.param("H100", 0, None, "count must be at least 1, got 0", id="zero accelerators"),
    ],
)
def test_unpriced_bases_say_why(
    accelerator: str | None, count: int, api_model: str | None, reason: str
) -> None:
    basis = cost_basis(load_price_table(), accelerator=accelerator, count=count, api_model=api_model)
    assert isinstance(basis, UnknownPrice) and reason in basis.reason
    assert basis.describe().startswith("unknown price: ")


def test_sample_costs_by_engine_time_and_by_tokens() -> None:
    tokens_in, tokens_out, seconds = np.array([1e6, 0.0]), np.array([5e5, 2e6]), np.array([3600.0, 1800.0])
    self_hosted = SelfHosted("H100", 2, 1.5, "test", date(2025, 3, 1))
    api = ApiPriced("m", 2.5, 10.0, "test", date(2025, 3, 1))
    # 3600 s x 2 GPUs x $1.5/h = $3; half that time = $1.5
    assert sample_costs(self_hosted, tokens_in, tokens_out, seconds) == pytest.approx([3.0, 1.5])
    # 1M x $2.5 + 0.5M x $10 = $7.5; 2M output x $10 = $20
    assert sample_costs(api, tokens_in, tokens_out, seconds) == pytest.approx([7.5, 20.0])
    assert sample_costs(UnknownPrice("x"), tokens_in, tokens_out, seconds) is None


def test_user_file_overrides_and_extends(tmp_path: Path) -> None:
    user = tmp_path / "prices.yaml"
    user.write_text(
        "accelerators:\n"
        "  H100: {usd_per_hour: 1.25, source: our contract, read: 2026-01-02}\n"
        "  MI300X: {usd_per_hour: 2.0, aliases: [AMD Instinct MI300X], source: quote, read: 2026-01-02}\n"
        "api_models:\n"
        "  our-r1: {usd_per_m_input: 0.1, usd_per_m_output: 0.2, aliases: [deepseek-r1],\n"
        "           source: x, read: 2026-01-02}\n"
    )
    table = load_price_table(user)
    h100 = cost_basis(table, accelerator="NVIDIA H100 80GB HBM3", count=1, api_model=None)
    assert isinstance(h100, SelfHosted) and (h100.usd_per_hour_each, h100.source) == (1.25, "our contract")
    assert isinstance(
        cost_basis(table, accelerator="AMD Instinct MI300X", count=1, api_model=None), SelfHosted
    )
    r1 = cost_basis(table, accelerator=None, count=0, api_model="deepseek-r1")
    assert isinstance(r1, ApiPriced) and r1.model_key == "our-r1"  # the user's alias wins
    assert "L4" in table.accelerators and table.files[-1] == user


def test_every_problem_of_a_price_file_is_reported_at_once(tmp_path: Path) -> None:
    user = tmp_path / "prices.yaml"
    user.write_text(
        "accelerators:\n"
        "  X1: {usd_per_hour: -1, source: s, read: 2026-01-02}\n"
        "  X2: {usd_per_hour: 1, source: s, read: 2026-01-02, colour: red}\n"
        "  X3: {usd_per_hour: 1, aliases: [x1], source: s, read: 2026-01-02}\n"
        "api_models:\n"
        "  m: {usd_per_m_input: 1, source: s, read: not-a-date}\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_price_table(user)
    text = " | ".join(caught.value.problems)
    for fragment in (
        "accelerators.X1.usd_per_hour",
        "accelerators.X2.colour",
        "api_models.m.usd_per_m_output",
        "api_models.m.read",
    ):
        assert fragment in text
    assert all(problem.startswith(str(user)) for problem in caught.value.problems)


def test_alias_clash_within_a_file_is_an_error(tmp_path: Path) -> None:
    user = tmp_path / "prices.yaml"
    user.write_text(
        "accelerators:\n"
        "  X1: {usd_per_hour: 1, source: s, read: 2026-01-02}\n"
        "  X3: {usd_per_hour: 2, aliases: [x1], source: s, read: 2026-01-02}\n"
    )
    with pytest.raises(ConfigError, match="accelerators.X3: name or alias 'x1' also names 'X1'"):
        load_price_table(user)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("accelerators: [", "invalid YAML", id="broken YAML"),
        pytest.param("- H100\n", "a price table is a mapping, got list", id="a list"),
        pytest.param("gpus: {}\n", "gpus: Extra inputs are not permitted", id="unknown section"),
    ],
)
def test_malformed_price_files(tmp_path: Path, text: str, message: str) -> None:
    user = tmp_path / "prices.yaml"
    user.write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_price_table(user)


def test_missing_user_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read price table"):
        load_price_table(tmp_path / "absent.yaml")
