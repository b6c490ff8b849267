"""Order-book analytics and the validator on hand-built books with hand-computed answers.

Every book in this file is SYNTHETIC: built by the test, with round numbers so that each
expected value can be worked out by hand (the working is in the comments). Real recorded
books are tested in ``test_orderbook_recorded.py``.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from plugins.orderbook import (
    analyse_book,
    book_age_seconds,
    depth_within_bps,
    fill_by_base,
    fill_by_quote,
    imbalance,
    imbalance_from_volumes,
    imbalance_within_bps,
    mid_price,
    spread_bps,
    spread_bps_from_prices,
    validate_book,
)

REL = 1e-12


def book_a() -> dict:
    """SYNTHETIC book: mid 100, spread 2 (200 bps), six levels a side."""
    return {
        "bids": [[99.0, 1.0], [98.0, 2.0], [97.0, 3.0], [96.0, 4.0], [95.0, 5.0], [94.0, 6.0]],
        "asks": [
            [101.0, 2.0],
            [102.0, 2.0],
            [103.0, 4.0],
            [104.0, 1.0],
            [105.0, 1.0],
            [106.0, 10.0],
        ],
        "timestamp": 1_700_000_000_000,
        "datetime": "2023-11-14T22:13:20.000Z",
        "nonce": None,
    }


def book_b() -> dict:
    """SYNTHETIC book: mid 1024, levels placed exactly on the 625 bps (1/16) bounds 960/1088."""
    return {
        "bids": [[1023.0, 1.0], [960.0, 2.0], [959.5, 4.0]],
        "asks": [[1025.0, 1.0], [1088.0, 3.0], [1088.5, 1.0]],
        "timestamp": None,
    }


# --------------------------------------------------------------------------- basics


def test_mid_and_spread() -> None:
    assert mid_price(book_a()) == 100.0
    # (101 - 99) / 100 * 10_000
    assert spread_bps(book_a()) == pytest.approx(200.0, rel=REL)
    assert spread_bps_from_prices(99.0, 101.0) == pytest.approx(200.0, rel=REL)
    # (1025 - 1023) / 1024 * 10_000 = 19.53125
    assert spread_bps(book_b()) == pytest.approx(19.53125, rel=REL)


def test_imbalance_top_levels() -> None:
    # top 5: bids 1+2+3+4+5 = 15, asks 2+2+4+1+1 = 10 -> (15-10)/25
    assert imbalance(book_a()) == pytest.approx(0.2, rel=REL)
    # top 2: bids 3, asks 4 -> -1/7
    assert imbalance(book_a(), levels=2) == pytest.approx(-1 / 7, rel=REL)
    # more levels than the book has: all of it, bids 21, asks 20 -> 1/41
    assert imbalance(book_a(), levels=100) == pytest.approx(1 / 41, rel=REL)
    assert imbalance_from_volumes(3.0, 1.0) == 0.5
    assert imbalance_from_volumes(0.0, 2.0) == -1.0
    assert math.isnan(imbalance_from_volumes(0.0, 0.0))


@pytest.mark.parametrize("levels", [0, -1, 2.5, True, "5"])
def test_imbalance_rejects_bad_levels(levels: object) -> None:
    with pytest.raises(ValueError, match="levels must be an integer >= 1"):
        imbalance(book_a(), levels=levels)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("bid", "ask"), [(-1.0, 1.0), (1.0, math.nan), (math.inf, 1.0), (1.0, -0.5)]
)
def test_imbalance_from_volumes_rejects_bad_volumes(bid: float, ask: float) -> None:
    with pytest.raises(ValueError, match="volumes must be finite"):
        imbalance_from_volumes(bid, ask)


def test_depth_within_bps() -> None:
    # 250 bps of mid 100: bids >= 97.5 -> 99, 98; asks <= 102.5 -> 101, 102
    depth = depth_within_bps(book_a(), 250)
    assert (depth.bid_base, depth.bid_quote) == (3.0, 99.0 + 196.0)
    assert (depth.ask_base, depth.ask_quote) == (4.0, 202.0 + 204.0)
    assert depth.base("buy") == 4.0 and depth.quote("sell") == 295.0
    assert imbalance_within_bps(book_a(), 250) == pytest.approx(-1 / 7, rel=REL)
    # 10_000 bps: every level a side
    whole = depth_within_bps(book_a(), 10_000)
    assert whole.bid_base == 21.0 and whole.ask_base == 20.0
    assert whole.ask_quote == 202 + 204 + 412 + 104 + 105 + 1060


def test_depth_bounds_are_inclusive() -> None:
    # 625 bps = 1/16 exactly: bounds 1024 * 15/16 = 960 and 1024 * 17/16 = 1088
    depth = depth_within_bps(book_b(), 625)
    assert (depth.bid_base, depth.bid_quote) == (3.0, 1023.0 + 1920.0)
    assert (depth.ask_base, depth.ask_quote) == (4.0, 1025.0 + 3264.0)


def test_depth_inside_half_spread_is_empty_and_imbalance_nan() -> None:
    # half the spread of book A is 100 bps: nothing lies within 50 bps of the mid
    depth = depth_within_bps(book_a(), 50)
    assert (depth.bid_base, depth.ask_base, depth.bid_quote, depth.ask_quote) == (0, 0, 0, 0)
    assert math.isnan(imbalance_within_bps(book_a(), 50))


@pytest.mark.parametrize("bps", [-1.0, math.nan, math.inf])
def test_depth_rejects_bad_bps(bps: float) -> None:
    with pytest.raises(ValueError, match="bps must be a finite number >= 0"):
        depth_within_bps(book_a(), bps)


# --------------------------------------------------------------------------- fills


def test_buy_by_quote_within_first_level() -> None:
    fill = fill_by_quote(book_a(), "buy", 202.0)  # 101 * 2 exactly
    assert (fill.base, fill.quote, fill.average_price) == (2.0, 202.0, 101.0)
    assert (fill.levels_used, fill.worst_price, fill.complete) == (1, 101.0, True)
    assert fill.slippage_bps == 0.0
    # (101 - 100) / 100 * 10_000: half the spread
    assert fill.slippage_vs_mid_bps == pytest.approx(100.0, rel=REL)


def test_buy_by_quote_two_levels() -> None:
    # 202 at 101 (2 base) + 204 at 102 (2 base): average 406 / 4 = 101.5
    fill = fill_by_quote(book_a(), "buy", 406.0)
    assert fill.base == 4.0 and fill.quote == 406.0 and fill.complete
    assert fill.average_price == pytest.approx(101.5, rel=REL)
    assert (fill.levels_used, fill.worst_price) == (2, 102.0)
    assert fill.slippage_bps == pytest.approx(0.5 / 101 * 1e4, rel=REL)
    assert fill.slippage_vs_mid_bps == pytest.approx(150.0, rel=REL)


def test_buy_by_base_three_levels() -> None:
    # 2 @ 101 + 2 @ 102 + 1 @ 103 = 509 for 5 base: average 101.8
    fill = fill_by_base(book_a(), "buy", 5.0)
    assert fill.base == 5.0 and fill.quote == 509.0 and fill.complete
    assert fill.average_price == pytest.approx(101.8, rel=REL)
    assert (fill.levels_used, fill.worst_price) == (3, 103.0)
    assert fill.slippage_bps == pytest.approx(0.8 / 101 * 1e4, rel=REL)


def test_sell_by_base_and_quote() -> None:
    # 1 @ 99 + 2 @ 98 + 1 @ 97 = 392 for 4 base: average 98
    fill = fill_by_base(book_a(), "sell", 4.0)
    assert fill.quote == 392.0 and fill.average_price == pytest.approx(98.0, rel=REL)
    assert (fill.levels_used, fill.worst_price, fill.best_price) == (3, 97.0, 99.0)
    assert fill.slippage_bps == pytest.approx(1 / 99 * 1e4, rel=REL)  # (99 - 98) / 99
    assert fill.slippage_vs_mid_bps == pytest.approx(200.0, rel=REL)  # (100 - 98) / 100
    one = fill_by_quote(book_a(), "sell", 99.0)
    assert (one.base, one.average_price, one.levels_used) == (1.0, 99.0, 1)


def test_fill_larger_than_book_is_incomplete() -> None:
    # all asks: 20 base for 202+204+412+104+105+1060 = 2087 quote, average 104.35
    fill = fill_by_base(book_a(), "buy", 100.0)
    assert not fill.complete
    assert (fill.base, fill.quote, fill.levels_used, fill.worst_price) == (20.0, 2087.0, 6, 106.0)
    assert fill.average_price == pytest.approx(104.35, rel=REL)
    # all bids: 99+196+291+384+475+564 = 2009 quote for 21 base
    sell = fill_by_quote(book_a(), "sell", 10_000.0)
    assert not sell.complete and sell.base == 21.0 and sell.quote == 2009.0


@pytest.mark.parametrize("amount", [0.0, -1.0, math.nan, math.inf])
def test_fill_rejects_bad_amounts(amount: float) -> None:
    with pytest.raises(ValueError, match="base_amount must be a finite number > 0"):
        fill_by_base(book_a(), "buy", amount)
    with pytest.raises(ValueError, match="quote_amount must be a finite number > 0"):
        fill_by_quote(book_a(), "sell", amount)


def test_fill_rejects_bad_side() -> None:
    with pytest.raises(ValueError, match="side must be 'buy' or 'sell', got 'long'"):
        fill_by_base(book_a(), "long", 1.0)  # type: ignore[arg-type]


def test_fill_on_empty_side_names_it() -> None:
    book = book_a() | {"asks": []}
    with pytest.raises(ValueError, match="no asks"):
        fill_by_base(book, "buy", 1.0)
    with pytest.raises(ValueError, match="no bids"):
        imbalance({"asks": [[1.0, 1.0]]})


# --------------------------------------------------------------------------- staleness


def test_book_age() -> None:
    now = datetime.fromtimestamp(1_700_000_002.5, tz=UTC)
    assert book_age_seconds(book_a(), now) == pytest.approx(2.5, rel=REL)
    assert book_age_seconds(book_a(), 1_699_999_999.0) == pytest.approx(-1.0, rel=REL)
    assert book_age_seconds(book_b(), now) is None  # no timestamp: age unknown


def test_book_age_rejects_naive_now_and_bad_timestamp() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        book_age_seconds(book_a(), datetime(2023, 11, 14, 22, 13, 22))
    with pytest.raises(ValueError, match="epoch milliseconds"):
        book_age_seconds(book_a() | {"timestamp": "2023-11-14"}, 1.0)


# --------------------------------------------------------------------------- all at once


def test_analyse_book_matches_the_single_functions() -> None:
    book = book_a()
    report = analyse_book(
        book, side="sell", base_amount=4.0, levels=2, within_bps=250, now=1_700_000_001.0
    )
    assert report.mid_price == 100.0
    assert report.spread_bps == pytest.approx(200.0, rel=REL)
    assert report.imbalance == pytest.approx(-1 / 7, rel=REL)
    assert report.imbalance_within == pytest.approx(-1 / 7, rel=REL)
    assert report.depth == depth_within_bps(book, 250)
    assert report.fill == fill_by_base(book, "sell", 4.0)
    assert report.age_seconds == pytest.approx(1.0, rel=REL)
    bare = analyse_book(book)
    assert bare.fill is None and bare.age_seconds is None and bare.levels == 5


def test_analyse_book_validates_first() -> None:
    crossed = book_a() | {"bids": [[102.0, 1.0]]}
    with pytest.raises(ValueError, match="crossed"):
        analyse_book(crossed, quote_amount=10.0)
    with pytest.raises(ValueError, match="not both"):
        analyse_book(book_a(), base_amount=1.0, quote_amount=1.0)


# --------------------------------------------------------------------------- validator


def test_validator_accepts_sound_books() -> None:
    validate_book(book_a())
    validate_book(book_b())
    # ccxt may give a third element per level (e.g. an order count): allowed
    validate_book({"bids": [[1.0, 2.0, 3]], "asks": [[1.5, 1.0, 1]]})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"bids": []}, "no bids"),
        ({"asks": []}, "no asks"),
        ({"bids": None}, "'bids' must be a list"),
        ({"bids": [[101.5, 1.0]]}, r"crossed: best bid 101.5 > best ask 101.0"),
        ({"bids": [[101.0, 1.0]]}, r"locked: best bid 101.0 == best ask 101.0"),
        ({"bids": [[99.0, 1.0], [0.0, 1.0]]}, r"bids\[1\] price 0.0 is not a finite number > 0"),
        ({"asks": [[-101.0, 1.0]]}, r"asks\[0\] price -101.0 is not a finite number > 0"),
        ({"asks": [[math.nan, 1.0]]}, r"asks\[0\] price nan is not"),
        ({"asks": [[101.0, 1.0], [math.inf, 1.0]]}, r"asks\[1\] price inf is not"),
        ({"bids": [[99.0, 1.0], [98.0, 0.0]]}, r"bids\[1\] amount 0.0 is not a finite number"),
        ({"bids": [[99.0, -2.0]]}, r"bids\[0\] amount -2.0 is not"),
        ({"asks": [[101.0, math.nan], [102.0, 1.0]]}, r"asks\[0\] amount nan is not"),
        ({"asks": [[101.0, 1.0], [102.0, math.inf]]}, r"asks\[1\] amount inf is not"),
        ({"bids": [[98.0, 1.0], [99.0, 1.0]]}, r"bids are not sorted.*bids\[1\] price 99.0"),
        ({"bids": [[99.0, 1.0], [99.0, 2.0]]}, r"bids are not sorted.*strictly descending"),
        ({"asks": [[101.0, 1.0], [103.0, 1.0], [102.0, 1.0]]}, r"asks are not sorted.*asks\[2\]"),
        ({"asks": [[101.0]]}, r"asks\[0\] is not a \[price, amount\] pair"),
        ({"asks": ["101.0,1.0"]}, r"asks\[0\] is not a \[price, amount\] pair"),
        ({"asks": [["101.0", "1.0"]]}, r"asks\[0\] price '101.0' is not a finite number"),
    ],
)
def test_validator_names_each_problem(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_book(book_a() | change)


def test_validator_rejects_missing_keys_and_non_mappings() -> None:
    with pytest.raises(ValueError, match="no 'asks' key"):
        validate_book({"bids": [[1.0, 1.0]]})
    with pytest.raises(ValueError, match="must be a mapping"):
        validate_book([[1.0, 1.0]])  # type: ignore[arg-type]


# --------------------------------------------------------------------------- properties


@st.composite
def sound_books(draw: st.DrawFn) -> dict:
    """SYNTHETIC random sound books: 1-40 levels a side around a random mid."""
    ticks = st.integers(min_value=1, max_value=500)
    amounts = st.floats(min_value=1e-4, max_value=50.0, allow_nan=False, allow_infinity=False)
    bid_ticks = sorted(draw(st.sets(ticks, min_size=1, max_size=40)))
    ask_ticks = sorted(draw(st.sets(ticks, min_size=1, max_size=40)))
    tick = draw(st.sampled_from([0.01, 0.5, 1.0]))
    centre = draw(st.floats(min_value=1_000.0, max_value=100_000.0))  # > 500 ticks of 1.0
    return {
        "bids": [[centre - t * tick, draw(amounts)] for t in bid_ticks],
        "asks": [[centre + t * tick, draw(amounts)] for t in ask_ticks],
        "timestamp": None,
    }


@settings(max_examples=150, deadline=None)
@given(book=sound_books(), stakes=st.lists(st.floats(1.0, 1e6), min_size=2, max_size=6))
def test_properties_on_random_sound_books(book: dict, stakes: list[float]) -> None:
    validate_book(book)
    assert spread_bps(book) > 0
    for levels in (1, 5, 100):
        assert -1.0 <= imbalance(book, levels) <= 1.0
    previous = {"buy": -math.inf, "sell": -math.inf}
    for stake in sorted(stakes):
        for side in ("buy", "sell"):
            fill = fill_by_quote(book, side, stake)
            lo, hi = sorted((fill.best_price, fill.worst_price))
            assert lo * (1 - 1e-12) <= fill.average_price <= hi * (1 + 1e-12)
            assert fill.slippage_bps >= -1e-9
            assert fill.slippage_vs_mid_bps > 0  # at least half the spread
            # a bigger stake never fills at a better average price
            assert fill.slippage_bps >= previous[side] - 1e-9
            previous[side] = fill.slippage_bps
            side_quote = sum(p * q for p, q in book["asks" if side == "buy" else "bids"])
            if stake < side_quote * (1 - 1e-9):
                assert fill.complete and fill.quote == pytest.approx(stake, rel=1e-12)
            elif stake > side_quote * (1 + 1e-9):
                assert not fill.complete and fill.quote == pytest.approx(side_quote, rel=1e-9)
            # walking by the base amount just bought gives back the same quote
            again = fill_by_base(book, side, fill.base)
            assert again.quote == pytest.approx(fill.quote, rel=1e-9)


@settings(max_examples=100, deadline=None)
@given(book=sound_books(), data=st.data())
def test_validator_rejects_any_out_of_order_pair(book: dict, data: st.DataObject) -> None:
    side = data.draw(st.sampled_from(["bids", "asks"]))
    levels = book[side]
    assume(len(levels) >= 2)
    i = data.draw(st.integers(0, len(levels) - 2))
    levels[i], levels[i + 1] = levels[i + 1], levels[i]
    with pytest.raises(ValueError, match=f"{side} are not sorted"):
        validate_book(book)
