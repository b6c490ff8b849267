"""The user's whole offline journey, end to end, bounded in time.

The replay venue and a local OpenAI-compatible server stand in for MEXC and OpenRouter;
everything else is the real thing: ``freqtrade trade --dry-run`` with EnhancedFlashStrategy,
every built-in plugin, and the overseer in ``llm`` mode over real HTTP with the ``openai``
client. Then the bot is restarted on the same database and journal.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.freqtrade_harness import (
    BASE_CONFIGS,
    FREQTRADE,
    HOLD_REASON,
    REPO,
    Api,
    free_port,
    hold_own_entries,
    wait_for,
)
from tests.openai_stub_server import Reply, StubServer
from trading_agent.launch.offline import write_offline_overlay
from trading_agent.launch.processes import running_venue_process, stop_process

pytestmark = pytest.mark.slow

STRATEGY = "EnhancedFlashStrategy"
REPLAY_START = "2024-07-15"  # 4h informative history since January; 5m in the sample too
USER, PASSWORD = "e2e", "e2e-password-not-a-secret"
ANSWERS = {
    "monitor_decision": {
        "regime": "normal",
        "stake_multiplier": 0.8,
        "pause_entries": False,
        "escalate": False,
        "ttl_minutes": 30,
        "reason": "Calm market; trim size slightly.",
    },
    "strategic_decision": {
        "stake_multiplier": 0.8,
        "pause_entries": False,
        "stop_distance": None,
        "exit_position": False,
        "confidence": 0.5,
        "ttl_minutes": 60,
        "reason": "No action needed.",
    },
    "emergency_decision": {
        "pause_scope": "none",
        "stake_multiplier": 0.8,
        "stop_distance": None,
        "exit_position": False,
        "ttl_minutes": 30,
        "reason": "No emergency.",
    },
}


#: A narration line on a new candle (trading_agent.strategy.narration.candle_line).
NARRATED_CANDLE = re.compile(
    r"trading_agent\.narration - INFO - (BTC|ETH)/USDT \d{4}-\d\d-\d\d \d\d:\d\d close [\d.]+ "
    r"\| (no signal|entry signal|exit signal)[^\n]* \| session \w+"
)

#: Keep a forced position open while a test looks at it: the strategy's exit signal could
#: otherwise close it on the next candle (ROI and stops are far away within the test's minutes).
HOLD = {"use_exit_signal": False}


def answer_by_schema(body: dict[str, Any]) -> Reply:
    """Answer each tier with a valid decision of the schema it asked for."""
    fmt = body.get("response_format") or {}
    name = (fmt.get("json_schema") or {}).get("name", "monitor_decision")
    return Reply.answer(ANSWERS[name])


def overseer_block(stub_url: str, journal: Path, daily_tokens: int) -> dict[str, Any]:
    tier = {"interval_minutes": 1.0, "timeout_s": 10.0}
    return {
        "mode": "llm",
        "base_url": stub_url,
        "api_key_env": "TA_E2E_LLM_KEY",
        "journal_path": str(journal),
        "budget": {"daily_usd": 5.0, "daily_tokens": daily_tokens},
        "tiers": {
            "tier1": {"model": "test/cheap", **tier},
            "tier2": {"model": "test/strategic", **tier},
            "tier3": {"model": "test/emergency", **tier},
        },
        "prices": {
            m: {"input_per_mtok": 1.0, "output_per_mtok": 2.0}
            for m in ("test/cheap", "test/strategic", "test/emergency")
        },
    }


@contextmanager
def bot(
    tmp: Path,
    venue_url: str,
    stub_url: str,
    daily_tokens: int,
    log_name: str,
    **overrides: object,
) -> Iterator[tuple[Api, subprocess.Popen, Path]]:
    """Run ``freqtrade trade --dry-run`` until the block ends; yield its API, process, log.

    ``overrides`` replace top-level keys of the offline overlay (e.g. ``use_exit_signal``).
    The bot takes forced entries only: a new trade database starts with a global pair lock
    (:func:`hold_own_entries`), since the strategy's own signals depend on the replayed
    candles, so on the wall clock (at some clocks the first candles signal an entry).
    """
    db = tmp / "trades.sqlite"
    if not db.exists():
        hold_own_entries(f"sqlite:///{db}", "5m")
    api_port = free_port()
    overlay = write_offline_overlay(
        tmp / "offline.json",
        venue_url,
        trading_agent={
            "plugins": {
                "llm_overseer": overseer_block(stub_url, tmp / "journal.sqlite", daily_tokens)
            }
        },
        **overrides,
    )
    env = {
        **os.environ,
        "FREQTRADE__API_SERVER__USERNAME": USER,
        "FREQTRADE__API_SERVER__PASSWORD": PASSWORD,
        "FREQTRADE__API_SERVER__JWT_SECRET_KEY": "e2e-jwt-secret-of-at-least-32-characters",
        "FREQTRADE__API_SERVER__LISTEN_PORT": str(api_port),
        "TA_E2E_LLM_KEY": "e2e-test-key",
    }
    log = tmp / log_name
    cmd = [
        FREQTRADE,
        "trade",
        "--dry-run",
        *BASE_CONFIGS,
        "-c",
        str(overlay),
        "--strategy",
        STRATEGY,
        "--db-url",
        f"sqlite:///{db}",
    ]
    with log.open("w") as out:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
        api = Api(api_port, USER, PASSWORD)

        def running() -> bool:
            if proc.poll() is not None:
                raise SystemExit(
                    f"freqtrade exited with {proc.returncode}:\n" + log.read_text()[-4000:]
                )
            # /health reports the first completed bot iteration: fully started
            return api("/show_config")["state"] == "running" and api("/health")["last_process"]

        try:
            wait_for(running, timeout=180, what="the bot to run")
            yield api, proc, log
        finally:
            code = stop_process(proc, grace=30)
    assert code == 130, log.read_text()[-4000:]  # Freqtrade's orderly SIGINT exit
    assert "Cleaning up modules" in log.read_text()


def lot_size(venue_url: str, symbol: str) -> str:
    """The venue's amount step for ``symbol`` (``baseSizePrecision`` of exchangeInfo)."""
    with urllib.request.urlopen(f"{venue_url}/api/v3/exchangeInfo?symbol={symbol}") as resp:
        info = json.load(resp)
    return info["symbols"][0]["baseSizePrecision"]


def journal_rows(path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


def test_offline_journey_with_overseer_and_restart(tmp_path: Path, binance_dir: Path) -> None:
    stub = StubServer(responder=answer_by_schema).start()
    venue_port = free_port()
    journal = tmp_path / "journal.sqlite"
    try:
        with running_venue_process(
            binance_dir, venue_port, replay=True, replay_start=REPLAY_START
        ) as venue_url:
            with bot(tmp_path, venue_url, stub.base_url, 1_000_000, "run1.log") as (api, _, log):
                assert api("/ping") == {"status": "pong"}
                assert [lock["reason"] for lock in api("/locks")["locks"]] == [HOLD_REASON]
                assert api("/whitelist")["whitelist"] == ["BTC/USDT", "ETH/USDT"]
                assert api("/show_config")["strategy"] == STRATEGY

                def candles_with_plot_columns():
                    got = api("/pair_candles?pair=ETH/USDT&timeframe=5m&limit=100")
                    return got if got["length"] > 0 else None

                candles = wait_for(candles_with_plot_columns, timeout=120, what="candles")
                columns = set(candles["columns"])
                plotted = set(api(f"/plot_config?strategy={STRATEGY}").get("main_plot", {}))
                assert {"session_code", "signal_strength", "atr"} <= columns
                assert plotted and plotted <= columns, plotted - columns
                assert any(c.startswith("pattern_") for c in columns)

                # the overseer asked the model (tier 1, every pair) and journalled it
                wait_for(
                    lambda: (
                        journal.exists()
                        and journal_rows(
                            journal, "SELECT count(*) FROM calls WHERE outcome = 'ok'"
                        )[0][0]
                        >= 2
                    ),
                    timeout=90,
                    what="overseer calls in the journal",
                )

                # the bot says what it runs, and what each new candle of each pair brought
                def narrated_log() -> str | None:
                    text = log.read_text()
                    return text if NARRATED_CANDLE.search(text) else None

                text = wait_for(narrated_log, timeout=60, what="a narration line for a candle")
                said = f"trading_agent.narration - INFO - {STRATEGY} on BTC/USDT, ETH/USDT"
                assert f"{said} (5m candles), dry_run" in text
                plugins = "plugins: session_manager, patterns, orderbook, llm_overseer (mode llm)"
                assert plugins in text
                api_url = api.base.removesuffix("/api/v1")
                assert f"REST API and FreqUI: {api_url} (user {USER})" in text
                assert f"{api_url}/api/v1/forceenter" in text and PASSWORD not in text

                trade_id = api.enter("BTC/USDT")["trade_id"]
                trade = api.wait_filled(trade_id)
                # stake: 100 proposed x signal strength x session factor x overseer 0.8 (the
                # account is large: no clamp), from the last candle at entry (or the one
                # before, should a candle close between the entry and this read)
                got = api("/pair_candles?pair=BTC/USDT&timeframe=5m&limit=3")
                rows = [dict(zip(got["columns"], row, strict=True)) for row in got["data"]]
                expected = [
                    100.0
                    * min(row["signal_strength"], 1.0)
                    * row["session_position_size_factor"]
                    * 0.8
                    for row in rows[-2:]
                ]
                # The filled amount is the stake's amount rounded to the market's amount step,
                # so the stake may differ from the expectation by up to one step's worth.
                step = float(lot_size(venue_url, "BTCUSDT"))
                slack = step * trade["open_rate"] * 1.01
                assert any(
                    abs(trade["stake_amount"] - e) <= max(slack, 1e-3 * e) for e in expected
                ), (
                    trade["stake_amount"],
                    expected,
                    slack,
                )
                assert trade["amount"] * trade["open_rate"] == pytest.approx(
                    trade["stake_amount"], rel=1e-3
                )
                assert "approved" in log.read_text()

                api("/forceexit", "POST", {"tradeid": str(trade_id), "ordertype": "market"})
                closed = api.wait_closed(trade_id)
                assert closed["amount"] == pytest.approx(trade["amount"])
                assert closed["exit_reason"] == "force_exit"
            calls_run1 = len(stub.requests)
            spent_run1 = journal_rows(
                journal, "SELECT coalesce(sum(prompt_tokens + completion_tokens), 0) FROM spend"
            )
            assert calls_run1 >= 2 and spent_run1[0][0] > 0
            decisions = journal_rows(journal, "SELECT count(*) FROM decisions WHERE applied = 1")
            assert decisions[0][0] >= 1
            with sqlite3.connect(tmp_path / "trades.sqlite") as db:
                rows = db.execute(
                    "SELECT id, is_open, amount, stake_amount, close_rate FROM trades"
                ).fetchall()
            assert [(r[0], r[1]) for r in rows] == [(trade_id, 0)]
            assert rows[0][2] == pytest.approx(closed["amount"]) and rows[0][4] > 0

            # Restart on the same database and journal, with today's budget set to exactly
            # what run 1 spent: if the ledger survived the restart, no model call is made.
            with bot(tmp_path, venue_url, stub.base_url, int(spent_run1[0][0]), "run2.log") as (
                api,
                _,
                log,
            ):
                trades = api("/trades")["trades"]
                assert [(t["trade_id"], t["is_open"]) for t in trades] == [(trade_id, False)]
                wait_for(
                    lambda: (
                        journal_rows(
                            journal, "SELECT count(*) FROM calls WHERE outcome = 'budget'"
                        )[0][0]
                        >= 1
                    ),
                    timeout=90,
                    what="budget refusals after the restart",
                )
                time.sleep(2)
            assert len(stub.requests) == calls_run1
    finally:
        stub.stop()
    leftovers = subprocess.run(
        ["pgrep", "-f", f"ta-venue.* --port {venue_port}"], capture_output=True
    )
    assert leftovers.returncode == 1, leftovers.stdout  # no orphan venue


def test_shutdown_loses_no_open_trade(tmp_path: Path, binance_dir: Path) -> None:
    """An open trade at shutdown is still open, with the same amount, after a restart."""
    stub = StubServer(responder=answer_by_schema).start()
    try:
        with running_venue_process(
            binance_dir, free_port(), replay=True, replay_start=REPLAY_START
        ) as venue_url:
            with bot(tmp_path, venue_url, stub.base_url, 1_000_000, "a.log", **HOLD) as (api, _, _):
                trade_id = api.enter("ETH/USDT")["trade_id"]
                opened = api.wait_filled(trade_id)
            with bot(tmp_path, venue_url, stub.base_url, 1_000_000, "b.log", **HOLD) as (api, _, _):
                again = [t for t in api("/status") if t["trade_id"] == trade_id]
                assert again and again[0]["amount"] == pytest.approx(opened["amount"])
    finally:
        stub.stop()
