"""Backtest cache keys: what changes a run changes its key, and nothing else does."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import pytest

from trading_agent.launch import backtest_cache
from trading_agent.launch.backtest_runs import BacktestRunner, BacktestSpec
from trading_agent.launch.evaluate_strategies import BASE_CONFIG, freqtrade_templates
from trading_agent.launch.offline import write_offline_overlay
from trading_agent.launch.strategy_grid import load_strategy

START = pd.Timestamp("2024-01-01", tz="UTC")
END = pd.Timestamp("2024-02-01", tz="UTC")


@pytest.fixture()
def datadir(tmp_path: Path) -> Path:
    folder = tmp_path / "data"
    folder.mkdir()
    (folder / "BTC_USDT-5m.feather").write_bytes(b"candles")
    return folder


def runner(tmp_path: Path, datadir: Path, port: int) -> BacktestRunner:
    overlay = write_offline_overlay(tmp_path / f"offline-{port}.json", f"http://127.0.0.1:{port}")
    return BacktestRunner(
        datadir=datadir,
        cache_dir=tmp_path / "cache",
        configs=["-c", str(BASE_CONFIG), "-c", str(overlay)],
    )


def test_a_key_follows_what_freqtrade_is_given(tmp_path: Path, datadir: Path) -> None:
    sample = load_strategy("SampleStrategy", freqtrade_templates())
    spec = BacktestSpec(sample, START, END, 0.001, {"buy_rsi": 25}, {"buy_rsi": "buy"})
    first = runner(tmp_path, datadir, 1111)
    key = first.key(spec)
    # another venue port: the same run
    assert runner(tmp_path, datadir, 2222).key(spec) == key
    # another fee, parameter value, window or protection setting: another run
    others = [
        BacktestSpec(sample, START, END, 0.0005, {"buy_rsi": 25}, {"buy_rsi": "buy"}),
        BacktestSpec(sample, START, END, 0.001, {"buy_rsi": 35}, {"buy_rsi": "buy"}),
        BacktestSpec(
            sample, START, END + pd.Timedelta(days=1), 0.001, {"buy_rsi": 25}, {"buy_rsi": "buy"}
        ),
        BacktestSpec(sample, START, END, 0.001, {"buy_rsi": 25}, {"buy_rsi": "buy"}, False),
    ]
    assert len({key, *(first.key(o) for o in others)}) == 1 + len(others)
    # candle files that changed: another run
    os.utime(datadir / "BTC_USDT-5m.feather", ns=(1, 1))
    assert runner(tmp_path, datadir, 1111).key(spec) != key


def test_a_freqtrade_setting_in_the_environment_is_part_of_the_key(
    tmp_path: Path, datadir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sample = load_strategy("SampleStrategy", freqtrade_templates())
    spec = BacktestSpec(sample, START, END, 0.001)
    key = runner(tmp_path, datadir, 1111).key(spec)
    monkeypatch.setenv("FREQTRADE__EXCHANGE__SECRET", "not in any key")
    assert runner(tmp_path, datadir, 1111).key(spec) == key
    monkeypatch.setenv("FREQTRADE__STAKE_AMOUNT", "250")
    assert runner(tmp_path, datadir, 1111).key(spec) != key
    settings = backtest_cache.freqtrade_settings(
        {"FREQTRADE__STAKE_AMOUNT": "250", "FREQTRADE__API_SERVER__PASSWORD": "x", "HOME": "/"}
    )
    assert settings == {"FREQTRADE__STAKE_AMOUNT": "250"}


def test_stored_results_are_read_back_and_other_formats_ignored(tmp_path: Path) -> None:
    assert backtest_cache.load_result(tmp_path) is None
    backtest_cache.store_result(tmp_path, {"trades": [], "final_balance": 1000.0})
    assert backtest_cache.load_result(tmp_path)["final_balance"] == 1000.0
    (tmp_path / backtest_cache.RESULT_FILE).write_text('{"cache_format": 0}')
    assert backtest_cache.load_result(tmp_path) is None
