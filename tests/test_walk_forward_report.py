"""The report writers: JSON-ready values, fee labels, untested stretches, the chart, tables."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd

from trading_agent.evaluation.equity_chart import write_equity_chart
from trading_agent.evaluation.report_markdown import overall_table
from trading_agent.launch.walk_forward_report import (
    chart_fee,
    fee_label,
    plain,
    untested_stretches,
)


def test_values_become_plain_json() -> None:
    value = {"a": math.nan, "b": [1.5, math.inf], "c": pd.Timestamp("2024-01-01", tz="UTC")}
    assert plain(value) == {"a": None, "b": [1.5, None], "c": "2024-01-01T00:00:00+00:00"}
    json.dumps(plain(value), allow_nan=False)


def test_fee_labels_and_the_charted_fee() -> None:
    assert fee_label(0.0) == "0 %"
    assert fee_label(0.0005) == "0.05 % (MEXC taker)"
    assert fee_label(0.001) == "0.1 %"
    assert chart_fee([0.0, 0.001, 0.0005]) == 0.001
    assert chart_fee([0.0, 0.0005]) == 0.0005


def fold(number: int, test: tuple[str, str], skipped: str | None = None) -> dict:
    return {"number": number, "test": list(test), "skipped": skipped}


def test_untested_stretches_lie_between_the_folds_that_ran() -> None:
    report = {
        "folds": [
            fold(1, ("2022-01-01", "2022-04-01")),
            fold(2, ("2022-04-01", "2022-07-01"), skipped="no data"),
            fold(3, ("2022-07-01", "2022-10-01")),
            fold(4, ("2022-10-01", "2023-01-01")),
        ]
    }
    assert untested_stretches(report) == [(pd.Timestamp("2022-04-01"), pd.Timestamp("2022-07-01"))]


def test_the_chart_is_a_png_with_gaps_shaded(tmp_path: Path) -> None:
    index = pd.date_range("2022-01-01", periods=200, freq="1D", tz="UTC")
    curve = pd.Series(1000 * np.exp(np.linspace(0, 0.3, 200)), index=index)
    gap = (index[80], index[120])
    write_equity_chart(tmp_path / "equity.png", {"a": curve, "b": curve * 0.9}, "t", [gap])
    assert (tmp_path / "equity.png").read_bytes()[:4] == b"\x89PNG"


def test_the_overall_table_has_a_row_per_row_and_fee() -> None:
    stats = {
        "total_return_pct": 1.234,
        "cagr_pct": 5.0,
        "sharpe": None,
        "sortino": 0.5,
        "calmar": 0.1,
        "max_drawdown_pct": 2.0,
        "exposure_pct": 50.0,
        "turnover_per_year": 3.0,
        "trades": 7,
        "fees_quote": 1.0,
        "fees_pct": 0.1,
        "folds": [1, 2],
    }
    report = {
        "fees": [{"fee": 0.0, "label": "0 %"}, {"fee": 0.001, "label": "0.1 %"}],
        "rows": {"strategy": "S (selected)", "bh": "buy-and-hold"},
        "overall": {"strategy": {"0.0": stats, "0.001": stats}, "bh": {"0.001": stats}},
    }
    lines = overall_table(report).splitlines()
    assert len(lines) == 2 + 3
    assert lines[2].startswith("| S (selected) | 0 % | 2 | +1.23 | +5.00 | n/a | 0.50 |")
    assert lines[-1].startswith("| buy-and-hold | 0.1 % | 2 |")
