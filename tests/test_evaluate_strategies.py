"""trading_agent.launch.evaluate_strategies: the parts that need no Freqtrade run."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.trade_records import exported_trade
from trading_agent.launch import evaluate_strategies
from trading_agent.launch.candle_files import read_candles
from trading_agent.launch.evaluate_strategies import (
    PAIRS,
    buy_and_hold,
    committed_strategies,
    exposure_pct,
    format_table,
    strategy_groups,
    strategy_timeframe,
    tuned_parameter_files,
)


def test_hyperopt_parameter_files_beside_our_strategies_are_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(evaluate_strategies, "STRATEGY_PATH", tmp_path)
    assert tuned_parameter_files(["FlashStrategy", "EnhancedFlashStrategy"]) == []
    (tmp_path / "EnhancedFlashStrategy.json").write_text("{}")
    (tmp_path / "SampleStrategy.json").write_text("{}")  # not ours: never read from here
    names = ["FlashStrategy", "EnhancedFlashStrategy", "SampleStrategy"]
    assert tuned_parameter_files(names) == [str(tmp_path / "EnhancedFlashStrategy.json")]


def test_exposure_is_the_time_averaged_invested_share(binance_dir: Path) -> None:
    begin = pd.Timestamp("2024-07-01", tz="UTC")  # inside the embedded sample's 5m span
    candles = read_candles(binance_dir, "BTC/USDT", "5m")
    opening = float(candles.loc[candles["date"] == begin, "open"].iloc[0])
    noon = begin + pd.Timedelta(hours=12)
    closing = float(candles.loc[candles["date"] == noon, "open"].iloc[0])
    # the whole account in BTC from the first candle's open to the noon candle's open
    amount = 1000 / opening
    trade = exported_trade(
        "BTC/USDT", begin, [(True, amount, opening, begin), (False, amount, closing, noon)]
    )
    end = begin + pd.Timedelta(days=1)
    share = exposure_pct(pd.DataFrame([trade]), binance_dir, "5m", begin, end, 1000.0)
    assert share == pytest.approx(50.0, abs=1e-9)
    assert exposure_pct(pd.DataFrame([]), binance_dir, "5m", begin, end, 1000.0) == 0.0


def test_buy_and_hold_is_fully_invested(binance_dir: Path) -> None:
    row = buy_and_hold(binance_dir, PAIRS, "20240701-20240801", 0.001)
    assert row.exposure_pct == pytest.approx(100.0)
    assert row.trades == 2 and row.max_drawdown_pct > 0
    assert "| exposure % |" in format_table([row]) and "| 100.00 |" in format_table([row])


def test_strategies_are_found_in_the_folder_and_grouped_by_timeframe() -> None:
    names = committed_strategies()
    assert {"FlashStrategy", "EnhancedFlashStrategy"} <= set(names)
    assert names == sorted(names)
    assert strategy_timeframe("SampleStrategy") == "5m"
    groups = strategy_groups(["FlashStrategy", "SampleStrategy", "EnhancedFlashStrategy"])
    assert groups == [["FlashStrategy", "EnhancedFlashStrategy"], ["SampleStrategy"]]
