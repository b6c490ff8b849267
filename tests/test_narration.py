"""The narration of dry-run and live bots: the line per candle, the start-up lines, and when
the strategy kit says them.

The candles in the first tests are small synthetic mappings made here; the truthfulness tests
run the real strategies on recorded candles and check that the narration's entry conditions
are the strategies' own.
"""

from __future__ import annotations

import logging
import shlex
import sys
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from freqtrade.enums import RunMode
from freqtrade.persistence import LocalTrade, Trade
from freqtrade.persistence.custom_data import CustomDataWrapper

from tests.conftest import load_candles
from tests.test_strategy_base import NOW, Multiplier, make_strategy
from tests.test_strategy_base import open_trade as open_btc_trade
from trading_agent.candles import AnalyzedCandles
from trading_agent.manager import CombinedRisk
from trading_agent.strategy.narration import (
    AllOf,
    AtLeast,
    Check,
    Flag,
    candle_line,
    evaluate,
    force_entry_command,
    startup_lines,
    unmet,
)

STRATEGIES = Path(__file__).resolve().parents[1] / "user_data" / "strategies"
if str(STRATEGIES) not in sys.path:
    sys.path.insert(0, str(STRATEGIES))

from EnhancedFlashStrategy import EnhancedFlashStrategy  # noqa: E402
from FlashStrategy import FlashStrategy  # noqa: E402
from RegimeStrategy import RegimeStrategy  # noqa: E402

from tests.test_strategies_prefix import START, analyse, make  # noqa: E402

WHEN = pd.Timestamp("2024-08-05 12:35", tz="UTC")


@pytest.fixture(autouse=True)
def trades_in_memory():
    """Trades and custom data in memory, as in a backtest; Freqtrade's settings restored."""
    saved = Trade.use_db, CustomDataWrapper.use_db
    Trade.use_db = CustomDataWrapper.use_db = False
    LocalTrade.reset_trades()
    yield
    LocalTrade.reset_trades()
    Trade.use_db, CustomDataWrapper.use_db = saved


FLASH_RULES = (
    AtLeast(
        "flash signals",
        2,
        (
            Check("imbalance", ">", "threshold_imbalance"),
            Check("momentum_pct", ">", "threshold_momentum", label="momentum %"),
            AllOf(
                "volatility breakout",
                (
                    Flag("breakout", "no close above the prior range"),
                    Check("volatility_pct", ">", "threshold_volatility", label="volatility %"),
                ),
            ),
        ),
    ),
    Check("close", ">", "vwap", versus="VWAP"),
)


def flash_candle(**changes) -> dict:
    candle = {
        "date": WHEN,
        "close": 2512.3,
        "imbalance": 0.05,
        "threshold_imbalance": 0.3,
        "momentum_pct": 0.21,
        "threshold_momentum": 0.15,
        "volatility_pct": 0.12,
        "threshold_volatility": 0.1,
        "breakout": False,
        "vwap": 2515.0,
        "session": "europe",
        "session_overlap": 1,
        "risk_level": 0.31,
        "enter_long": 0,
        "exit_long": 0,
    }
    candle.update(changes)
    return candle


# -- the line -------------------------------------------------------------------------------


def test_a_candle_without_entry_names_every_unmet_condition_with_its_values() -> None:
    advice = CombinedRisk(
        0.5, None, (("llm_overseer", "llm_overseer: volatility twice its median"),)
    )
    line = candle_line("ETH/USDT", flash_candle(), advice, rules=FLASH_RULES, position_share=0.0)
    assert line == (
        "ETH/USDT 2024-08-05 12:35 close 2512.30 | no signal | session europe (overlap) | "
        "risk level 0.31, no position | plugins: stake x0.5 (llm_overseer: volatility twice "
        "its median) | no entry: flash signals 1 of 3 (needs 2): imbalance 0.05 (needs > 0.3), "
        "volatility breakout: no close above the prior range; close 2512.30 (needs > VWAP "
        "2515)"
    )


def test_an_entry_signal_shows_its_tag_and_what_holds_it_back() -> None:
    candle = flash_candle(enter_long=1, enter_tag="flash:imb+mom", imbalance=0.4, vwap=2500.0)
    line = candle_line(
        "BTC/USDT", candle, rules=FLASH_RULES, position_share=0.1, held_back=["a position is open"]
    )
    assert "| entry signal (flash:imb+mom) |" in line
    assert "risk level 0.31, holding 10.0% of equity" in line
    assert line.endswith("| held back: a position is open")
    assert "no entry" not in line and "plugins" not in line  # no advice given


def test_conditions_that_hold_without_a_signal_say_so() -> None:
    candle = flash_candle(imbalance=0.4, vwap=2500.0)  # two of three and above the VWAP
    assert unmet(candle, FLASH_RULES) == []
    line = candle_line("ETH/USDT", candle, rules=FLASH_RULES)
    assert line.endswith("no entry: the conditions hold, but no new signal on this candle")


def test_an_allocation_line_shows_target_position_and_regime_columns() -> None:
    candle = {
        "date": WHEN,
        "close": 56012.5,
        "target_weight": 0.2351,
        "trend_score_1d": 1.0,
        "btc_trend_score_1d": 2 / 3,
        "volatility": 0.452,
        "session": "us",
        "enter_long": 1,
        "enter_tag": "regime",
    }
    line = candle_line(
        "BTC/USDT",
        candle,
        CombinedRisk(),
        rules=(Check("target_weight", ">=", 0.02, label="target weight"),),
        shown=(("trend", "trend_score_1d"), ("BTC trend", "btc_trend_score_1d")),
        position_share=0.201,
        target_column="target_weight",
    )
    assert line == (
        "BTC/USDT 2024-08-05 12:35 close 56012.50 | entry signal (regime) | session us | "
        "target 23.5% of equity, holding 20.1% of equity | trend 1, BTC trend 0.667 | "
        "plugins: stake x1"
    )


def test_missing_values_fail_their_condition_and_read_n_a() -> None:
    held, why = evaluate(Check("rsi", "<", 70, label="RSI"), {"rsi": float("nan")})
    assert (held, why) == (False, "RSI n/a (needs < 70)")
    held, why = evaluate(Check("close", ">", "vwap", versus="VWAP"), {"close": 10.0})
    assert (held, why) == (False, "close 10 (needs > VWAP n/a)")
    assert evaluate(Flag("trend_up", "no up-trend"), {}) == (False, "no up-trend")
    assert evaluate(Flag("bear", "bearish", want=0), {"bear": 0}) == (True, "")
    line = candle_line("ETH/USDT", {}, rules=FLASH_RULES)
    assert line.startswith("ETH/USDT | no signal | no entry: flash signals 0 of 3 (needs 2)")


def test_rules_refuse_what_they_cannot_check() -> None:
    with pytest.raises(ValueError, match="unknown comparison '=>'"):
        Check("rsi", "=>", 70)
    with pytest.raises(ValueError, match=r"needed must be 1\.\.2, got 3"):
        AtLeast("signals", 3, (Flag("a", "no a"), Flag("b", "no b")))


def test_outside_text_is_one_safe_line() -> None:
    candle = flash_candle(
        enter_long=1,
        enter_tag="tag\nFAKE - INFO - forged line",
        session="us\u202e",
    )
    advice = CombinedRisk(0.0, None, (("llm_overseer", "see https://evil.example/x\r\nnow\u200b"),))
    line = candle_line("ETH/USDT", candle, advice, held_back=["visit www.evil.example"])
    assert "\n" not in line and "\r" not in line
    assert "\u202e" not in line and "\u200b" not in line
    assert "entry signal (tag FAKE - INFO - forged line)" in line
    assert "https://" not in line and "www." not in line and "(link removed)" in line


# -- start-up lines -------------------------------------------------------------------------


def test_startup_lines_say_what_runs_where_and_how_to_force_an_entry() -> None:
    api = {
        "enabled": True,
        "listen_ip_address": "0.0.0.0",
        "listen_port": 18080,
        "username": "freqtrader",
        "password": "very-secret-password",
    }
    lines = startup_lines(
        "EnhancedFlashStrategy",
        "5m",
        "dry_run",
        ["BTC/USDT", "ETH/USDT"],
        [("session_manager", None), ("llm_overseer", "rules")],
        api,
        True,
        60.0,
    )
    text = "\n".join(lines)
    assert lines[0] == "EnhancedFlashStrategy on BTC/USDT, ETH/USDT (5m candles), dry_run"
    assert lines[1] == "plugins: session_manager, llm_overseer (mode rules)"
    assert lines[2] == "REST API and FreqUI: http://127.0.0.1:18080 (user freqtrader)"
    assert "very-secret-password" not in text
    command = lines[3].removeprefix("force an entry: ").split(" (or FreqUI")[0]
    assert shlex.split(command) == [
        "curl",
        "-X",
        "POST",
        "-u",
        "freqtrader:<password>",
        "-H",
        "Content-Type: application/json",
        "-d",
        '{"pair": "BTC/USDT", "side": "long"}',
        "http://127.0.0.1:18080/api/v1/forceenter",
    ]
    assert lines[-1].endswith("(at most one a pair every 60 s)")
    quiet = startup_lines("S", "1h", "live", ["BTC/USDC"], [], {"enabled": False}, True, 60.0)
    assert "plugins: none" in quiet and not any("REST API" in ln for ln in quiet)


def test_the_force_entry_command_quotes_what_the_shell_would_split() -> None:
    command = force_entry_command("http://127.0.0.1:8080/", "me", "p a$s'w", "ETH/USDT")
    args = shlex.split(command)
    assert args[args.index("-u") + 1] == "me:p a$s'w"
    assert args[-1] == "http://127.0.0.1:8080/api/v1/forceenter"


# -- when the strategy kit narrates ---------------------------------------------------------


def narrated(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "trading_agent.narration"]


def test_dry_run_narrates_each_new_candle_once_and_rate_limits(caplog) -> None:
    caplog.set_level(logging.INFO, logger="trading_agent.narration")
    strategy = make_strategy(Multiplier(0.5), runmode=RunMode.DRY_RUN)
    startup = narrated(caplog)
    assert startup[0] == "MiniStrategy on BTC/USDT (5m candles), dry_run"
    strategy.dp.candle = {"date": WHEN, "close": 100.0, "risk_level": 0.4}
    strategy.bot_loop_start(current_time=NOW)
    strategy.bot_loop_start(current_time=NOW)  # the same candle: nothing new to say
    lines = narrated(caplog)[len(startup) :]
    assert lines == [
        "BTC/USDT 2024-08-05 12:35 close 100 | no signal | risk level 0.4, no position | "
        "plugins: stake x0.5 (multiplier: test)"
    ]
    strategy.dp.candle = {"date": WHEN + timedelta(minutes=5), "close": 101.0}
    strategy.bot_loop_start(current_time=NOW)  # a new candle within the interval: later
    assert len(narrated(caplog)) == len(startup) + 1
    strategy.narration_interval = timedelta(0)
    open_btc_trade()
    strategy.bot_loop_start(current_time=NOW)
    last = narrated(caplog)[-1]
    assert last.startswith("BTC/USDT 2024-08-05 12:40 close 101 | no signal")
    assert "holding 10.1% of equity" in last and last.endswith("no entry: a position is open")


def test_backtests_never_narrate(caplog) -> None:
    caplog.set_level(logging.INFO, logger="trading_agent.narration")
    strategy = make_strategy(runmode=RunMode.BACKTEST)
    strategy.dp.candle = {"date": WHEN, "close": 100.0}
    strategy.bot_loop_start(current_time=NOW)
    assert narrated(caplog) == []


def test_a_failing_narration_is_logged_once_and_the_bot_goes_on(caplog) -> None:
    caplog.set_level(logging.INFO)
    strategy = make_strategy(runmode=RunMode.DRY_RUN)
    strategy.dp.candle = {"date": WHEN, "close": 100.0}
    strategy.narration_interval = timedelta(0)

    def broken(*args, **kwargs):
        raise RuntimeError("narration broke")

    strategy.narration_line = broken
    for minutes in range(3):
        strategy.dp.candle = {"date": WHEN + timedelta(minutes=5 * minutes), "close": 100.0}
        strategy.bot_loop_start(current_time=NOW)
    failures = [r for r in caplog.records if "narration for BTC/USDT failed" in r.getMessage()]
    assert len(failures) == 1


# -- the narration's conditions are the strategies' own (real candles) ---------------------


def holds_per_row(strategy, frame: pd.DataFrame) -> pd.Series:
    rules = strategy.narration_rules()
    return pd.Series(
        [not unmet(AnalyzedCandles(frame, row + 1).last(), rules) for row in range(len(frame))],
        index=frame.index,
    )


@pytest.mark.parametrize("cls", [FlashStrategy, EnhancedFlashStrategy])
def test_flash_narration_rules_are_the_entry_conditions(cls) -> None:
    """EnhancedFlashStrategy enters wherever its rules hold; FlashStrategy on the first
    candle of each run of them (its onset rule)."""
    base = load_candles("ETH_USDT", "5m")
    candles = base[base["date"] >= START].head(3000).reset_index(drop=True)
    frame = analyse(make(cls), candles, "ETH/USDT", START - pd.Timedelta(days=120))
    holds = holds_per_row(make(cls), frame)
    enter = frame["enter_long"] == 1
    assert enter.sum() > 10
    if cls is FlashStrategy:
        onset = holds & ~holds.shift(1, fill_value=False)
        pd.testing.assert_series_equal(onset, enter, check_names=False)
    else:
        pd.testing.assert_series_equal(holds, enter, check_names=False)


def test_regime_narration_rule_is_the_entry_condition() -> None:
    base = load_candles("BTC_USDT", "1h")
    candles = base[base["date"] >= pd.Timestamp("2024-04-01", tz="UTC")].head(2000)
    risk = {"max_position_ratio": 0.5, "max_total_exposure_ratio": 1.0, "stoploss": -0.2}
    strategy = make(RegimeStrategy, risk)
    frame = analyse(
        strategy, candles.reset_index(drop=True), "BTC/USDT", pd.Timestamp("2024-01-01", tz="UTC")
    )
    enter = frame["enter_long"] == 1
    assert 0 < enter.sum() < len(frame)
    pd.testing.assert_series_equal(holds_per_row(strategy, frame), enter, check_names=False)


def test_stale_market_data_is_named_as_what_holds_an_entry_back(caplog) -> None:
    caplog.set_level(logging.INFO, logger="trading_agent.narration")
    strategy = make_strategy(runmode=RunMode.DRY_RUN)
    strategy.dp.candle = {"date": WHEN, "close": 100.0}
    strategy.bot_loop_start(current_time=WHEN + timedelta(hours=1))
    line = narrated(caplog)[-1]
    assert line.startswith("BTC/USDT 2024-08-05 12:35 close 100 | no signal")
    assert line.endswith(
        "no entry: market data: last candle closed 55 min ago (more than 2 candles)"
    )
