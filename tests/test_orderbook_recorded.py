"""Order books rebuilt from REAL recorded Binance captures, and the REAL top-100 CSV.

Data: /work/shared/data/orderbook (see its README); the embedded sample holds the BTC capture
and the CSV only, so the ETH replays skip on a fresh clone. The captures hold a REST snapshot,
``@depth@100ms`` diffs, ``@bookTicker`` and ``@trade`` messages for BTCUSDT and ETHUSDT,
2024-08-08 23:54 to 2024-08-09 00:05 UTC.

Matching rule between rebuilt books and ``@bookTicker``: Binance pushes a bookTicker for
every change of the best bid or ask (price or quantity), tagged with the update id ``u``
that made it; depth diffs and book tickers share one update-id sequence. So the top of the
book after applying the diff whose last id is ``u`` must equal the LATEST book ticker with
id ``<= u``: a top change between that ticker and ``u`` would have produced a later ticker
with an id ``<= u``. The stricter subset where a ticker's id equals ``u`` exactly is
checked on its own too. Matching by id, not by time, avoids clock and delivery-order noise
(the two streams arrive independently).

Synthetic captures (clearly marked below) are small hand-written or edited copies used to
force the failure paths (gaps, resync) that the clean real files never exercise.
"""

from __future__ import annotations

import gzip
import json
import math
from bisect import bisect_right
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import pandas as pd
import pytest

from plugins.orderbook import (
    analyse_book,
    depth_within_bps,
    fill_by_base,
    fill_by_quote,
    imbalance,
    imbalance_from_volumes,
    spread_bps,
    spread_bps_from_prices,
    validate_book,
)
from plugins.orderbook.recorded import (
    BookSync,
    BookTicker,
    CaptureReplay,
    RebuiltBook,
    iter_capture,
    load_rebuilt_books,
)
from tests.conftest import missing_data, recorded_file

CAPTURES = {
    "BTC/USDT": "binance_spot_btcusdt_20240808.gz",
    "ETH/USDT": "binance_spot_ethusdt_20240808.gz",
}
CSV = "binance_spot_btcusdt_top100_snapshots_2026-06-15.csv"
QUOTE_STAKES = [50.0, 500.0, 5_000.0, 50_000.0, 250_000.0, 1_000_000.0, 5_000_000.0]


@dataclass
class Replayed:
    """What the tests need from one full replay of a real capture."""

    tops: list[tuple[int, float, float, float, float]]  # (u, bid, bid qty, ask, ask qty)
    tickers: list[BookTicker]
    sample: list[RebuiltBook]  # every 10th rebuilt book, top 100 levels a side
    stats: object
    snapshot_id: int
    snapshot_range: tuple[float, float]  # lowest snapshot bid, highest snapshot ask


@pytest.fixture(scope="module", params=sorted(CAPTURES))
def replayed(request: pytest.FixtureRequest, orderbook_dir: Path) -> Replayed:
    path = orderbook_dir / CAPTURES[request.param]
    if not path.exists():  # the embedded sample holds the BTC capture only
        pytest.skip(missing_data(f"the {request.param} capture", path))
    snapshot = next(m for _, m in iter_capture(path) if "lastUpdateId" in m)
    replay = CaptureReplay(path, depth=100)
    tops, tickers, sample = [], [], []
    n_books = 0
    for event in replay:
        if isinstance(event, BookTicker):
            tickers.append(event)
            continue
        bids, asks = event.book["bids"], event.book["asks"]
        tops.append((event.update_id, *bids[0], *asks[0]))
        if n_books % 10 == 0:
            sample.append(event)
        n_books += 1
    return Replayed(
        tops,
        tickers,
        sample,
        replay.stats,
        snapshot["lastUpdateId"],
        (min(float(p) for p, _ in snapshot["bids"]), max(float(p) for p, _ in snapshot["asks"])),
    )


def test_replay_has_no_sequence_gaps_and_drops_only_pre_snapshot_diffs(
    replayed: Replayed,
) -> None:
    stats = replayed.stats
    assert stats.snapshots == 1
    assert stats.gaps == []  # reported: both recorded captures are gap-free
    assert stats.diffs_applied + stats.diffs_dropped == stats.diffs_seen
    assert stats.diffs_applied > 3_000
    assert 0 < stats.diffs_dropped < 10  # the diffs recorded before the snapshot
    assert stats.trades > 5_000 and stats.book_tickers == len(replayed.tickers)
    ids = [u for u, *_ in replayed.tops]
    assert ids[0] > replayed.snapshot_id
    assert all(b > a for a, b in pairwise(ids))


def test_rebuilt_top_of_book_equals_book_ticker_at_matching_update_id(
    replayed: Replayed,
) -> None:
    tickers = replayed.tickers
    ticker_ids = [t.update_id for t in tickers]
    assert all(b > a for a, b in pairwise(ticker_ids))
    compared = exact = 0
    mismatches = []
    for u, bid, bid_qty, ask, ask_qty in replayed.tops:
        i = bisect_right(ticker_ids, u) - 1
        if i < 0:
            continue
        t = tickers[i]
        compared += 1
        exact += t.update_id == u
        if (t.bid, t.bid_qty, t.ask, t.ask_qty) != (bid, bid_qty, ask, ask_qty):
            mismatches.append((u, t.update_id, (bid, bid_qty, ask, ask_qty), t))
    assert compared >= len(replayed.tops) - 1
    assert exact > 300  # tickers whose id equals a diff's last id exactly
    assert mismatches == []


def test_within_snapshot_range_flag(replayed: Replayed) -> None:
    low, high = replayed.snapshot_range
    for event in replayed.sample:
        bids, asks = event.book["bids"], event.book["asks"]
        assert event.within_snapshot_range == (bids[-1][0] >= low and asks[-1][0] <= high)


def test_rebuilt_books_are_ccxt_shaped_with_exchange_timestamps(replayed: Replayed) -> None:
    for event in replayed.sample:
        book = event.book
        assert book["symbol"] in CAPTURES
        assert len(book["bids"]) == len(book["asks"]) == 100
        assert book["timestamp"] == event.event_time_ms and book["nonce"] == event.update_id
        assert book["datetime"].startswith(("2024-08-08T23:5", "2024-08-09T00:0"))
        assert book["datetime"].endswith("Z")
        validate_book(book)


def test_analytics_invariants_on_real_books(replayed: Replayed) -> None:
    for event in replayed.sample:
        book = event.book
        assert spread_bps(book) > 0
        for levels in (1, 5, 20, 100):
            assert -1.0 <= imbalance(book, levels) <= 1.0
        depths = [depth_within_bps(book, bps).bid_quote for bps in (1, 5, 10, 50)]
        assert depths == sorted(depths)
        side_quote = {
            s: sum(p * q for p, q in book[k]) for s, k in (("buy", "asks"), ("sell", "bids"))
        }
        for side in ("buy", "sell"):
            levels = book["asks" if side == "buy" else "bids"]
            previous = -math.inf
            for stake in QUOTE_STAKES:
                fill = fill_by_quote(book, side, stake)
                # fill price between the best and the worst level touched
                assert fill.best_price == levels[0][0]
                assert fill.worst_price == levels[fill.levels_used - 1][0]
                lo, hi = sorted((fill.best_price, fill.worst_price))
                assert lo * (1 - 1e-12) <= fill.average_price <= hi * (1 + 1e-12)
                # slippage never shrinks as the stake grows
                assert fill.slippage_bps >= previous - 1e-9
                previous = fill.slippage_bps
                assert fill.slippage_vs_mid_bps > 0
                assert fill.complete == (stake <= side_quote[side])
            base = fill_by_base(book, side, 0.5)
            assert base.base == 0.5 and base.slippage_bps >= 0


def test_slippage_actually_grows_on_real_books(replayed: Replayed) -> None:
    """Not just monotone: a large stake on a real book pays a measurable walk cost."""
    grew = 0
    for event in replayed.sample:
        best_price, best_amount = event.book["asks"][0]
        small = fill_by_quote(event.book, "buy", 0.5 * best_price * best_amount)
        large = fill_by_quote(event.book, "buy", 500_000.0)
        assert small.slippage_bps == 0.0 and small.levels_used == 1  # inside the best level
        grew += large.slippage_bps > 0.1
    assert grew > len(replayed.sample) // 2


def test_analyse_book_agrees_with_the_single_functions_on_real_books(
    replayed: Replayed,
) -> None:
    for event in replayed.sample[::5]:
        book = event.book
        report = analyse_book(
            book,
            side="sell",
            quote_amount=20_000.0,
            levels=5,
            within_bps=10.0,
            now=event.event_time_ms / 1000 + 0.25,
        )
        assert report.spread_bps == spread_bps(book)
        assert report.imbalance == pytest.approx(imbalance(book, 5), rel=1e-12)
        assert report.depth == depth_within_bps(book, 10.0)
        assert report.fill == fill_by_quote(book, "sell", 20_000.0)
        assert report.age_seconds == pytest.approx(0.25, abs=1e-6)


# --------------------------------------------------------------------------- real CSV


def test_top100_csv_imbalance_and_spread_match_our_formulas(orderbook_dir: Path) -> None:
    """The poller's own columns: imbalance from its volumes, spread in bps from its prices.

    Its ``spread`` column is absolute (quote currency), so it is turned into bps of its own
    ``mid_price`` before comparing.
    """
    frame = pd.read_csv(recorded_file(orderbook_dir, CSV))
    assert len(frame) > 8_000
    for row in frame.itertuples(index=False):
        ours = imbalance_from_volumes(row.bid_volume, row.ask_volume)
        assert ours == pytest.approx(row.imbalance, rel=1e-12, abs=1e-15)
        # through the book-level function too: one level a side carrying the totals
        book = {"bids": [[row.best_bid, row.bid_volume]], "asks": [[row.best_ask, row.ask_volume]]}
        assert imbalance(book, levels=100) == ours
        assert row.mid_price == (row.best_bid + row.best_ask) / 2
        theirs_bps = row.spread / row.mid_price * 1e4
        assert spread_bps_from_prices(row.best_bid, row.best_ask) == pytest.approx(
            theirs_bps, rel=1e-9
        )
        assert spread_bps(book) > 0


# --------------------------------------------------------------------------- synthetic


def _diff(first: int, last: int, bids: list, asks: list, event_ms: int = 1_000) -> str:
    data = {
        "e": "depthUpdate",
        "E": event_ms,
        "s": "BTCUSDT",
        "U": first,
        "u": last,
        "b": bids,
        "a": asks,
    }
    return json.dumps({"stream": "btcusdt@depth@100ms", "data": data})


def _write(path: Path, messages: list[str]) -> Path:
    with gzip.open(path, "wt") as handle:
        for i, message in enumerate(messages):
            handle.write(f"{1_000_000 + i} {message}\n")
    return path


SNAPSHOT = json.dumps(
    {
        "lastUpdateId": 100,
        "bids": [["99.0", "1.0"], ["98.0", "2.0"]],
        "asks": [["101.0", "1.5"], ["102.0", "3.0"]],
    }
)


def test_synthetic_capture_follows_binance_procedure(tmp_path: Path) -> None:
    """SYNTHETIC capture: buffered pre-snapshot diffs, a bridging diff, removals, a gap."""
    path = _write(
        tmp_path / "synthetic.gz",
        [
            _diff(95, 99, [["97.0", "5.0"]], []),  # before the snapshot, u <= 100: dropped
            _diff(100, 103, [["99.5", "0.5"]], []),  # buffered, bridges U <= 101 <= u: applied
            SNAPSHOT,
            _diff(104, 105, [["99.0", "0"], ["50.0", "0"]], [["101.0", "2.5"]]),  # removals
            _diff(107, 108, [], [["101.0", "9.0"]]),  # 106 is missing: a gap
            _diff(109, 110, [], [["101.0", "7.0"]]),  # waits for a new snapshot
        ],
    )
    replay = CaptureReplay(path, depth=5)
    books = [e for e in replay if isinstance(e, RebuiltBook)]
    assert [b.update_id for b in books] == [103, 105]
    assert books[0].book["bids"] == [[99.5, 0.5], [99.0, 1.0], [98.0, 2.0]]
    # 99.0 removed, removing unknown 50.0 is ignored, the ask quantity is replaced
    assert books[1].book["bids"] == [[99.5, 0.5], [98.0, 2.0]]
    assert books[1].book["asks"] == [[101.0, 2.5], [102.0, 3.0]]
    assert books[1].book["timestamp"] == 1_000
    assert replay.stats.diffs_dropped == 1
    [gap] = replay.stats.gaps
    assert (gap.expected_first_id, gap.received_first_id, gap.missing) == (106, 107, 1)


def test_synthetic_capture_resyncs_on_a_new_snapshot(tmp_path: Path) -> None:
    """SYNTHETIC capture: a snapshot that the first diff cannot bridge, then a fresh one."""
    later_snapshot = json.dumps(
        {
            "lastUpdateId": 120,
            "bids": [["90.0", "1.0"]],
            "asks": [["91.0", "1.0"]],
        }
    )
    path = _write(
        tmp_path / "resync.gz",
        [
            SNAPSHOT,
            _diff(110, 115, [["99.0", "4.0"]], []),  # U = 110 > 101: gap after the snapshot
            _diff(116, 121, [["90.5", "2.0"]], []),  # buffered, bridges the later snapshot
            later_snapshot,
            _diff(122, 122, [], [["91.0", "0"], ["92.0", "1.0"]]),
        ],
    )
    replay = CaptureReplay(path, depth=5)
    books = [e for e in replay if isinstance(e, RebuiltBook)]
    assert [g.expected_first_id for g in replay.stats.gaps] == [101]
    assert [b.update_id for b in books] == [121, 122]
    assert books[-1].book["bids"] == [[90.5, 2.0], [90.0, 1.0]]
    assert books[-1].book["asks"] == [[92.0, 1.0]]


def test_gap_cut_into_a_real_capture_is_reported(orderbook_dir: Path, tmp_path: Path) -> None:
    """SYNTHETIC edit of the REAL BTC capture: its first 1000 lines with one diff removed."""
    with gzip.open(orderbook_dir / CAPTURES["BTC/USDT"], "rt") as handle:
        lines = [next(handle) for _ in range(1_000)]
    diff_rows = [i for i, line in enumerate(lines) if "@depth@100ms" in line]
    removed = json.loads(lines[diff_rows[20]].split(" ", 1)[1])["data"]
    kept = lines[: diff_rows[20]] + lines[diff_rows[20] + 1 :]
    path = tmp_path / "cut.gz"
    with gzip.open(path, "wt") as handle:
        handle.writelines(kept)
    books, _, stats = load_rebuilt_books(path, depth=10)
    [gap] = stats.gaps
    assert gap.expected_first_id == removed["U"]
    assert gap.received_first_id == removed["u"] + 1
    assert books and books[-1].update_id < removed["U"]


def test_bad_inputs_are_named(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="capture file not found"):
        CaptureReplay(tmp_path / "missing.gz")
    with pytest.raises(ValueError, match="depth must be an integer >= 1"):
        BookSync(depth=0)
    bad = _write(tmp_path / "bad.gz", ["not json"])
    with pytest.raises(ValueError, match=r"bad.gz:1: malformed capture line"):
        list(iter_capture(bad))
    with pytest.raises(ValueError, match="every must be an integer >= 1"):
        load_rebuilt_books(bad, every=0)
