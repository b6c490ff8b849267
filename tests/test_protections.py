"""The MaxDrawdown protection as the strategies configure it locks at a share of the account.

A Freqtrade backtest, offline through the venue, on candles built here (labelled as built:
a flat price with a planted slide of one stretch of hours) and a strategy written here that
enters on every candle and leaves one candle later, so that every trade in the slide loses.
With ``agent_protections`` (MaxDrawdown in ``equity`` mode, 5 % of the account in 24 h):

- 50 % stakes losing 4.5 % each (2.25 % of the account): trading locks after the third loss;
- 10 % stakes losing 2 % each (0.2 % of the account): ten losses never lock it;
- the same small losses in Freqtrade's default ``ratios`` mode (the trap: trade ratios are
  summed, -2 % x 3 = -6 % > 5 %) lock trading after 0.6 % of the account was lost.
"""

from __future__ import annotations

import json
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from trading_agent.launch.evaluate_strategies import offline_configs, offline_venue, run_freqtrade

pytestmark = pytest.mark.slow

START = pd.Timestamp("2024-03-01", tz="UTC")
SLIDE_START, SLIDE_HOURS = 48, 12  # the planted losses: hours 48..59

STRATEGY = textwrap.dedent(
    '''
    """Test strategy: long on every candle, out one candle later (planted losses)."""
    from datetime import timedelta

    from freqtrade.strategy import IStrategy

    from trading_agent.strategy.risk import agent_protections


    class PlantedLosses(IStrategy):
        INTERFACE_VERSION = 3
        timeframe = "1h"
        minimal_roi = {"0": 10.0}
        stoploss = -0.99
        use_exit_signal = True  # custom_exit is an exit signal
        mode = "equity"

        @property
        def protections(self):
            rules = [
                p for p in agent_protections(0.05, self.timeframe, drawdown_trade_limit=1)
                if p["method"] == "MaxDrawdown"
            ]
            for rule in rules:
                rule["calculation_mode"] = self.mode
            return rules

        def populate_indicators(self, dataframe, metadata):
            return dataframe

        def populate_entry_trend(self, dataframe, metadata):
            dataframe["enter_long"] = 1
            return dataframe

        def populate_exit_trend(self, dataframe, metadata):
            return dataframe

        def custom_exit(self, pair, trade, current_time, **kwargs):
            if current_time - trade.open_date_utc >= timedelta(hours=1):
                return "planted"
            return None


    class PlantedLossesRatios(PlantedLosses):
        mode = "ratios"
    '''
)


def planted_candles(drop: float) -> pd.DataFrame:
    """Built candles: price 100 and flat, except a slide of ``drop`` per hour in the slide."""
    hours = 24 * 5
    step = np.ones(hours)
    step[SLIDE_START : SLIDE_START + SLIDE_HOURS] = 1.0 - drop
    close = 100.0 * np.cumprod(step)
    open_ = np.concatenate(([100.0], close[:-1]))
    return pd.DataFrame(
        {
            "date": pd.date_range(START, periods=hours, freq="1h"),
            "open": open_,
            "high": np.maximum(open_, close) * 1.001,  # a range, so orders at the open fill
            "low": np.minimum(open_, close) * 0.999,
            "close": close,
            "volume": np.full(hours, 1000.0),
        }
    )


def backtest(tmp_path: Path, strategy: str, drop: float, stake: float) -> pd.DataFrame:
    """Run the backtest; return its trades (open and close dates, profit)."""
    data = tmp_path / "data"
    data.mkdir()
    planted_candles(drop).to_feather(data / "BTC_USDT-1h.feather")
    strategies = tmp_path / "strategies"
    strategies.mkdir()
    (strategies / "planted_losses.py").write_text(STRATEGY)
    results = tmp_path / "results"
    results.mkdir()
    with offline_venue(data) as url:
        proc = run_freqtrade(
            [
                "backtesting",
                *offline_configs(tmp_path, url),
                "--datadir",
                str(data),
                "--strategy",
                strategy,
                "--strategy-path",
                str(strategies),
                "--timeframe",
                "1h",
                "--timerange",
                "20240301-20240305",
                "--pairs",
                "BTC/USDT",
                "--stake-amount",
                str(stake),
                "--max-open-trades",
                "1",
                "--fee",
                "0",
                "--enable-protections",
                "--export",
                "trades",
                "--backtest-directory",
                str(results),
            ],
            timeout=300,
        )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-3000:]
    (archive,) = results.glob("*.zip")
    with zipfile.ZipFile(archive) as z:
        name = next(n for n in z.namelist() if n.endswith(".json") and "config" not in n)
        trades = json.loads(z.read(name))["strategy"][strategy]["trades"]
    assert trades, (proc.stdout + proc.stderr)[-3000:]
    frame = pd.DataFrame(trades)
    for column in ("open_date", "close_date"):
        frame[column] = pd.to_datetime(frame[column], utc=True)
    return frame


def losses_before_lock(trades: pd.DataFrame) -> tuple[int, float]:
    """(losing trades before the first gap of over two hours, the account share they lost)."""
    gaps = trades["open_date"].diff() > pd.Timedelta(hours=2)
    first_gap = int(np.argmax(gaps.to_numpy())) if gaps.any() else len(trades)
    before = trades.iloc[:first_gap]
    lost = before[before["profit_abs"] < 0]
    return len(lost), -float(lost["profit_abs"].sum()) / 1000.0


def test_equity_mode_locks_after_five_percent_of_the_account(tmp_path: Path) -> None:
    trades = backtest(tmp_path, "PlantedLosses", drop=0.045, stake=500)
    count, share = losses_before_lock(trades)
    assert count == 3 and 0.05 < share < 0.075, (count, share)
    slide_end = START + pd.Timedelta(hours=SLIDE_START + SLIDE_HOURS)
    assert (trades["open_date"] < slide_end).any()
    locked = trades["open_date"].diff().max()
    assert locked >= pd.Timedelta(hours=6), locked  # the configured six-hour lock


def test_equity_mode_ignores_small_account_losses(tmp_path: Path) -> None:
    trades = backtest(tmp_path, "PlantedLosses", drop=0.02, stake=100)
    count, share = losses_before_lock(trades)
    assert count >= 5 and share < 0.02, (count, share)
    assert trades["open_date"].diff().max() <= pd.Timedelta(hours=2)  # never locked


def test_ratios_mode_locks_after_small_account_losses(tmp_path: Path) -> None:
    trades = backtest(tmp_path, "PlantedLossesRatios", drop=0.02, stake=100)
    count, share = losses_before_lock(trades)
    assert count == 3 and share < 0.01, (count, share)
