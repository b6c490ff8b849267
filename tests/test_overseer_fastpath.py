"""Overseer per-candle fast path: identical decisions to the original implementation.

The overseer runs on every candle of a backtest, so its per-candle work was rewritten for
speed (see docs/overseer.md, "Performance"). The rewrite must not change a single decision.
This module replays 12 days of real BTC and ETH 5m candles (2024-07-28 .. 2024-08-09, which
includes the 5 August 2024 sell-off) through the overseer the way a Freqtrade backtest does
(each candle: the pair's frame sliced to its last <= 1000 rows, like
``DataProvider.get_analyzed_dataframe``; every 7th candle the frame also holds the candle
that has not closed yet, which must be ignored) and compares everything it decides with a
golden record (``GOLDEN``):

- ``rules`` mode, backtest: the advice of every candle (``risk_advice``, ``approve_entry``,
  ``exit_advice``);
- ``rules`` mode, dry-run: the decision journal (every proposal, outcome, expiry);
- ``replay`` mode over that journal, backtest: the advice of every candle;
- ``llm`` mode, dry-run: every model job the overseer submits (tier, reasons, the full
  features and the prompt; the submission is captured, no model is called).

Discrete values (pairs, tiers, times, triggers, decisions, the text of reasons and prompts)
must be equal; floats equal within a relative tolerance of 1e-9, numbers printed in text
within one unit of their last digit (:mod:`tests.golden`). Bit-identical floats are not
asked for: numpy's SIMD kernels differ from one CPU to another in the last bits.

The trades fed to the hooks are synthetic (a fixed schedule of longs and shorts sized by the
overseer's own advice and closed at real closes), so the portfolio triggers (drawdown,
losing streak, pattern against a position, exit requests) fire on real prices. The frames
carry real TA-Lib indicators and candlestick columns plus one derived pattern column and its
price level (which must be ignored); they are built here rather than by the ``patterns``
plugin so this test does not depend on another plugin's evolution.

Every run is repeated on frames carrying the overseer's precomputed ``overseer_vol_ratio_300``
column (its ``add_indicators`` output, as in a backtest): the hashes must not change.

How the golden record was obtained: first, before any fast-path change, with the overseer as
committed in 154686d, the sha256 digests of ``repr()`` of the four sequences were recorded
(``ORIGINAL_DIGESTS``: they are machine-dependent for the llm jobs, see above). At 0e2d36b,
on the machine that had recorded them (AVX-512), the fast path gave those very digests, and
``python -m tests.test_overseer_fastpath --write`` wrote the same sequences as plain data into
``GOLDEN`` (it refuses to write unless the digests match). Nothing in it is hand-written. In
that original code the bot's thread built each job's features and
prompt and handed them to ``_submit(due, features, portfolio, now)``; the capture then was a
replacement ``_submit`` recording ``(now, due, features, portfolio, digest of build_prompt(...,
active_summary(pair, now), ...))``. The fast path builds them on the worker instead, and the
capture below records the very same tuple from ``Overseer.job_context``.
"""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
import tempfile
import warnings
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import talib
from hypothesis import given, settings
from hypothesis import strategies as st

from plugins.llm_overseer.columns import vol_ratio_column, vol_ratio_series
from plugins.llm_overseer.context import (
    VOL_WINDOW,
    LayoutCache,
    build_features,
    closed_in,
    closed_span,
    core_arrays,
    core_features,
    core_from_arrays,
    epoch_ns,
    frame_layout,
    median_of,
    session_of,
    vol_stats,
    window_vol_stats,
)
from plugins.llm_overseer.overseer import Overseer
from plugins.llm_overseer.plugin import OverseerPlugin
from plugins.llm_overseer.prompts import system_prompt
from plugins.llm_overseer.settings import Settings
from tests import golden as golden_records
from tests.conftest import load_candles
from trading_agent import AnalyzedCandles, TradeSnapshot

PAIRS = {"BTC/USDC": "BTC_USDT", "ETH/USDC": "ETH_USDT"}
START = pd.Timestamp("2024-07-28 00:00", tz="UTC")
END = pd.Timestamp("2024-08-09 00:00", tz="UTC")
HISTORY = 1000  # rows per frame, as Freqtrade's backtesting DataProvider slices
STEP = timedelta(minutes=5)
CAPITAL = 120.0  # small capital against 100-quote stakes, so drawdown triggers fire
STAKE = 100.0

GOLDEN = Path(__file__).parent / "data" / "overseer_decisions.json.gz"
#: The original implementation's digests (154686d, recorded on an AVX-512 machine); only
#: ``--write`` uses them, to refuse a golden record of anything else.
ORIGINAL_DIGESTS = {
    "rules": "9e430ba71bac05af72ea188fe5b8a7dc37bb2511bed661a2d0ad401a7d11b159",
    "journal": "dcf0eb390a8bc9a7af4ee721a3d56a993e5637818fbb871fdbca133734d1fd4c",
    "replay": "9e430ba71bac05af72ea188fe5b8a7dc37bb2511bed661a2d0ad401a7d11b159",
    "llm": "4d56fe0b139b2dbcac2b39a71715fad6f95e420a3c7149fbf92b147c3289a4c3",
}


def analysed_frames() -> dict[str, pd.DataFrame]:
    """Real candles with indicator, candlestick, derived pattern and session columns."""
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
        for col, fn in (
            ("engulfing", talib.CDLENGULFING),
            ("hammer", talib.CDLHAMMER),
            ("shootingstar", talib.CDLSHOOTINGSTAR),
            ("doji", talib.CDLDOJI),
        ):
            df[f"cdl_{col}"] = np.sign(fn(o, h, lo, c)).astype(np.int32)
        # An engulfing candle confirmed by the next close in its direction (known at that
        # next candle's close), and its price level: a level column is not a pattern signal.
        prev = df["cdl_engulfing"].shift(1).fillna(0).astype(int)
        move = np.sign(df["close"].diff().fillna(0.0)).astype(int)
        df["pattern_engulfing_confirmed"] = np.where(prev * move > 0, prev, 0)
        df["pattern_engulfing_confirmed_neckline"] = np.where(
            df["pattern_engulfing_confirmed"] != 0, df["close"].shift(1), np.nan
        )
        df["session"] = [session_of(ts) for ts in df["date"]]
        out[pair] = df
    return out


def _settings(**kw: Any) -> Settings:
    return Settings(capital_quote=CAPITAL, **kw)


def _digest(items: list[Any]) -> str:
    """The original test's digest: sha256 over ``repr()`` of each item (``--write`` only)."""
    h = hashlib.sha256()
    for item in items:
        h.update(repr(item).encode())
        h.update(b"\n")
    return h.hexdigest()


@pytest.fixture(scope="module")
def golden() -> dict[str, Any]:
    return golden_records.read(GOLDEN)


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


def all_records() -> dict[str, list]:
    """The four sequences (rules, journal, replay, llm) of the current implementation."""
    frames = analysed_frames()
    with tempfile.TemporaryDirectory() as tmp:
        journal = Path(tmp) / "journal.sqlite"
        rules = run_rules(frames)
        advice, rows = run_journal(frames, journal)
        assert advice == rules
        replay = run_replay(frames, journal)
        llm = run_llm(frames, Path(tmp) / "llm.sqlite")
    return {"rules": rules, "journal": rows, "replay": replay, "llm": llm}


def _original_llm_items(llm: list[tuple]) -> list[tuple]:
    """The llm sequence as the original test hashed it (a job carried the prompt's digest)."""
    out = []
    for item in llm:
        if len(item) == 5:
            user = item[4]
            system = system_prompt(_settings().authority)
            version = json.loads(user)["v"]
            digest = hashlib.sha256(f"{version}\n{system}\n{user}".encode()).hexdigest()[:16]
            item = (*item[:4], digest)
        out.append(item)
    return out


def write_golden() -> None:
    """Write ``GOLDEN`` from the current implementation, if it repeats the original digests."""
    records = all_records()
    digests = {
        "rules": _digest(records["rules"]),
        "journal": _digest(records["journal"]),
        "replay": _digest(records["replay"]),
        "llm": _digest(_original_llm_items(records["llm"])),
    }
    if digests != ORIGINAL_DIGESTS:
        raise SystemExit(f"not the original implementation's sequences: {digests}")
    golden_records.write(GOLDEN, records)
    print(f"wrote {GOLDEN} ({GOLDEN.stat().st_size} bytes)")


def with_overseer_column(frames: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The frames plus the overseer's own ``add_indicators`` column, as in a backtest."""
    plugin = OverseerPlugin(_settings(mode="rules"))
    out = {}
    for pair, df in frames.items():
        extra = plugin.add_indicators(dataframe=df, pair=pair, timeframe="5m", runmode="backtest")
        out[pair] = pd.concat([df, extra], axis=1)
    return out


@pytest.fixture(scope="module")
def plain_frames() -> dict[str, pd.DataFrame]:
    return analysed_frames()


@pytest.fixture(scope="module", params=["window", "column"])
def frames(request, plain_frames) -> dict[str, pd.DataFrame]:
    """Frames without (volatility computed per candle) and with the precomputed column."""
    if request.param == "window":
        return plain_frames
    return with_overseer_column(plain_frames)


def test_rules_and_replay_decisions_match_the_original_implementation(
    frames, golden, tmp_path
) -> None:
    journal = tmp_path / "journal.sqlite"
    rules = run_rules(frames)
    reasons = " | ".join(r[2].reason for r in rules if len(r) == 4 and r[2] is not None)
    # the window exercises every rule on real prices (else the hash would prove little)
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
    golden_records.assert_matches(golden["replay"], run_replay(frames, journal), "replay advice")


def test_llm_mode_submits_the_same_jobs_as_the_original_implementation(
    frames, golden, tmp_path
) -> None:
    out = run_llm(frames, tmp_path / "llm.sqlite")
    jobs = [j for j in out if len(j) == 5]
    assert {j[1].tier for j in jobs} == {1, 2, 3}
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


# ---------------------------------------------------------------- the pieces, bit for bit


def _reference_vol_ratio(close: np.ndarray) -> float:
    """The original per-window arithmetic, written out (np.diff, concatenate, np.median)."""
    x = np.diff(np.log(close))
    zero = np.zeros(1)
    c1 = np.cumsum(np.concatenate((zero, x)))
    c2 = np.cumsum(np.concatenate((zero, x * x)))
    s1 = c1[VOL_WINDOW:] - c1[:-VOL_WINDOW]
    s2 = c2[VOL_WINDOW:] - c2[:-VOL_WINDOW]
    vols = np.sqrt(np.maximum(s2 / VOL_WINDOW - (s1 / VOL_WINDOW) ** 2, 0.0))
    recent, baseline = float(vols[-1]), float(np.median(vols))
    return float(recent / baseline if baseline > 0 else 1.0)


def _same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=1, max_size=60))
def test_median_of_is_numpy_median_bit_for_bit(values) -> None:
    arr = np.array(values, dtype=float)
    assert _same(median_of(arr.copy()), float(np.median(arr)))


def test_median_of_rejects_an_empty_array() -> None:
    with pytest.raises(ValueError, match="empty"):
        median_of(np.array([]))


def test_vol_stats_and_the_column_repeat_the_window_arithmetic(plain_frames) -> None:
    for df in plain_frames.values():
        close = df["close"].to_numpy(dtype=float)
        for window in (300, 61):
            column = vol_ratio_series(close, window)
            assert np.isnan(column[: window - 1]).all()
            for t in range(window - 1, len(close), 7):
                ref = _reference_vol_ratio(close[t - window + 1 : t + 1])
                assert vol_stats(close[t - window + 1 : t + 1])[2] == ref
                assert column[t] == ref, (window, t)


def test_the_column_is_causal_and_marks_bad_windows(plain_frames) -> None:
    close = plain_frames["BTC/USDC"]["close"].to_numpy(dtype=float)
    full = vol_ratio_series(close, 300)
    for k in (299, 300, 301, 1234, len(close) - 1):  # prefix invariance: no lookahead
        assert np.array_equal(vol_ratio_series(close[:k], 300), full[:k], equal_nan=True)
    bad = close.copy()
    bad[2000] = np.nan  # synthetic gap
    bad[2500] = 0.0  # synthetic non-positive price
    marked = vol_ratio_series(bad, 300)
    hit = np.isnan(marked)
    # windows of 300 rows ending at 2000..2299 hold the gap, 2500..2799 the zero price
    assert hit[2000:2300].all() and hit[2500:2800].all()
    assert not hit[299:2000].any() and not hit[2300:2500].any() and not hit[2800:].any()
    assert np.array_equal(marked[2800:], full[2800:])
    with pytest.raises(ValueError, match="context_candles"):
        vol_ratio_column(10)


def _dates_frame(unit: str, tz: str | None, rows: int = 40) -> pd.DataFrame:
    """Synthetic 5m candles (dates only matter here)."""
    dates = pd.date_range("2024-03-01", periods=rows, freq="5min", tz=tz).as_unit(unit)
    return pd.DataFrame({"date": dates, "close": np.linspace(100.0, 101.0, rows)})


@pytest.mark.parametrize(("unit", "tz"), [("ns", "UTC"), ("us", "UTC"), ("ms", None), ("s", None)])
def test_closed_rows_agree_with_the_dataframe_search(unit, tz) -> None:
    df = _dates_frame(unit, tz)
    tf = timedelta(minutes=5)
    first = pd.Timestamp("2024-03-01", tz="UTC").to_pydatetime()
    layout = frame_layout(df.columns)
    arrays = core_arrays(df, layout.date, layout.close)
    assert arrays is not None
    for minutes in (-5, 0, 4, 5, 7, 60, 195, 200, 205, 400):
        now = first + timedelta(minutes=minutes)
        n, _ = closed_span(df, now, tf)
        # rows opening at or before now - 5m have closed: the candle opening at `now` has not
        assert n == max(0, min(len(df), minutes // 5)), (unit, minutes)
        assert closed_in(arrays, len(df), epoch_ns(now), tf) == n
        # rows at or past `end` are never counted, even when closed
        assert closed_in(arrays, 10, epoch_ns(now), tf) == min(n, 10)


def test_core_features_equal_the_full_features(plain_frames) -> None:
    settings = _settings(mode="rules")
    layouts = LayoutCache(
        settings.indicator_columns, settings.pattern_prefixes, settings.pattern_exclude_suffixes
    )
    column_frames = with_overseer_column(plain_frames)
    tf = timedelta(minutes=5)
    seen_patterns = 0
    for pair, df in plain_frames.items():
        wide = column_frames[pair]
        layout = frame_layout(wide.columns)
        arrays = core_arrays(
            wide, layout.date, layout.close, vol_ratio_column(settings.context_candles)
        )
        assert arrays is not None and arrays.vol_ratio is not None
        for end in (*range(1, 60), *range(HISTORY, len(df), 11)):
            part = df.iloc[max(0, end - HISTORY) : end]
            now = (df["date"].iloc[end - 1] + STEP).to_pydatetime()
            full = build_features(
                pair,
                part,
                now,
                timeframe=tf,
                indicator_columns=settings.indicator_columns,
                pattern_prefixes=settings.pattern_prefixes,
                pattern_exclude_suffixes=settings.pattern_exclude_suffixes,
            )
            n, _ = closed_span(part, now, tf)
            core = core_features(pair, part, n, layouts)
            # the whole frame's arrays, bounded at the slice's end (as a backtest hands them)
            n_wide = closed_in(arrays, end, epoch_ns(now), tf)
            fast = core_from_arrays(pair, arrays, n_wide, layouts, timeframe=tf)
            if full is None:
                assert core is None and fast is None
                continue
            assert fast is not None or n < settings.context_candles
            for c in (core, fast) if fast is not None else (core,):
                assert (c.close, c.flash_return, c.vol_ratio, c.vol_regime) == (
                    full.close,
                    full.flash_return,
                    full.vol_ratio,
                    full.vol_regime,
                )
                assert c.patterns == full.patterns
            seen_patterns += bool(full.patterns)
    assert seen_patterns > 10


def test_the_column_is_not_used_across_a_gap(plain_frames) -> None:
    """A frame whose window is not consecutive candles falls back to the window itself."""
    settings = _settings(mode="rules")
    wide = with_overseer_column(plain_frames)["BTC/USDC"]
    part = wide.iloc[2000:3000].drop(index=2900)  # synthetic: one candle missing
    now = (part["date"].iloc[-1] + STEP).to_pydatetime()
    layout = frame_layout(part.columns)
    arrays = core_arrays(
        part, layout.date, layout.close, vol_ratio_column(settings.context_candles)
    )
    layouts = LayoutCache()
    tf = timedelta(minutes=5)
    n = closed_in(arrays, len(part), epoch_ns(now), tf)
    assert core_from_arrays("BTC/USDC", arrays, n, layouts, timeframe=tf) is None
    # the overseer then computes the window of the rows it was given, as it always did
    direct = core_features("BTC/USDC", part, n, layouts)
    plain = build_features(
        "BTC/USDC", part.drop(columns=[vol_ratio_column(300)]), now, timeframe=tf
    )
    assert direct is not None and plain is not None and direct.vol_ratio == plain.vol_ratio
    assert direct.vol_ratio != wide["overseer_vol_ratio_300"].iloc[2999]


def test_add_indicators_adds_one_causal_column_in_backtests_only(plain_frames) -> None:
    df = plain_frames["ETH/USDC"]
    plugin = OverseerPlugin(_settings(mode="rules", context_candles=120))
    for runmode in ("dry_run", "live"):
        assert (
            plugin.add_indicators(dataframe=df, pair="ETH/USDC", timeframe="5m", runmode=runmode)
            is None
        )
    out = plugin.add_indicators(dataframe=df, pair="ETH/USDC", timeframe="5m", runmode="backtest")
    assert list(out.columns) == ["overseer_vol_ratio_120"] and out.index.equals(df.index)
    expected = vol_ratio_series(df["close"].to_numpy(dtype=float), 120)
    assert np.array_equal(out["overseer_vol_ratio_120"].to_numpy(), expected, equal_nan=True)
    assert (
        OverseerPlugin(Settings(mode="off")).add_indicators(
            dataframe=df, pair="ETH/USDC", timeframe="5m", runmode="backtest"
        )
        is None
    )


if __name__ == "__main__":
    import sys

    if sys.argv[1:] != ["--write"]:
        raise SystemExit("usage: python -m tests.test_overseer_fastpath --write")
    write_golden()


@pytest.mark.parametrize("bad", [np.nan, 0.0, -1.0, np.inf, -np.inf])
@pytest.mark.parametrize("where", [0, 1, 150, 280, 299])
def test_a_window_with_a_bad_close(bad: float, where: int) -> None:
    """Synthetic closes with one bad value anywhere: a missing close is filled from its
    neighbours (same as vol_stats of the filled window); any other bad value makes the
    window unusable. No numpy warning escapes either way."""
    closes = 100.0 * np.exp(np.cumsum(np.sin(np.arange(300) * 0.7) * 1e-3))
    window = closes.copy()
    window[where] = bad
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got = window_vol_stats(window)
    assert window_vol_stats(closes)[1] == vol_stats(closes)
    if not np.isnan(bad):
        assert got is None
        return
    filled = pd.Series(window).ffill().bfill().to_numpy()
    assert got is not None
    np.testing.assert_array_equal(got[0], filled)
    assert got[1] == vol_stats(filled)


def test_a_window_without_a_usable_close_gives_none() -> None:
    assert window_vol_stats(np.full(300, np.nan)) is None
    assert window_vol_stats(np.full(300, -5.0)) is None


def test_price_positions_follow_moved_columns() -> None:
    """Synthetic column sets: date and close found wherever they are, at any width."""
    cache = LayoutCache()
    assert cache.price_positions(pd.Index(["date", "open", "close", "rsi"])) == (0, 2)
    assert cache.price_positions(pd.Index(["date", "open", "close", "adx"])) == (0, 2)
    # same width, the two swapped with other columns: the quick check fails, the full one runs
    assert cache.price_positions(pd.Index(["open", "date", "rsi", "close"])) == (1, 3)
    assert cache.price_positions(pd.Index(["open", "date", "rsi", "close", "x"])) == (1, 3)
    assert cache.price_positions(pd.Index(["open", "high", "x", "y", "z"])) == (None, None)
    assert cache.price_positions(pd.Index(["close", "high", "x", "y", "date"])) == (4, 0)
