"""Overseer against a local OpenAI-compatible server: real ``openai`` client, real HTTP.

The market context comes from real recorded Binance candles; the server's answers are scripted
per request (tests/openai_stub_server.py). Each scenario checks the bot's decisions, the
journal, the spend ledger and the notifications.
"""

from __future__ import annotations

import http.client
import json
import sqlite3
import threading
import time
import urllib.error
import urllib.request
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from plugins.llm_overseer.features import market_columns
from plugins.llm_overseer.overseer import Overseer
from plugins.llm_overseer.plugin import OverseerPlugin
from plugins.llm_overseer.settings import Settings
from tests.openai_stub_server import Reply, StubProcess, StubServer, wait_for
from trading_agent import TradeSnapshot

NOW = datetime(2024, 7, 9, 14, 0, tzinfo=UTC)
KEY = "sk-test-secret-value-123"
ENV = {"OPENROUTER_API_KEY": KEY}

MONITOR_OK = {
    "regime": "volatile",
    "stake_multiplier": 0.5,
    "pause_entries": False,
    "escalate": False,
    "ttl_minutes": 30,
    "reason": "choppy market",
}
NEUTRAL_OK = {**MONITOR_OK, "regime": "normal", "stake_multiplier": 1.0, "reason": "fine"}


class Notes:
    """Collects notifications like the strategy's rate-limited notifier would receive them."""

    def __init__(self) -> None:
        self.items: list[tuple[str, str]] = []

    def __call__(self, message: str, key: str = "") -> None:
        self.items.append((key, message))

    def sent_keys(self) -> list[str]:
        return [k for k, _ in self.items]


class Clock:
    """Injectable wall clock (for the budget's UTC day)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture()
def stub():
    server = StubServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    """The last 400 real candles before ``NOW`` with the overseer's columns, per pair."""
    from tests.conftest import load_candles

    out = {}
    for name, pair in (("BTC_USDT", "BTC/USDC"), ("ETH_USDT", "ETH/USDC")):
        df = load_candles(name, "5m")
        df = df[df["date"] < NOW].tail(400).reset_index(drop=True)
        out[pair] = pd.concat([df, market_columns(df)], axis=1)
    return out


def make(tmp_path, stub, notes=None, clock=None, env=ENV, **overrides) -> Overseer:
    cfg = {
        "mode": "llm",
        "base_url": stub.base_url,
        "journal_path": str(tmp_path / "journal.sqlite"),
        "http_retries": 2,
        "max_retry_after_s": 5,
    }
    for k, v in overrides.items():
        cfg[k] = v
    settings = Settings.model_validate(cfg)
    return Overseer(
        settings,
        config={"timeframe": "5m", "stoploss": -0.05, "dry_run_wallet": 1000},
        runmode="dry_run",
        notify=notes or Notes(),
        clock=clock or Clock(NOW),
        environ=env,
    )


def rows(tmp_path, sql: str) -> list[sqlite3.Row]:
    con = sqlite3.connect(tmp_path / "journal.sqlite")
    con.row_factory = sqlite3.Row
    try:
        return list(con.execute(sql).fetchall())
    finally:
        con.close()


def run_once(ov: Overseer, frames, pairs=("BTC/USDC",), now=NOW, trades=()) -> None:
    ov.on_loop(now, {p: frames[p] for p in pairs}, list(trades))
    assert ov.worker is not None and wait_for(ov.worker.idle, 15)


def test_valid_answer_is_applied_journalled_and_costed(tmp_path, stub, frames) -> None:
    notes = Notes()
    stub.push(Reply.answer(MONITOR_OK, usage=(812, 41)))
    ov = make(tmp_path, stub, notes)
    run_once(ov, frames)
    advice = ov.risk("BTC/USDC", NOW + timedelta(seconds=5))
    assert advice is not None and advice.stake_multiplier == 0.5 and advice.stoploss is None
    assert ov.entry_verdict("BTC/USDC", NOW) is None
    assert ov.risk("BTC/USDC", NOW + timedelta(minutes=31)) is None  # expired -> neutral
    (req,) = stub.requests
    body = req["body"]
    assert req["authorized"] and body["model"] == "openai/gpt-4.1-nano"
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["strict"] is True
    assert KEY not in json.dumps(body)
    assert "2024" not in body["messages"][1]["content"]  # no dates in prompts
    (call,) = rows(tmp_path, "SELECT * FROM calls")
    assert call["outcome"] == "ok" and call["tier"] == 1
    assert (call["prompt_tokens"], call["completion_tokens"]) == (812, 41)
    assert call["cost_usd"] == pytest.approx((812 * 0.10 + 41 * 0.40) / 1e6)
    assert call["prompt_version"] and len(call["prompt_hash"]) == 16
    (spend,) = rows(tmp_path, "SELECT * FROM spend")
    assert spend["cost_usd"] == pytest.approx(call["cost_usd"])
    (dec,) = rows(tmp_path, "SELECT * FROM decisions")
    assert dec["applied"] == 1 and dec["source"] == "llm" and dec["call_id"] == call["id"]
    assert json.loads(dec["changed"]) == ["stake_multiplier"]
    assert any(k == "llm_overseer:decision:BTC/USDC" for k in notes.sent_keys())
    journal_text = json.dumps([dict(r) for r in rows(tmp_path, "SELECT * FROM calls")])
    assert KEY not in journal_text
    ov.stop()


def test_malformed_json_gets_one_retry_then_applies(tmp_path, stub, frames) -> None:
    stub.push(Reply.answer('{"regime": "calm", "stake_'), Reply.answer(MONITOR_OK))
    ov = make(tmp_path, stub)
    run_once(ov, frames)
    assert ov.risk("BTC/USDC", NOW).stake_multiplier == 0.5
    calls = rows(tmp_path, "SELECT outcome, raw_answer, error FROM calls ORDER BY id")
    assert [c["outcome"] for c in calls] == ["invalid", "ok"]
    assert "malformed JSON" in calls[0]["error"]
    assert len(rows(tmp_path, "SELECT * FROM spend")) == 2  # both attempts cost money
    retry_msgs = stub.requests[1]["body"]["messages"]
    assert retry_msgs[-1]["role"] == "user" and "invalid" in retry_msgs[-1]["content"]
    ov.stop()


def test_missing_fields_twice_falls_back_to_rules(tmp_path, stub, frames) -> None:
    notes = Notes()
    bad = {k: v for k, v in MONITOR_OK.items() if k != "stake_multiplier"}
    stub.push(Reply.answer(bad), Reply.answer(bad))
    ov = make(tmp_path, stub, notes)
    run_once(ov, frames)
    calls = rows(tmp_path, "SELECT outcome, error FROM calls ORDER BY id")
    assert [c["outcome"] for c in calls] == ["invalid", "invalid"]
    assert "stake_multiplier" in calls[1]["error"]
    (dec,) = rows(tmp_path, "SELECT * FROM decisions")
    assert dec["source"] == "fallback" and dec["call_id"] is None
    assert "llm_overseer:failure" in notes.sent_keys()
    advice = ov.risk("BTC/USDC", NOW)
    assert advice is not None and 0.0 <= advice.stake_multiplier <= 1.0  # rules decided
    ov.stop()


def test_out_of_range_numbers_are_clamped_and_the_clamp_journalled(tmp_path, stub, frames) -> None:
    wild = {**MONITOR_OK, "stake_multiplier": -3.0, "ttl_minutes": 99999}
    stub.push(Reply.answer(wild))
    ov = make(tmp_path, stub)
    run_once(ov, frames)
    advice = ov.risk("BTC/USDC", NOW + timedelta(hours=3))
    assert advice is not None and advice.stake_multiplier == 0.0  # clamped to the minimum
    assert ov.risk("BTC/USDC", NOW + timedelta(hours=4, minutes=1)) is None  # ttl clamped to 4h
    (dec,) = rows(tmp_path, "SELECT clamps, proposal FROM decisions")
    assert set(json.loads(dec["clamps"])) == {"stake_multiplier", "ttl_minutes"}
    clamps = json.loads(dec["proposal"])["clamps"]
    assert {"field": "stake_multiplier", "proposed": -3.0, "applied": 0.0} in [
        {k: c[k] for k in ("field", "proposed", "applied")} for c in clamps
    ]
    ov.stop()


def test_http_429_honours_retry_after(tmp_path, stub, frames) -> None:
    stub.push(Reply.error(429, "slow down", headers={"retry-after": "1"}), Reply.answer(MONITOR_OK))
    ov = make(tmp_path, stub)
    run_once(ov, frames)
    assert ov.risk("BTC/USDC", NOW).stake_multiplier == 0.5
    assert stub.requests[1]["time"] - stub.requests[0]["time"] >= 0.95
    calls = rows(tmp_path, "SELECT outcome, error FROM calls ORDER BY id")
    assert [c["outcome"] for c in calls] == ["http_429", "ok"]
    assert "retry in 1.0 s" in calls[0]["error"]
    assert len(rows(tmp_path, "SELECT * FROM spend")) == 1  # a 429 costs nothing
    ov.stop()


def test_http_429_with_too_long_retry_after_falls_back(tmp_path, stub, frames) -> None:
    notes = Notes()
    stub.push(Reply.error(429, "quota", headers={"retry-after": "3600"}))
    ov = make(tmp_path, stub, notes)
    started = time.monotonic()
    run_once(ov, frames)
    assert time.monotonic() - started < 5
    assert [c["outcome"] for c in rows(tmp_path, "SELECT outcome FROM calls")] == ["http_429"]
    assert rows(tmp_path, "SELECT source FROM decisions")[0]["source"] == "fallback"
    assert "llm_overseer:failure" in notes.sent_keys()
    ov.stop()


def test_http_500_is_retried(tmp_path, stub, frames) -> None:
    stub.push(Reply.error(500, "boom"), Reply.answer(MONITOR_OK))
    ov = make(tmp_path, stub)
    run_once(ov, frames)
    assert [c["outcome"] for c in rows(tmp_path, "SELECT outcome FROM calls ORDER BY id")] == [
        "http_500",
        "ok",
    ]
    assert ov.risk("BTC/USDC", NOW).stake_multiplier == 0.5
    ov.stop()


def test_http_500_every_time_exhausts_retries_then_rules(tmp_path, stub, frames) -> None:
    stub.default = Reply.error(503, "down")
    ov = make(tmp_path, stub, http_retries=1)
    run_once(ov, frames)
    assert [c["outcome"] for c in rows(tmp_path, "SELECT outcome FROM calls")] == [
        "http_503",
        "http_503",
    ]
    assert rows(tmp_path, "SELECT source FROM decisions")[0]["source"] == "fallback"
    ov.stop()


def test_timeout_falls_back_without_retry(tmp_path, stub, frames) -> None:
    notes = Notes()
    stub.push(Reply.answer(MONITOR_OK, delay_s=5))
    ov = make(
        tmp_path, stub, notes, tiers={"tier1": {"model": "openai/gpt-4.1-nano", "timeout_s": 0.5}}
    )
    run_once(ov, frames)
    calls = rows(tmp_path, "SELECT outcome FROM calls")
    assert [c["outcome"] for c in calls] == ["timeout"]
    assert rows(tmp_path, "SELECT source FROM decisions")[0]["source"] == "fallback"
    assert "llm_overseer:failure" in notes.sent_keys()
    ov.stop()


def test_slow_answer_within_timeout_is_used_and_latency_recorded(tmp_path, stub, frames) -> None:
    stub.push(Reply.answer(MONITOR_OK, delay_s=1.0))
    ov = make(tmp_path, stub)
    run_once(ov, frames)
    (call,) = rows(tmp_path, "SELECT outcome, latency_s FROM calls")
    assert call["outcome"] == "ok" and call["latency_s"] >= 1.0
    # the decision takes effect at submit time + the wall time the call took
    (dec,) = rows(tmp_path, "SELECT ts FROM decisions")
    assert datetime.fromisoformat(dec["ts"]) >= NOW + timedelta(seconds=1)
    ov.stop()


def test_a_30_second_model_delay_never_delays_the_callbacks(
    tmp_path, stub, frames, monkeypatch
) -> None:
    stub.default = Reply.answer(MONITOR_OK, delay_s=30.0)  # held until teardown
    plugin = OverseerPlugin(
        Settings.model_validate(
            {
                "mode": "llm",
                "base_url": stub.base_url,
                "journal_path": str(tmp_path / "journal.sqlite"),
                "tiers": {"tier1": {"model": "openai/gpt-4.1-nano", "timeout_s": 60}},
            }
        )
    )
    monkeypatch.setenv("OPENROUTER_API_KEY", KEY)
    plugin.bot_start(config={"timeframe": "5m"}, runmode="dry_run", notify=Notes())
    analyzed = {p: frames[p] for p in ("BTC/USDC", "ETH/USDC")}
    durations: dict[str, list[float]] = {"bot_loop": [], "approve_entry": [], "risk_advice": []}
    deadline = time.monotonic() + 5
    while len(stub.requests) < 1 and time.monotonic() < deadline:
        t = time.perf_counter()
        plugin.bot_loop(current_time=NOW, analyzed=analyzed, open_trades=[])
        durations["bot_loop"].append(time.perf_counter() - t)
        time.sleep(0.01)
    assert stub.requests, "the worker never reached the model"
    for k in range(30):  # the model is now stuck for 30 s
        now = NOW + timedelta(minutes=5 * k)
        t = time.perf_counter()
        plugin.bot_loop(current_time=now, analyzed=analyzed, open_trades=[])
        durations["bot_loop"].append(time.perf_counter() - t)
        t = time.perf_counter()
        plugin.approve_entry(pair="BTC/USDC", current_time=now)
        durations["approve_entry"].append(time.perf_counter() - t)
        t = time.perf_counter()
        plugin.risk_advice(pair="BTC/USDC", current_time=now)
        durations["risk_advice"].append(time.perf_counter() - t)
    assert plugin.overseer is not None and plugin.overseer.worker.pending("BTC/USDC:tier1")
    for name, values in durations.items():
        assert max(values) < 0.25, (name, max(values))
    stub.stop()  # releases the held answer; no 30 s wait
    plugin.bot_stop()


def test_budget_exhaustion_persists_across_restart_and_resets_next_day(
    tmp_path, stub, frames
) -> None:
    notes = Notes()
    clock = Clock(NOW)
    stub.default = Reply.answer(NEUTRAL_OK, usage=(1000, 100))
    # one call costs 0.0001 + 0.00004 = 0.00014 USD; the estimate before the second call
    # (prompt chars / 4 + 300 max tokens) no longer fits in 0.0003
    budget = {"daily_usd": 0.0003, "daily_tokens": 1_000_000}
    ov = make(tmp_path, stub, notes, clock, budget=budget, cache_ttl_s=0)
    run_once(ov, frames)
    run_once(ov, frames, now=NOW + timedelta(minutes=15))
    run_once(ov, frames, now=NOW + timedelta(minutes=30))
    outcomes = [c["outcome"] for c in rows(tmp_path, "SELECT outcome FROM calls ORDER BY id")]
    assert outcomes[:2] == ["ok", "ok"] and outcomes[2] == "budget"
    n_requests = len(stub.requests)
    assert n_requests == 2
    assert notes.sent_keys().count("llm_overseer:budget") == 1
    spent = rows(tmp_path, "SELECT SUM(cost_usd) AS usd FROM spend")[0]["usd"]
    assert spent == pytest.approx(2 * 0.00014) and spent <= budget["daily_usd"]
    # while exhausted the loop uses rules without touching the worker
    ov.on_loop(NOW + timedelta(minutes=45), {"BTC/USDC": frames["BTC/USDC"]}, [])
    assert ov.worker.idle() and len(stub.requests) == n_requests
    assert rows(tmp_path, "SELECT source FROM decisions ORDER BY id DESC")[0]["source"] == "rules"
    ov.stop()
    # restart the same day: still exhausted, no new call, no second notification
    notes2 = Notes()
    ov2 = make(tmp_path, stub, notes2, clock, budget=budget, cache_ttl_s=0)
    run_once(ov2, frames, now=NOW + timedelta(hours=1))
    assert len(stub.requests) == n_requests and "llm_overseer:budget" not in notes2.sent_keys()
    # next UTC day: calls again
    clock.now = NOW + timedelta(days=1)
    run_once(ov2, frames, now=NOW + timedelta(hours=2))
    assert len(stub.requests) == n_requests + 1
    ov2.stop()


def test_identical_context_within_ttl_is_served_from_cache(tmp_path, stub, frames) -> None:
    stub.push(Reply.answer(NEUTRAL_OK))
    ov = make(tmp_path, stub)
    run_once(ov, frames)
    run_once(ov, frames, now=NOW + timedelta(minutes=15))  # same closed candles, same prompt
    assert len(stub.requests) == 1
    outcomes = [c["outcome"] for c in rows(tmp_path, "SELECT outcome, cost_usd FROM calls")]
    assert outcomes == ["ok", "cache_hit"]
    assert [r["source"] for r in rows(tmp_path, "SELECT source FROM decisions ORDER BY id")] == [
        "llm",
        "cache",
    ]
    ov.stop()


def test_provider_without_json_schema_gets_json_mode(tmp_path, stub, frames) -> None:
    stub.push(Reply(reject_json_schema=True), Reply.answer(MONITOR_OK), Reply.answer(NEUTRAL_OK))
    ov = make(tmp_path, stub, cache_ttl_s=0)
    run_once(ov, frames)
    formats = [r["body"]["response_format"]["type"] for r in stub.requests]
    assert formats == ["json_schema", "json_object"]
    assert "JSON schema of the answer" in stub.requests[1]["body"]["messages"][0]["content"]
    assert ov.risk("BTC/USDC", NOW).stake_multiplier == 0.5
    run_once(ov, frames, now=NOW + timedelta(minutes=15))
    assert stub.requests[2]["body"]["response_format"]["type"] == "json_object"  # remembered
    ov.stop()


def test_missing_api_key_falls_back_to_rules_with_one_notice(tmp_path, stub, frames) -> None:
    notes = Notes()
    ov = make(tmp_path, stub, notes, env={})
    assert ov.mode == "rules" and ov.client is None and ov.worker is None
    assert notes.sent_keys() == ["llm_overseer:no_key"]
    assert "OPENROUTER_API_KEY" in notes.items[0][1]
    ov.on_loop(NOW, {"BTC/USDC": frames["BTC/USDC"]}, [])
    assert not stub.requests
    assert rows(tmp_path, "SELECT source FROM decisions")[0]["source"] == "rules"
    ov.stop()


def test_tier1_escalation_request_leads_to_a_tier2_call(tmp_path, stub, frames) -> None:
    notes = Notes()
    strategic = {
        "stake_multiplier": 0.3,
        "pause_entries": True,
        "stop_distance": 0.015,
        "exit_position": True,
        "confidence": 0.8,
        "ttl_minutes": 60,
        "reason": "breakdown",
    }
    stub.push(Reply.answer({**MONITOR_OK, "escalate": True}), Reply.answer(strategic))
    ov = make(tmp_path, stub, notes)
    run_once(ov, frames)
    trade = TradeSnapshot(  # synthetic open long
        trade_id=7,
        pair="BTC/USDC",
        is_short=False,
        is_open=True,
        open_date=NOW - timedelta(hours=1),
        open_rate=float(frames["BTC/USDC"]["close"].iloc[-1]),
        amount=0.001,
        stake_amount=60.0,
    )
    later = NOW + timedelta(minutes=5)
    run_once(ov, frames, now=later, trades=[trade])
    assert stub.requests[1]["body"]["model"] == "openai/gpt-4.1-mini"
    assert "llm_overseer:escalation:BTC/USDC" in notes.sent_keys()
    t = later + timedelta(minutes=1)
    verdict = ov.entry_verdict("BTC/USDC", t)
    assert verdict is not None and not verdict.allow
    advice = ov.risk("BTC/USDC", t)
    assert advice.stake_multiplier == 0.3 and advice.stoploss == pytest.approx(-0.015)
    assert ov.exit_reason(trade, t, -0.01) == "llm_overseer_exit"
    newer = replace(trade, trade_id=8, open_date=t)
    assert ov.exit_reason(newer, t, 0.0) is None  # opened after the request: not exited
    assert [r["tier"] for r in rows(tmp_path, "SELECT tier FROM calls ORDER BY id")] == [1, 2]
    ov.stop()


def _post(url: str, timeout: float = 30.0) -> int:
    request = urllib.request.Request(
        url + "/chat/completions",
        data=json.dumps({"messages": [{"role": "user", "content": "hi"}]}).encode(),
        headers={"content-type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status
    except (urllib.error.URLError, ConnectionError, http.client.HTTPException):
        return 0  # a held answer cut off by the stop


def test_stub_in_a_child_process_serves_counts_and_releases_held_answers() -> None:
    with StubProcess(Reply.answer({"ok": True})) as stub:
        assert _post(stub.base_url) == 200
        assert _post(stub.base_url) == 200
    assert stub.requests == 2
    held = StubProcess(Reply.answer({"ok": True}, delay_s=60.0))
    with held:
        worker = threading.Thread(target=_post, args=(held.base_url,))
        worker.start()
        time.sleep(0.5)  # the request is held by the child
        started = time.monotonic()
        held.stop()
        worker.join(15)
        assert not worker.is_alive()
        assert time.monotonic() - started < 15
    assert held.requests == 1
