"""Overseer part 4: backtest determinism, replay timing, shadow mode, journal report.

Candles are real recorded Binance data; trades handed to the hooks are synthetic (labelled).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from plugins.llm_overseer.decisions import ALL_PAIRS, Proposal
from plugins.llm_overseer.features import market_columns
from plugins.llm_overseer.journal import DecisionJournal
from plugins.llm_overseer.overseer import Overseer
from plugins.llm_overseer.plugin import OverseerPlugin
from plugins.llm_overseer.report import build_report
from plugins.llm_overseer.report import main as report_main
from plugins.llm_overseer.settings import Settings
from plugins.llm_overseer.store import ApplyOutcome
from trading_agent import TradeSnapshot

T0 = datetime(2024, 5, 1, 0, 0, tzinfo=UTC)


def _journal_with(path, items) -> None:
    j = DecisionJournal(path)
    for ts, proposal in items:
        j.record_decision(ts, proposal, ApplyOutcome(("stake_multiplier",), (), ts))
    j.close()


def test_replay_applies_no_decision_before_its_timestamp(tmp_path) -> None:
    path = tmp_path / "recorded.sqlite"
    t1 = T0 + timedelta(hours=2, minutes=3, seconds=7)  # decisions land between candles
    t2 = T0 + timedelta(hours=5)
    _journal_with(
        path,
        [
            (t1, Proposal("BTC/USDC", 0.4, pause_entries=True, ttl_minutes=60, source="llm")),
            (t2, Proposal(ALL_PAIRS, 1.0, pause_entries=True, ttl_minutes=30, source="llm")),
        ],
    )
    ov = Overseer(Settings(mode="replay", replay_journal=str(path)), config={}, runmode="backtest")
    # step through candle times like a backtest; nothing may apply before t1
    seen = []
    for k in range(0, 96):
        now = T0 + timedelta(minutes=5 * k)
        ov.on_loop(now, {}, [])
        advice = ov.risk("BTC/USDC", now)
        verdict = ov.entry_verdict("ETH/USDC", now)
        seen.append((now, advice, verdict))
        if now < t1:
            assert advice is None and ov.entry_verdict("BTC/USDC", now) is None
        elif now < t1 + timedelta(minutes=60):
            assert advice.stake_multiplier == 0.4
            assert not ov.entry_verdict("BTC/USDC", now).allow
        if t2 <= now < t2 + timedelta(minutes=30):
            assert verdict is not None and not verdict.allow
        else:
            assert verdict is None
    assert seen[24][1] is None and seen[25][1] is not None  # 02:00 before, 02:05 after t1
    # a query at an earlier time after a later one (rewind) still sees nothing early
    assert ov.risk("BTC/USDC", t1 - timedelta(seconds=1)) is None
    assert ov.risk("BTC/USDC", t1).stake_multiplier == 0.4


def test_replay_needs_an_existing_journal(tmp_path) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        Overseer(
            Settings(mode="replay", replay_journal=str(tmp_path / "nope.sqlite")),
            runmode="backtest",
        )


def test_backtest_with_llm_mode_uses_rules_deterministically_without_files(
    tmp_path, btc_5m, eth_5m
) -> None:
    """Two runs over the same real candles give identical advice; no journal, no model."""
    settings = Settings(
        mode="llm",
        base_url="http://127.0.0.1:9/v1",  # nothing listens: any call would fail loudly
        journal_path=str(tmp_path / "journal.sqlite"),
    )
    start = pd.Timestamp("2024-08-04 12:00", tz="UTC")  # includes the 5 Aug 2024 sell-off
    frames = {}
    for pair, df in (("BTC/USDC", btc_5m), ("ETH/USDC", eth_5m)):
        window = df[
            (df.date > start - pd.Timedelta(days=2)) & (df.date < start + pd.Timedelta(days=1))
        ]
        frames[pair] = pd.concat([window, market_columns(window)], axis=1)

    def run() -> list[tuple]:
        plugin = OverseerPlugin(settings)
        plugin.bot_start(
            config={"timeframe": "5m"}, runmode="backtest", notify=lambda *a, **k: None
        )
        assert plugin.overseer.mode == "rules" and plugin.overseer.worker is None
        out = []
        for k in range(288):
            now = (start + pd.Timedelta(minutes=5 * k)).to_pydatetime()
            plugin.bot_loop(current_time=now, analyzed=frames, open_trades=[])
            for pair in frames:
                a = plugin.risk_advice(pair=pair, current_time=now)
                v = plugin.approve_entry(pair=pair, current_time=now)
                out.append((pair, now, a, v))
        plugin.bot_stop()
        return out

    first, second = run(), run()
    assert first == second
    assert not (tmp_path / "journal.sqlite").exists()
    multipliers = {a.stake_multiplier for _, _, a, _ in first if a is not None}
    assert min(multipliers) < 1.0  # the rules did reduce risk on this real sell-off


def _trade(trade_id: int, open_date: datetime, **kw) -> TradeSnapshot:
    base = {
        "trade_id": trade_id,
        "pair": "BTC/USDC",
        "is_short": False,
        "is_open": True,
        "open_date": open_date,
        "open_rate": 60000.0,
        "amount": 0.002,
        "stake_amount": 120.0,
    }
    base.update(kw)
    return TradeSnapshot(**base)


def test_shadow_mode_records_without_applying_and_report_compares(tmp_path) -> None:
    """Synthetic trades through the hooks in shadow mode, then the journal report."""
    path = tmp_path / "journal.sqlite"
    notes: list[tuple[str, str]] = []
    ov = Overseer(
        Settings(mode="rules", shadow=True, journal_path=str(path)),
        config={"dry_run_wallet": 1000, "timeframe": "5m"},
        runmode="dry_run",
        notify=lambda m, key="": notes.append((key, m)),
    )
    assert ov.shadow
    t = T0
    # The shadow overseer halves stakes and tightens the BTC stop to 1 %.
    ov.apply([Proposal("BTC/USDC", 0.5, stop_distance=0.01, ttl_minutes=240, source="rules")], t)
    # ...and pauses ETH entries.
    ov.apply([Proposal("ETH/USDC", 1.0, pause_entries=True, ttl_minutes=240)], t)
    assert ov.risk("BTC/USDC", t) is None and ov.entry_verdict("ETH/USDC", t) is None
    assert all("shadow" in m for _, m in notes)

    a = _trade(1, t)  # BTC: would have been stopped out at -1.2 %, actually closed at -3 %
    ov.on_filled(a, "buy", t)
    assert ov.exit_reason(a, t + timedelta(minutes=5), 0.002) is None
    assert ov.exit_reason(a, t + timedelta(minutes=10), -0.012) is None  # shadow: not applied
    closed_a = replace(
        a, is_open=False, close_date=t + timedelta(minutes=30), profit_abs=-3.6, profit_ratio=-0.03
    )
    ov.on_closed(closed_a)
    b = _trade(2, t + timedelta(minutes=1), pair="ETH/USDC", stake_amount=100.0)
    ov.on_filled(b, "buy", t + timedelta(minutes=1))  # entries were paused: vetoed in shadow
    ov.on_closed(
        replace(
            b, is_open=False, close_date=t + timedelta(hours=1), profit_abs=2.0, profit_ratio=0.02
        )
    )
    ov.stop()

    rep = build_report(path)
    sh = rep["shadow"]
    assert sh["trades"] == 2 and sh["vetoed"] == 1 and sh["early_exits"] == 1
    assert sh["without_overseer"] == pytest.approx(-1.6)
    # BTC: 0.5 x 120 x -0.012 = -0.72; ETH: vetoed -> 0
    assert sh["with_overseer"] == pytest.approx(-0.72)
    assert sh["llm_spend_usd"] == 0.0 and sh["difference_net"] == pytest.approx(0.88)
    con = sqlite3.connect(path)
    assert con.execute("SELECT COUNT(*) FROM decisions WHERE shadow=1").fetchone()[0] == 2
    con.close()


def test_report_cli_prints_costs_latencies_and_failures(tmp_path, capsys) -> None:
    from plugins.llm_overseer.journal import CallRecord

    path = tmp_path / "j.sqlite"
    j = DecisionJournal(path)
    common = {
        "bot_ts": T0,
        "pair": "BTC/USDC",
        "prompt_version": "v",
        "prompt_hash": "h" * 16,
        "attempt": 1,
    }
    j.record_call(
        CallRecord(
            wall_ts=T0,
            tier=1,
            model="m1",
            outcome="ok",
            prompt_tokens=800,
            completion_tokens=40,
            cost_usd=0.0001,
            latency_s=0.8,
            **common,
        )
    )
    j.record_call(CallRecord(wall_ts=T0, tier=2, model="m2", outcome="timeout", **common))
    j.record_call(
        CallRecord(
            wall_ts=T0 + timedelta(days=1),
            tier=1,
            model="m1",
            outcome="ok",
            prompt_tokens=900,
            completion_tokens=50,
            cost_usd=0.0002,
            latency_s=1.2,
            **common,
        )
    )
    j.close()
    assert report_main(["--journal", str(path)]) == 0
    text = capsys.readouterr().out
    assert "2024-05-01" in text and "2024-05-02" in text and "timeout" in text
    assert "Total LLM spend: 0.000300 USD" in text
    assert report_main(["--journal", str(path), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    (lat,) = [r for r in data["latencies"] if r["tier"] == 1]
    assert lat["n"] == 2 and lat["p50_s"] == pytest.approx(1.0) and lat["max_s"] == 1.2
    assert data["failures"] == [{"outcome": "timeout", "n": 1, "example": None}]
    assert report_main(["--journal", str(tmp_path / "missing.sqlite")]) == 2
