"""evaluate_strategies with a real Freqtrade run of a 1h strategy that adjusts its position.

The evaluator takes each strategy's own timeframe (the project config's 5m would otherwise
override it) and reports the exposure of the account rebuilt from every order.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from trading_agent.launch.evaluate_strategies import offline_configs, offline_venue, run_backtest

pytestmark = pytest.mark.slow

TEST_STRATEGIES = Path(__file__).parent / "strategies"


def test_a_1h_strategy_with_position_adjustment_gets_its_exposure(
    tmp_path: Path, binance_dir: Path
) -> None:
    with offline_venue(binance_dir) as url:
        results, trades, _ = run_backtest(
            ["ScheduledAdjustStrategy"],
            offline_configs(tmp_path, url),
            timerange="20240201-20240301",
            fee=0.001,
            datadir=binance_dir,
            workdir=tmp_path,
            timeout=600,
            strategy_path=TEST_STRATEGIES,
        )
    row = results["ScheduledAdjustStrategy"]
    frame = trades["ScheduledAdjustStrategy"]
    assert row.trades == len(frame) > 5
    # 1h candles: every fill is on the hour (5m candles would put some between hours)
    fills = [o["order_filled_timestamp"] for orders in frame["orders"] for o in orders]
    assert all(ms % 3_600_000 == 0 for ms in fills)
    # each of two pairs held 18 hours in 48, 100 to 200 of the 1000 account: about 9 %
    assert 1.0 < row.exposure_pct < 15.0, row
