"""Freqtrade itself, offline, against the local venue: backtesting and a dry-run bot.

These run the real ``freqtrade`` command on the recorded Binance candles in
``../shared/data/binance`` or the embedded sample (a stand-in for MEXC's USDC pairs), bounded
in time.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pandas as pd
import pytest
from freqtrade.data.btanalysis import load_backtest_data

from tests.freqtrade_harness import (
    BASE_CONFIGS,
    FREQTRADE,
    REPO,
    TEMPLATES,
    Api,
    free_port,
    run_freqtrade,
    wait_for,
)
from trading_agent.launch.evaluate_strategies import offline_configs, offline_venue
from trading_agent.launch.offline import write_offline_overlay
from trading_agent.launch.processes import running_venue_process, stop_process

pytestmark = pytest.mark.slow

#: Replayed from here: 5m candles of this date are in the embedded sample too.
REPLAY_START = "2024-07-15"


def test_backtesting_through_the_venue_completes_with_trades(
    tmp_path: Path, binance_dir: Path
) -> None:
    port = free_port()
    results = tmp_path / "results"
    results.mkdir()
    with running_venue_process(binance_dir, port, replay=False) as url:
        overlay = write_offline_overlay(tmp_path / "offline.json", url)
        proc = run_freqtrade(
            [
                "backtesting",
                *BASE_CONFIGS,
                "-c",
                str(overlay),
                "--datadir",
                str(binance_dir),
                "--strategy",
                "SampleStrategy",
                "--strategy-path",
                TEMPLATES,
                "--timeframe",
                "5m",
                "--timerange",
                "20240701-20240801",
                "--export",
                "trades",
                "--backtest-directory",
                str(results),
                "--cache",
                "none",
            ],
            timeout=300,
        )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    trades = load_backtest_data(results, strategy="SampleStrategy")
    assert len(trades) > 0
    assert set(trades["pair"]) <= {"BTC/USDT", "ETH/USDT"}
    assert trades["open_date"].min() >= pd.Timestamp("2024-07-01", tz="UTC")
    assert trades["close_date"].max() <= pd.Timestamp("2024-08-01", tz="UTC")


def test_dry_run_bot_trades_against_the_replay_venue(tmp_path: Path, binance_dir: Path) -> None:
    venue_port, api_port = free_port(), free_port()
    user, password = "tester", "not-a-secret-test-password"
    env = {
        **os.environ,
        "FREQTRADE__API_SERVER__USERNAME": user,
        "FREQTRADE__API_SERVER__PASSWORD": password,
        "FREQTRADE__API_SERVER__JWT_SECRET_KEY": "test-jwt-secret-of-at-least-32-characters",
        "FREQTRADE__API_SERVER__WS_TOKEN": "test-ws-token",
        "FREQTRADE__API_SERVER__LISTEN_PORT": str(api_port),
    }
    api = Api(api_port, user, password)
    log = tmp_path / "freqtrade.log"
    with running_venue_process(
        binance_dir, venue_port, replay=True, replay_start=REPLAY_START
    ) as url:
        overlay = write_offline_overlay(tmp_path / "offline.json", url)
        cmd = [
            FREQTRADE,
            "trade",
            "--dry-run",
            *BASE_CONFIGS,
            "-c",
            str(overlay),
            "--strategy",
            "SampleStrategy",
            "--strategy-path",
            TEMPLATES,
            "--db-url",
            f"sqlite:///{tmp_path / 'trades.sqlite'}",
        ]
        log_file = log.open("w")
        bot = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log_file, stderr=subprocess.STDOUT)
        try:

            def ping_unless_dead():
                if bot.poll() is not None:
                    raise SystemExit(
                        f"freqtrade exited with {bot.returncode}: "
                        f"{log.read_text()[-3000:] if log.exists() else ''}"
                    )
                return api("/ping")

            ping = wait_for(ping_unless_dead, timeout=120, what="/api/v1/ping")
            assert ping == {"status": "pong"}
            assert api("/status") == []
            wait_for(
                lambda: api("/show_config")["state"] == "running",
                timeout=60,
                what="bot running",
            )
            whitelist = api("/whitelist")["whitelist"]
            assert whitelist == ["BTC/USDT", "ETH/USDT"]
            entered = wait_for(
                lambda: api("/forceenter", "POST", {"pair": "BTC/USDT"}),
                timeout=60,
                what="forced entry accepted",
            )
            assert entered["pair"] == "BTC/USDT"
            trade = api.wait_filled(entered["trade_id"])
            assert trade["pair"] == "BTC/USDT" and trade["amount"] > 0
            assert trade["stake_amount"] == pytest.approx(100.0, rel=0.01)

            def analysed_candles():
                got = api("/pair_candles?pair=BTC/USDT&timeframe=5m&limit=50")
                return got if got["length"] > 0 else None

            candles = wait_for(analysed_candles, timeout=90, what="analysed candles")
            assert candles["length"] > 0 and "rsi" in candles["columns"]
        finally:
            code = stop_process(bot, grace=30)  # one SIGINT, then a grace period
            log_file.close()
    # Freqtrade answers SIGINT with its orderly shutdown and exit code 130
    assert code == 130, log.read_text()[-3000:]
    assert "Cleaning up modules" in log.read_text()
    errors = [line for line in log.read_text().splitlines() if " - ERROR - " in line]
    assert not errors, errors


@pytest.mark.parametrize(
    ("trading_agent", "env", "expected"),
    [
        (
            {"plugins": {"patterns": {"swings": {"fractal_bars": 0}}}},
            {},
            "trading_agent.plugins.patterns.swings.fractal_bars",
        ),
        (
            {"enabled_plugins": ["session_manager", "no_such_plugin"]},
            {},
            "plugin 'no_such_plugin' is not installed",
        ),
        ({}, {"FREQTRADE__API_SERVER__PASSWORD": ""}, "FREQTRADE__API_SERVER__PASSWORD"),
    ],
)
def test_bad_settings_stop_the_bot_before_it_trades(
    tmp_path: Path, binance_dir: Path, trading_agent: dict, env: dict, expected: str
) -> None:
    credentials = {
        "FREQTRADE__API_SERVER__USERNAME": "tester",
        "FREQTRADE__API_SERVER__PASSWORD": "not-a-secret-test-password",
        "FREQTRADE__API_SERVER__JWT_SECRET_KEY": "x" * 40,
        "FREQTRADE__API_SERVER__LISTEN_PORT": str(free_port()),
    }
    with running_venue_process(
        binance_dir, free_port(), replay=True, replay_start=REPLAY_START
    ) as url:
        overlay = write_offline_overlay(tmp_path / "offline.json", url, trading_agent=trading_agent)
        proc = run_freqtrade(
            [
                "trade",
                "--dry-run",
                *BASE_CONFIGS,
                "-c",
                str(overlay),
                "--strategy",
                "EnhancedFlashStrategy",
                "--db-url",
                f"sqlite:///{tmp_path / 'trades.sqlite'}",
            ],
            timeout=120,
            env={**os.environ, **credentials, **env},
        )
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output[-2000:]
    assert expected in output, output[-2000:]
    assert "Changing state to: RUNNING" not in output


def test_hyperopt_runs_with_parallel_workers(
    tmp_path: Path, binance_dir: Path, committed_strategies: Path
) -> None:
    """``freqtrade hyperopt -j 2`` on EnhancedFlashStrategy: the workers get the pickled strategy.

    Freqtrade pickles the modules of a strategy's base classes by value, walking the bases up
    to ``IStrategy``; a base deriving from ``object`` (a mixin) made it pickle ``builtins``
    and every run with more than one job died with a RecursionError.
    """
    (tmp_path / "user").mkdir()  # results go here, not into the repository's user_data
    with offline_venue(binance_dir) as url:
        proc = run_freqtrade(
            [
                "hyperopt",
                *offline_configs(tmp_path, url),
                "--datadir",
                str(binance_dir),
                "--strategy",
                "EnhancedFlashStrategy",
                "--strategy-path",
                str(committed_strategies),
                "--timeframe",
                "5m",
                "--timerange",
                "20240701-20240720",
                "--hyperopt-loss",
                "SharpeHyperOptLossDaily",
                "--spaces",
                "buy",
                "--epochs",
                "4",
                "-j",
                "2",
                "--enable-protections",
                "--disable-param-export",  # the copy is shared with the other tests
                "--userdir",
                str(tmp_path / "user"),
            ],
            timeout=600,
        )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-3000:]
    assert "Best result" in out or "No good result found" in out, out[-3000:]
    assert "RecursionError" not in out
    assert not list(committed_strategies.glob("*.json"))
