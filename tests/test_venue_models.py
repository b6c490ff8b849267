"""The venue's pure parts: book MODEL, trade MODEL, replay clock, data helpers.

Candles here are SYNTHETIC, built by each test to isolate one behaviour of a model.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trading_agent.venue import book_model, trade_model
from trading_agent.venue.book_model import BookModelParams, depth_imbalance, model_book, recent_flow
from trading_agent.venue.clock import (
    date_ms,
    default_replay_start,
    make_clock,
    parse_replay_start,
    replay_offset_ms,
)
from trading_agent.venue.data import decimals_of, load_market_data
from trading_agent.venue.intervals import DAY_MS

STEP = 300_000  # 5m


def synthetic_candles(n: int, close_location: float, range_pct: float, seed_price: float = 100.0):
    """SYNTHETIC candles: constant range ``range_pct`` around a flat price, closing at
    ``close_location`` in [-1, 1] of the range (1: at the high), volume 10 each."""
    mid = np.full(n, seed_price)
    half = mid * range_pct / 2
    high, low = mid + half, mid - half
    close = mid + close_location * half
    volume = np.full(n, 10.0)
    return high, low, close, volume


def book_for(close_location: float, range_pct: float = 0.002, levels: int = 50):
    h, lo, c, v = synthetic_candles(20, close_location, range_pct)
    flow = recent_flow(h, lo, c, v, STEP)
    return model_book(100.0, flow, tick=0.01, lot=0.001, levels=levels), flow


def test_book_is_deterministic() -> None:
    a, _ = book_for(0.3)
    b, _ = book_for(0.3)
    for x, y in zip(
        (a.bid_price, a.bid_qty, a.ask_price, a.ask_qty),
        (b.bid_price, b.bid_qty, b.ask_price, b.ask_qty),
        strict=True,
    ):
        np.testing.assert_array_equal(x, y)


def test_book_spread_positive_around_mid_and_on_ticks() -> None:
    book, _ = book_for(0.0)
    assert book.best_bid < 100.0 < book.best_ask
    assert np.all(np.diff(book.bid_price) < 0) and np.all(np.diff(book.ask_price) > 0)
    ticks = np.concatenate([book.bid_price, book.ask_price]) / 0.01
    np.testing.assert_allclose(ticks, np.round(ticks), atol=1e-6)
    lots = np.concatenate([book.bid_qty, book.ask_qty]) / 0.001
    np.testing.assert_allclose(lots, np.round(lots), atol=1e-6)
    assert np.all(book.bid_qty >= 0.001) and np.all(book.ask_qty >= 0.001)


def test_depth_decays_away_from_the_mid() -> None:
    book, _ = book_for(0.0, levels=200)
    for qty in (book.bid_qty, book.ask_qty):
        assert np.all(np.diff(qty) <= 0)
        assert qty[0] > 10 * qty[150]


def test_spread_widens_with_volatility() -> None:
    calm, _ = book_for(0.0, range_pct=0.0005)
    wild, _ = book_for(0.0, range_pct=0.02)
    assert wild.best_ask - wild.best_bid > calm.best_ask - calm.best_bid


@pytest.mark.parametrize(("location", "sign"), [(0.8, 1), (-0.8, -1), (0.0, 0)])
def test_imbalance_follows_recent_flow(location: float, sign: int) -> None:
    book, flow = book_for(location)
    assert np.sign(round(flow.flow, 9)) == sign
    imb = depth_imbalance(book)
    if sign == 0:
        assert abs(imb) < 0.01
    else:
        assert np.sign(imb) == sign and abs(imb) > 0.3


@settings(max_examples=60, deadline=None)
@given(
    mid=st.floats(0.01, 1e6),
    location=st.floats(-1, 1),
    range_pct=st.floats(0, 0.1),
    levels=st.integers(1, 300),
)
def test_book_invariants_hold_for_any_input(
    mid: float, location: float, range_pct: float, levels: int
) -> None:
    h, lo, c, v = synthetic_candles(20, location, range_pct, seed_price=mid)
    flow = recent_flow(h, lo, c, v, STEP)
    tick = 10.0 ** -max(0, 6 - len(str(int(mid))))
    book = model_book(mid, flow, tick=tick, lot=1e-5, levels=levels)
    assert book.bid_price.size <= levels and book.ask_price.size == levels
    assert book.best_ask > book.best_bid
    assert book.best_ask >= mid >= book.best_bid or book.bid_price.size == 0
    assert np.all(book.bid_price > 0)
    assert -1 <= depth_imbalance(book) <= 1


def test_book_model_rejects_bad_input() -> None:
    flow = recent_flow(*synthetic_candles(5, 0, 0.01), STEP)
    with pytest.raises(ValueError, match="mid price"):
        model_book(0.0, flow, 0.01, 0.001, 10)
    with pytest.raises(ValueError, match="tick"):
        model_book(100.0, flow, 0.0, 0.001, 10)
    with pytest.raises(ValueError, match="max_imbalance"):
        BookModelParams(max_imbalance=1.5)


def test_fault_books() -> None:
    book, _ = book_for(0.0)
    crossed = book_model.crossed_book(book, 0.01)
    assert crossed.best_bid == pytest.approx(book.best_ask + 0.01)
    assert book_model.empty_book().best_bid is None


def test_trade_tape_model() -> None:
    # SYNTHETIC: a rising candle then a falling one, and the next candle forming.
    t = np.array([0, STEP], dtype=np.int64)
    o, h, lo, c = (
        np.array([10.0, 12.0]),
        np.array([13.0, 12.5]),
        np.array([9.0, 10.5]),
        np.array([12.0, 11.0]),
    )
    v = np.array([4.0, 8.0])
    tape = trade_model.model_tape(
        t, o, h, lo, c, v, STEP, lot=0.1, prev_close=10.0, forming=(2 * STEP, 11.0, 2.0)
    )
    assert tape.price.tolist() == [10.0, 9.0, 13.0, 12.0, 12.0, 12.5, 10.5, 11.0, 11.0]
    assert tape.time.tolist() == [
        0,
        STEP // 3,
        2 * STEP // 3,
        STEP - 1,
        STEP,
        STEP + STEP // 3,
        STEP + 2 * STEP // 3,
        2 * STEP - 1,
        2 * STEP,
    ]
    assert tape.qty.tolist()[:8] == [1.0] * 4 + [2.0] * 4
    # Up-ticks are buys (the buyer took the ask: not the maker), down-ticks sells; at an
    # unchanged price (12 -> 12, 11 -> 11) the side follows the falling second candle.
    assert tape.buyer_maker.tolist() == [False, True, False, True, True, False, True, False, True]
    assert np.all(np.diff(tape.time) > 0)


def test_trade_tape_drops_empty_prints() -> None:
    tape = trade_model.model_tape(
        np.array([0]), [1.0], [1.0], [1.0], [1.0], [0.0], STEP, lot=0.01, prev_close=None
    )
    assert len(tape) == 0


def test_replay_offset_is_whole_days() -> None:
    assert replay_offset_ms(dt.date(2024, 3, 1), dt.date(2026, 11, 24)) % DAY_MS == 0
    first = date_ms(dt.date(2024, 1, 1))
    assert default_replay_start(first) == dt.date(2024, 3, 1)
    assert default_replay_start(first + 1) == dt.date(2024, 3, 2)  # first full day + 60
    now = date_ms(dt.date(2026, 11, 24)) + 37_000
    clock = make_clock(
        replay=True,
        dataset_first_ms=first,
        dataset_end_ms=date_ms(dt.date(2024, 9, 24)),
        now_ms=lambda: now,
    )
    assert clock.dataset_time() == date_ms(dt.date(2024, 3, 1)) + 37_000
    assert clock.to_served(clock.to_dataset(now)) == now


def test_clock_rejects_bad_replay_starts() -> None:
    first, end = date_ms(dt.date(2024, 1, 1)), date_ms(dt.date(2024, 9, 24))
    with pytest.raises(ValueError, match="2025-01-01"):
        make_clock(replay=True, dataset_first_ms=first, dataset_end_ms=end,
                   replay_start=dt.date(2025, 1, 1))  # fmt: skip
    with pytest.raises(ValueError, match="only applies"):
        make_clock(replay=False, dataset_first_ms=first, dataset_end_ms=end,
                   replay_start=dt.date(2024, 2, 1))  # fmt: skip
    with pytest.raises(ValueError, match="'03/01/2024'"):
        parse_replay_start("03/01/2024")


def test_decimals_of() -> None:
    assert decimals_of(np.array([63053.23, 63074.0])) == 2
    assert decimals_of(np.array([1.0, 2.0])) == 0
    assert decimals_of(np.array([0.1 + 0.2])) == 1  # float noise ignored
    assert decimals_of(np.array([1 / 3])) == 8


def test_load_market_data_finds_pairs_and_rejects_bad_folders(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not a folder"):
        load_market_data(tmp_path / "missing")
    with pytest.raises(ValueError, match="holds no"):
        load_market_data(tmp_path)
    # SYNTHETIC file in Freqtrade's format, plus files the venue must skip.
    dates = pd.date_range("2024-01-01", periods=4, freq="4h", tz="UTC")
    df = pd.DataFrame(
        {"date": dates, "open": 1.5, "high": 2.25, "low": 1.0, "close": 2.0, "volume": 3.125}
    )
    df.to_feather(tmp_path / "ABC_USDC-4h.feather")
    df.to_feather(tmp_path / "ABC_USDC-2h.feather")  # timeframe not served
    df.to_feather(tmp_path / "ABC_USDC_USDC-4h-futures.feather")  # not a spot file
    data = load_market_data(tmp_path)
    assert list(data.symbols) == ["ABCUSDC"]
    sym = data.symbols["ABCUSDC"]
    assert (sym.base, sym.quote, sym.price_decimals, sym.amount_decimals) == ("ABC", "USDC", 2, 3)
    assert list(sym.candles) == ["4h"]
    assert sym.end_ms == int(dates[-1].timestamp() * 1000) + 4 * 3_600_000
