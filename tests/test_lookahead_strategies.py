"""Freqtrade's own ``lookahead-analysis`` on every strategy: no biased entry, exit or indicator.

For each of a handful of trades Freqtrade re-runs the backtest with the data cut at the
trade's entry and exit, and compares signals and every indicator column with the full run.
Offline through the local venue, on one to two weeks of recorded Binance candles.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from trading_agent.launch.evaluate_strategies import offline_configs, offline_venue, run_freqtrade

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("strategy", "timeframe", "timerange"),
    [
        ("FlashStrategy", "5m", "20240205-20240212"),
        ("EnhancedFlashStrategy", "5m", "20240201-20240215"),
        # 1h base, regime from 1d candles: from May 2024 the 120-day momentum is known
        ("RegimeStrategy", "1h", "20240501-20240920"),
    ],
)
def test_lookahead_analysis_finds_no_bias(
    strategy: str,
    timeframe: str,
    timerange: str,
    tmp_path: Path,
    binance_dir: Path,
    committed_strategies: Path,
) -> None:
    report = tmp_path / "lookahead.csv"
    with offline_venue(binance_dir) as url:
        proc = run_freqtrade(
            [
                "lookahead-analysis",
                *offline_configs(tmp_path, url),
                "--datadir",
                str(binance_dir),
                "--strategy",
                strategy,
                "--strategy-path",
                str(committed_strategies),
                "--timeframe",
                timeframe,
                "--timerange",
                timerange,
                "--minimum-trade-amount",
                "4",
                "--targeted-trade-amount",
                "6",
                "--lookahead-analysis-exportfilename",
                str(report),
            ],
            timeout=900,
        )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    result = pd.read_csv(report)
    row = result[result["strategy"] == strategy].iloc[0]
    assert int(row["total_signals"]) >= 4, "too few trades to check"
    assert int(row["biased_entry_signals"]) == 0
    assert int(row["biased_exit_signals"]) == 0
    assert pd.isna(row["biased_indicators"]) or str(row["biased_indicators"]).strip() in ("", "[]")
    assert str(row["has_bias"]).lower() in ("false", "no"), row.to_dict()
