"""Overseer decisions on 12 days of real candles, compared with golden records.

This module replays 12 days of real BTC and ETH 5m candles (2024-07-28 .. 2024-08-09, which
includes the 5 August 2024 sell-off) through the overseer the way a Freqtrade backtest does
(each candle: the pair's frame sliced to its last <= 1000 rows, like
``DataProvider.get_analyzed_dataframe``; every 7th candle the frame also holds the candle
that has not closed yet, which must be ignored) and compares everything it decides with a
golden record (``GOLDEN``):

- ``rules`` mode, backtest: the advice of every candle (``risk_advice``, ``approve_entry``,
  ``exit_advice``);
- ``rules`` mode, dry-run: the decision journal (every proposal, outcome, expiry);
- ``replay`` mode over that journal, backtest: the advice of every candle, which must equal
  the rules-mode advice exactly (so it is not stored twice);
- ``llm`` mode, dry-run: every model job the overseer submits (tier, reasons, the full
  features and the prompt; the submission is captured, no model is called).

Discrete values (pairs, tiers, times, triggers, decisions, the text of reasons and prompts)
must be equal; floats equal within a relative tolerance of 1e-9, numbers printed in text
within one unit of their last digit (:mod:`tests.golden`).

The trades fed to the hooks are synthetic (a fixed schedule of longs and shorts sized by the
overseer's own advice and closed at real closes), so the portfolio triggers (drawdown,
losing streak, pattern against a position, exit requests) fire on real prices. The frames
carry real TA-Lib indicators and candlestick columns plus one derived pattern column and its
price level (which must be ignored), the session plugin's columns and the overseer's own
(``add_indicators``, computed once over each pair's whole frame, as a backtest does).

History of the record. It was first recorded from the implementation of 154686d, which
computed every feature per candle from a window of closes (sha256 digests of ``repr()``,
machine-dependent for floats), then written as plain data at 0e2d36b from a per-candle fast
path that repeated those digests. The overseer now reads its features from columns computed
once per frame (``plugins.llm_overseer.features``); the rules, journal and replay records
are unchanged and pass as they were. The replay record, equal to the rules record item for
item, is no longer stored: the test asserts that equality instead.

The llm record was regenerated once, for one reason: the ``session`` a prompt carries now
comes from the session plugin's ``session`` column (its default hours: asia 00-08, europe
08-16, us 13-21 UTC, the US governing their overlap, ``off`` otherwise) instead of the
overseer's own table (asia 00-07, europe 07-13, us 13-21, late 21-24 UTC), with which this
module used to build the ``session`` column. ``python -m tests.test_overseer_decisions
--write-llm`` compares the new llm record with the old one field by field and refuses to
write if any field but those two changed, and the rules and journal records (and replay,
equal to rules) must match as they are. Outcome: of the 2690 jobs, 450 differ, each in
exactly two fields, the features' ``session`` and the prompt's ``market.session`` (candles
opening 07:00-07:55 UTC: europe -> asia, 112 jobs; 21:00-23:55 UTC: late -> off, 338 jobs);
the other 2240 jobs and all 8472 advice items of the llm record are unchanged.
"""

from __future__ import annotations

import json
import math
import sqlite3
import tempfile
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import talib

from plugins.llm_overseer import columns as col
from plugins.llm_overseer.features import EMA_SPAN, SHORT_WINDOW, VOL_WINDOW, market_columns
from plugins.llm_overseer.market import latest_closed, market_now
from plugins.llm_overseer.overseer import Overseer
from plugins.llm_overseer.plugin import OverseerPlugin
from plugins.llm_overseer.prompts import system_prompt
from plugins.llm_overseer.settings import Settings
from plugins.session_manager.plugin import SessionPlugin
from tests import golden as golden_records
from tests.conftest import load_candles
from trading_agent import AnalyzedCandles, TradeSnapshot
from trading_agent.candles import ticks_of
from trading_agent.launch.sample_data import SAMPLE_DIR

PAIRS = {"BTC/USDC": "BTC_USDT", "ETH/USDC": "ETH_USDT"}
START = pd.Timestamp("2024-07-28 00:00", tz="UTC")
END = pd.Timestamp("2024-08-09 00:00", tz="UTC")
HISTORY = 1000  # rows per frame, as Freqtrade's backtesting DataProvider slices
STEP = timedelta(minutes=5)
CAPITAL = 120.0  # small capital against 100-quote stakes, so drawdown triggers fire
STAKE = 100.0

#: Derived from the sample's candles, so it lives in the sample (its README describes it).
GOLDEN = SAMPLE_DIR / "golden" / "overseer_decisions.json.gz"
#: The only fields of an llm job the session source may change (see the module docstring).
SESSION_FIELDS = ("[2].session", "[4].market.session")


def candle_frames() -> dict[str, pd.DataFrame]:
    """Real candles with indicator, candlestick, derived pattern and session columns."""
    sessions = SessionPlugin()
    out = {}
    for pair, name in PAIRS.items():
        raw = load_candles(name, "5m")
        first = START - HISTORY * STEP
        df = raw[(raw["date"] >= first) & (raw["date"] < END)].reset_index(drop=True)
        o, h, lo, c, v = (
            df[k].to_numpy(dtype=float) for k in ("open", "high", "low", "close", "volume")
        )
        df["rsi"] = talib.RSI(c, 14)
        df["adx"] = talib.ADX(h, lo, c, 14)
        df["atr"] = talib.ATR(h, lo, c, 14)
        df["macd"], df["macdsignal"], _ = talib.MACD(c, 12, 26, 9)
        df["mfi"] = talib.MFI(h, lo, c, v, 14)
        for name_, fn in (
            ("engulfing", talib.CDLENGULFING),
            ("hammer", talib.CDLHAMMER),
            ("shootingstar", talib.CDLSHOOTINGSTAR),
            ("doji", talib.CDLDOJI),
        ):
            df[f"cdl_{name_}"] = np.sign(fn(o, h, lo, c)).astype(np.int32)
        # An engulfing candle confirmed by the next close in its direction (known at that
        # next candle's close), and its price level: a level column is not a pattern signal.
        prev = df["cdl_engulfing"].shift(1).fillna(0).astype(int)
        move = np.sign(df["close"].diff().fillna(0.0)).astype(int)
        df["pattern_engulfing_confirmed"] = np.where(prev * move > 0, prev, 0)
        df["pattern_engulfing_confirmed_neckline"] = np.where(
            df["pattern_engulfing_confirmed"] != 0, df["close"].shift(1), np.nan
        )
        extra = sessions.add_indicators(dataframe=df, pair=pair, timeframe="5m", runmode="backtest")
        out[pair] = pd.concat([df, extra], axis=1)
    return out


def with_overseer_columns(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """``frames`` joined with the overseer's ``add_indicators`` columns (the whole frame)."""
    plugin = OverseerPlugin(_settings(mode="rules"))
    out = {}
    for pair, df in frames.items():
        extra = plugin.add_indicators(dataframe=df, pair=pair, timeframe="5m", runmode="backtest")
        out[pair] = pd.concat([df, extra], axis=1)
    return out


def analysed_frames() -> dict[str, pd.DataFrame]:
    """What the strategies hand the overseer: every plugin's columns joined."""
    return with_overseer_columns(candle_frames())


def _settings(**kw: Any) -> Settings:
    return Settings(capital_quote=CAPITAL, **kw)


@pytest.fixture(scope="module")
def golden() -> dict[str, Any]:
    return golden_records.read(GOLDEN)


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    return analysed_frames()


def simulate(
    overseer: Overseer,
    frames: dict[str, pd.DataFrame],
    after_loop: Callable | None = None,
    whole: bool = False,
) -> list[tuple]:
    """Step the overseer through the candles like a backtest; return the advice sequence.

    ``whole``: hand in the whole frame bounded at the known rows (``AnalyzedCandles``, as
    the strategies do in backtests) instead of a slice of the last rows.
    """
    dates = {p: df["date"] for p, df in frames.items()}
    closes = {p: df["close"].to_numpy(dtype=float) for p, df in frames.items()}
    trades: dict[str, TradeSnapshot] = {}
    opened_at: dict[str, int] = {}
    next_id = 1
    records: list[tuple] = []
    n = int((END - START) / STEP)
    for k in range(n):
        now_ts = START + k * STEP
        now = now_ts.to_pydatetime()
        analyzed = {}
        last_close = {}
        for pair, df in frames.items():
            end = int(dates[pair].searchsorted(now_ts))  # rows before `now` have closed
            stop = end + 1 if k % 7 == 3 else end  # sometimes include the unclosed candle
            if whole:
                analyzed[pair] = AnalyzedCandles(df, stop)
            else:
                analyzed[pair] = df.iloc[max(0, end - HISTORY) : stop]
            last_close[pair] = float(closes[pair][end - 1])
        open_trades = list(trades.values())
        overseer.on_loop(now, analyzed, open_trades)
        if after_loop is not None:
            after_loop(now)
        for pair in frames:
            records.append((k, pair, overseer.risk(pair, now), overseer.entry_verdict(pair, now)))
        for trade in open_trades:
            rate = last_close[trade.pair]
            ratio = rate / trade.open_rate - 1.0
            if trade.is_short:
                ratio = -ratio
            reason = overseer.exit_reason(trade, now, ratio)
            records.append((k, trade.trade_id, reason))
            if reason is not None or k - opened_at[trade.pair] >= 30:
                closed = replace(
                    trade,
                    is_open=False,
                    close_date=now,
                    close_rate=rate,
                    profit_abs=ratio * trade.stake_amount,
                    profit_ratio=ratio,
                    exit_reason=reason or "time",
                )
                overseer.on_closed(closed)
                del trades[trade.pair]
        for j, pair in enumerate(frames):
            if pair in trades or k % 23 != 11 * j:
                continue
            verdict = overseer.entry_verdict(pair, now)
            if verdict is not None and not verdict.allow:
                continue
            advice = overseer.risk(pair, now)
            stake = STAKE * (advice.stake_multiplier if advice is not None else 1.0)
            if stake <= 0:
                continue
            rate = last_close[pair]
            trades[pair] = TradeSnapshot(
                trade_id=next_id,
                pair=pair,
                is_short=pair.startswith("ETH") and next_id % 3 == 0,
                is_open=True,
                open_date=now,
                open_rate=rate,
                amount=stake / rate,
                stake_amount=stake,
            )
            opened_at[pair] = k
            next_id += 1
    return records


def run_rules(frames: dict[str, pd.DataFrame], whole: bool = False) -> list[tuple]:
    """Rules mode in a backtest: the advice sequence."""
    ov = Overseer(_settings(mode="rules"), config={"timeframe": "5m"}, runmode="backtest")
    return simulate(ov, frames, whole=whole)


def run_journal(frames: dict[str, pd.DataFrame], journal: Path) -> tuple[list[tuple], list]:
    """Rules mode in dry-run (journalled): the advice sequence and the journal's decisions."""
    ov = Overseer(
        _settings(mode="rules", journal_path=str(journal)),
        config={"timeframe": "5m"},
        runmode="dry_run",
    )
    advice = simulate(ov, frames)
    ov.stop()
    con = sqlite3.connect(journal)
    rows = con.execute(
        "SELECT ts, scope, tier, source, proposal, clamps, applied, changed, held, expires_at,"
        " shadow FROM decisions ORDER BY id"
    ).fetchall()
    con.close()
    return advice, rows


def run_replay(frames: dict[str, pd.DataFrame], journal: Path) -> list[tuple]:
    """Replay mode over a recorded journal in a backtest: the advice sequence."""
    ov = Overseer(
        _settings(mode="replay", replay_journal=str(journal)),
        config={"timeframe": "5m"},
        runmode="backtest",
    )
    return simulate(ov, frames)


class _InlineWorker:
    """Runs each submitted job at once on the calling thread (deterministic order)."""

    def submit(self, key: str, priority: int, job: Callable[[], None]) -> bool:
        job()
        return True

    def pending(self, key: str) -> bool:
        return False  # every job has finished by the time submit returns


def run_llm(frames: dict[str, pd.DataFrame], journal: Path) -> list[tuple]:
    """LLM mode in dry-run, model jobs captured instead of run: what each call would carry."""
    ov = Overseer(
        _settings(mode="llm", base_url="http://127.0.0.1:9/v1", journal_path=str(journal)),
        config={"timeframe": "5m"},
        runmode="dry_run",
        environ={"OPENROUTER_API_KEY": "test-key-not-secret"},
    )
    assert ov.mode == "llm"
    jobs: list[tuple] = []

    def capture(job) -> None:  # in place of the model call: the job's full context
        features, prompt = ov.job_context(job)
        system, user = (m["content"] for m in prompt.messages)
        assert system == system_prompt(ov.settings.authority)  # fixed: not recorded per job
        jobs.append((job.bot_ts, job.due, features, job.portfolio, user))

    worker, ov.worker = ov.worker, _InlineWorker()
    ov._run_job = capture
    advice = simulate(ov, frames)
    ov.worker = worker
    ov.stop()
    return [*jobs, *advice]


def test_rules_and_replay_decisions_match_the_golden_record(frames, golden, tmp_path) -> None:
    journal = tmp_path / "journal.sqlite"
    rules = run_rules(frames)
    reasons = " | ".join(r[2].reason for r in rules if len(r) == 4 and r[2] is not None)
    # the window exercises every rule on real prices (else the comparison would prove little)
    for needle in (
        "high volatility",
        "flash crash",
        "drawdown",
        "losing streak",
        "pattern against open position",
        "severe drawdown",
    ):
        assert needle in reasons, needle
    assert any(len(r) == 3 and r[2] is not None for r in rules)  # an exit was requested
    golden_records.assert_matches(golden["rules"], rules, "rules-mode advice")
    # whole frames bounded at the known rows (the strategies' backtest input): same advice
    assert run_rules(frames, whole=True) == rules
    advice, rows = run_journal(frames, journal)
    assert advice == rules
    assert len(rows) > 1000
    golden_records.assert_matches(golden["journal"], rows, "decision journal")
    assert "replay" not in golden
    assert run_replay(frames, journal) == rules  # the journal replays every decision


def test_llm_mode_submits_the_jobs_of_the_golden_record(frames, golden, tmp_path) -> None:
    out = run_llm(frames, tmp_path / "llm.sqlite")
    jobs = [j for j in out if len(j) == 5]
    assert {j[1].tier for j in jobs} == {1, 2, 3}
    assert {j[2].session for j in jobs} == {"asia", "europe", "us", "off"}
    golden_records.assert_matches(golden["llm"], out, "llm-mode jobs and advice")


def test_a_changed_decision_is_named(golden) -> None:
    """The comparison fails on a changed float, tier or reason, naming the field."""
    jobs = [j for j in golden["llm"] if len(j) == 5]
    first = json.loads(json.dumps(jobs[0]))
    golden_records.assert_matches(jobs[0], first, "a copy")
    first[2]["vol_ratio"] *= 1 + 1e-6
    with pytest.raises(AssertionError, match=r"\[2\]\.vol_ratio: expected"):
        golden_records.assert_matches(jobs[0], first, "a job")
    first = json.loads(json.dumps(jobs[0]))
    first[1]["tier"] += 1
    with pytest.raises(AssertionError, match=r"\[1\]\.tier"):
        golden_records.assert_matches(jobs[0], first, "a job")
    rules = [r for r in golden["rules"] if len(r) == 4 and r[2] is not None]
    changed = json.loads(json.dumps(rules[0]))
    changed[2]["reason"] += " and more"
    with pytest.raises(AssertionError, match="text differs"):
        golden_records.assert_matches(rules[0], changed, "advice")


# ---------------------------------------------------------------- the columns


def _window_features(close: np.ndarray, high: np.ndarray, low: np.ndarray) -> dict[str, float]:
    """The features of one window of closes, written out per window (the earlier definition:
    np.diff of the logs, running sums, np.median, an EMA seeded with the first close)."""
    x = np.diff(np.log(close))
    zero = np.zeros(1)
    c1 = np.cumsum(np.concatenate((zero, x)))
    c2 = np.cumsum(np.concatenate((zero, x * x)))
    s1 = c1[VOL_WINDOW:] - c1[:-VOL_WINDOW]
    s2 = c2[VOL_WINDOW:] - c2[:-VOL_WINDOW]
    vols = np.sqrt(np.maximum(s2 / VOL_WINDOW - (s1 / VOL_WINDOW) ** 2, 0.0))
    recent, baseline = float(vols[-1]), float(np.median(vols))
    alpha = 2.0 / (EMA_SPAN + 1.0)
    ema = [close[0]]
    for value in close[1:]:
        ema.append(alpha * value + (1 - alpha) * ema[-1])
    hi, lo = float(np.nanmax(high)), float(np.nanmin(low))

    def ret(n: int) -> float:
        return float(close[-1] / close[-1 - min(n, len(close) - 1)] - 1.0)

    return {
        col.RET_1: ret(1),
        col.RET_SHORT: ret(12),
        col.RET_LONG: ret(72),
        col.FLASH_RETURN: ret(3),
        col.VOL_RECENT: recent,
        col.VOL_BASELINE: baseline,
        col.VOL_RATIO: recent / baseline if baseline > 0 else 1.0,
        col.EMA_GAP: float(close[-1] / ema[-1] - 1.0),
        col.EMA_SLOPE: float(ema[-1] / ema[max(len(close) - 1 - SHORT_WINDOW, 0)] - 1.0),
        col.RANGE_POSITION: (close[-1] - lo) / (hi - lo) if hi > lo else 0.5,
        col.FROM_HIGH: float(close[-1] / hi - 1.0),
        col.CANDLES: float(len(close)),
    }


@pytest.fixture(scope="module")
def btc() -> pd.DataFrame:
    return candle_frames()["BTC/USDC"]


@pytest.mark.parametrize("window", [300, 61])
def test_columns_follow_their_per_window_definitions(btc, window) -> None:
    """Real candles: each column equals the per-window arithmetic to within float rounding,
    at full windows and at the frame's start (where a window holds every earlier row)."""
    close, high, low = (btc[k].to_numpy(dtype=float) for k in ("close", "high", "low"))
    cols = market_columns(btc, context_candles=window)
    assert list(cols.columns) == list(col.COLUMNS) and cols.index.equals(btc.index)
    assert cols.iloc[: col.MIN_CANDLES - 1].isna().all().all()
    for t in (*range(col.MIN_CANDLES - 1, window + 5), *range(window + 5, len(btc), 53)):
        s = max(0, t - window + 1)
        want = _window_features(close[s : t + 1], high[s : t + 1], low[s : t + 1])
        got = cols.iloc[t]
        for name, value in want.items():
            assert math.isclose(got[name], value, rel_tol=1e-9, abs_tol=1e-12), (t, name)


def test_columns_are_causal_and_blank_bad_windows(btc) -> None:
    """Prefix invariance on real candles (no lookahead), exactly; a frame that starts later,
    as in dry-run, gives the same values within float rounding wherever it holds the window."""
    full = market_columns(btc)
    for k in (1, 25, 26, 299, 300, 301, 1234, len(btc) - 1):
        assert full.iloc[:k].equals(market_columns(btc.iloc[:k]))
    later = market_columns(btc.iloc[2000:3000])
    np.testing.assert_allclose(later.iloc[299:], full.iloc[2299:3000], rtol=1e-9, atol=1e-12)
    bad = btc.copy()
    bad.loc[2000, "close"] = np.nan  # synthetic gap
    bad.loc[2500, "close"] = 0.0  # synthetic non-positive price
    marked = market_columns(bad)
    blank = marked.isna().all(axis=1).to_numpy()
    # windows of 300 rows ending at 2000..2299 hold the gap, 2500..2799 the zero price
    assert blank[2000:2300].all() and blank[2500:2800].all()
    assert not blank[25:2000].any() and not blank[2300:2500].any() and not blank[2800:].any()
    np.testing.assert_allclose(marked.iloc[2800:], full.iloc[2800:], rtol=1e-9, atol=1e-12)
    with pytest.raises(ValueError, match="context_candles"):
        market_columns(btc, context_candles=10)
    with pytest.raises(ValueError, match="'close'"):
        market_columns(btc[["date", "open"]])


def test_add_indicators_adds_the_columns_in_every_runmode(btc) -> None:
    plugin = OverseerPlugin(_settings(mode="rules", context_candles=120))
    expected = market_columns(btc, context_candles=120)
    for runmode in ("dry_run", "live", "backtest", "hyperopt", "util_no_exchange"):
        out = plugin.add_indicators(dataframe=btc, pair="BTC/USDC", timeframe="5m", runmode=runmode)
        assert out.equals(expected) and out.columns.str.startswith(col.PREFIX).all()
    for mode in ("off", "replay"):
        extra = {"replay_journal": "j.sqlite"} if mode == "replay" else {}
        plugin = OverseerPlugin(Settings(mode=mode, **extra))
        assert (
            plugin.add_indicators(dataframe=btc, pair="X", timeframe="5m", runmode="backtest")
            is None
        )


def test_frames_without_the_columns_are_named_once_and_skipped(btc, caplog) -> None:
    ov = Overseer(_settings(mode="rules"), config={"timeframe": "5m"}, runmode="backtest")
    now = btc["date"].iloc[1500].to_pydatetime()
    for k in range(3):
        ov.on_loop(now + k * STEP, {"BTC/USDC": btc.iloc[:1500]}, [])
    assert ov.risk("BTC/USDC", now) is None
    warnings = [r for r in caplog.records if "lack the column" in r.getMessage()]
    assert len(warnings) == 1 and "BTC/USDC" in warnings[0].getMessage()


@pytest.mark.parametrize(("unit", "tz"), [("ns", "UTC"), ("us", "UTC"), ("ms", None), ("s", None)])
def test_the_latest_closed_candle_in_any_date_unit(frames, unit, tz) -> None:
    """A frame that also holds the candle still open is read at the candle before it."""
    frame = frames["BTC/USDC"].iloc[:1200].copy()
    dates = frame["date"] if tz else frame["date"].dt.tz_localize(None)
    frame["date"] = dates.dt.as_unit(unit)
    last_open = frame["date"].iloc[-1]
    now = (last_open if last_open.tzinfo else last_open.tz_localize(UTC)).to_pydatetime()
    candles = AnalyzedCandles(frame)

    def close_at(when: datetime) -> float | None:
        _, row = latest_closed(candles, ticks_of(frame["date"]), when, STEP)
        market = market_now("BTC/USDC", row, frame.columns, 1.8)
        return None if market is None else market.close

    assert close_at(now + timedelta(minutes=4)) == frame["close"].iloc[-2]  # last still open
    assert close_at(now + STEP) == frame["close"].iloc[-1]  # closed exactly now
    assert close_at(now + 10 * STEP) == frame["close"].iloc[-1]
    assert close_at(datetime(2020, 1, 1, tzinfo=UTC)) is None  # nothing closed yet


def _differences(expected: Any, actual: Any, path: str = "") -> list[str]:
    """Every field where two plain records differ (prompts compared as JSON)."""
    if isinstance(expected, str) and isinstance(actual, str) and expected.startswith("{"):
        expected, actual = json.loads(expected), json.loads(actual)
    if isinstance(expected, dict) and isinstance(actual, dict):
        if list(expected) != list(actual):
            return [f"{path} keys"]
        return [d for k in expected for d in _differences(expected[k], actual[k], f"{path}.{k}")]
    if isinstance(expected, list) and isinstance(actual, list) and len(expected) == len(actual):
        return [
            d
            for i, (e, a) in enumerate(zip(expected, actual, strict=True))
            for d in _differences(e, a, f"{path}[{i}]")
        ]
    return [] if golden_records.mismatch(expected, actual) is None else [path or "<root>"]


def write_llm_record() -> None:
    """Regenerate the llm record, refusing unless only the session fields changed."""
    old = golden_records.read(GOLDEN)
    frames = analysed_frames()
    with tempfile.TemporaryDirectory() as tmp:
        journal = Path(tmp) / "journal.sqlite"
        rules = run_rules(frames)
        _, rows = run_journal(frames, journal)
        for name, records in (("rules", rules), ("journal", rows)):
            golden_records.assert_matches(old[name], records, name)
        assert run_replay(frames, journal) == rules, "replay"
        llm = run_llm(frames, Path(tmp) / "llm.sqlite")
    new = json.loads(json.dumps(golden_records.to_plain(llm)))
    if len(new) != len(old["llm"]):
        raise SystemExit(f"llm record: {len(old['llm'])} items before, {len(new)} now")
    changed: dict[str, int] = {}
    jobs = 0
    for before, now in zip(old["llm"], new, strict=True):
        fields = _differences(before, now)
        jobs += bool(fields)
        for field in fields:
            changed[field] = changed.get(field, 0) + 1
    print(f"llm record: {jobs} of {len(new)} items differ; fields: {changed}")
    if set(changed) - set(SESSION_FIELDS):
        raise SystemExit("other fields changed: find the cause, do not regenerate")
    golden_records.write(GOLDEN, {**old, "llm": llm})
    print(f"wrote {GOLDEN} ({GOLDEN.stat().st_size} bytes)")


if __name__ == "__main__":
    import sys

    if sys.argv[1:] != ["--write-llm"]:
        raise SystemExit("usage: python -m tests.test_overseer_decisions --write-llm")
    write_llm_record()
