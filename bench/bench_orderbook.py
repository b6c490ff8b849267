"""Speed of the order-book analytics on REAL books, and of rebuilding books from a capture.

Books are rebuilt from the recorded Binance BTCUSDT and ETHUSDT captures in
``../shared/data/orderbook`` (every 10th book, top 100 levels a side). "All analytics" is
one :func:`plugins.orderbook.analytics.analyse_book` call: validation of every level, mid,
spread, top-5 imbalance, depth and imbalance within 10 bps, walking the book for a
50,000 USDT buy, and the book's age.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path

import numpy as np

from plugins.orderbook.analytics import analyse_book
from plugins.orderbook.plugin import OrderBookPlugin
from plugins.orderbook.recorded import BookSync, iter_capture, load_rebuilt_books

CAPTURES = ("binance_spot_btcusdt_20240808.gz", "binance_spot_ethusdt_20240808.gz")
DEPTH = 100
EVERY = 10
REPEATS = 15
STAKE_QUOTE = 50_000.0
TARGET_US = 50.0


def _orderbook_dir() -> Path:
    env = os.environ.get("TA_SHARED_DATA")
    base = Path(env) if env else Path(__file__).resolve().parents[2] / "shared" / "data"
    return base / "orderbook"


def _per_item_us(func, items: list, repeats: int = REPEATS) -> float:
    """Median over ``repeats`` passes of the mean time per item, in microseconds."""
    for item in items[:50]:
        func(item)
    passes = []
    for _ in range(repeats):
        started = time.perf_counter()
        for item in items:
            func(item)
        passes.append((time.perf_counter() - started) / len(items) * 1e6)
    return statistics.median(passes)


def _analyse(book: dict) -> object:
    return analyse_book(
        book,
        side="buy",
        quote_amount=STAKE_QUOTE,
        levels=5,
        within_bps=10.0,
        now=book["timestamp"] / 1000.0 + 0.5,
    )


def _freshly_parsed_us(books: list[dict]) -> tuple[float, float]:
    """(median, 90th percentile) microseconds of one analysis of a freshly parsed book.

    Each book is serialised to JSON and parsed back just before it is analysed, the way
    ccxt builds the book from the exchange's response right before the strategy asks for
    it; only the analysis is timed.
    """
    timings = []
    for _ in range(3):
        for book in books:
            fresh = json.loads(json.dumps(book))
            started = time.perf_counter()
            _analyse(fresh)
            timings.append((time.perf_counter() - started) * 1e6)
    timings.sort()
    return timings[len(timings) // 2], timings[int(len(timings) * 0.9)]


def _rebuild_rate(path: Path) -> tuple[float, float, int]:
    """(end-to-end diffs/s, apply-only diffs/s, diffs) for one capture."""
    started = time.perf_counter()
    _, _, stats = load_rebuilt_books(path, depth=DEPTH, every=10**9)
    end_to_end = stats.diffs_applied / (time.perf_counter() - started)
    messages = list(iter_capture(path))
    best = 0.0
    for _ in range(3):
        sync = BookSync(depth=1)
        started = time.perf_counter()
        for stamp, message in messages:
            if "lastUpdateId" in message:
                sync.on_snapshot(message, stamp)
            elif message["data"].get("e") == "depthUpdate":
                sync.on_diff(message["data"], stamp)
        best = max(best, sync.stats.diffs_applied / (time.perf_counter() - started))
    return end_to_end, best, stats.diffs_applied


def run() -> list[dict]:
    """Microseconds per book for all analytics (target < 50 us) plus informational rows."""
    folder = _orderbook_dir()
    paths = [folder / name for name in CAPTURES]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise FileNotFoundError(f"recorded order books not found: {missing}")
    books: list[dict] = []
    for path in paths:
        rebuilt, _, _ = load_rebuilt_books(path, depth=DEPTH, every=EVERY)
        books.extend(event.book for event in rebuilt)
    levels = {len(b["bids"]) for b in books} | {len(b["asks"]) for b in books}
    note = f"{len(books)} real rebuilt BTC/ETH books, {sorted(levels)} levels a side"

    plugin = OrderBookPlugin()

    def _plugin_call(book: dict) -> object:
        return plugin.approve_entry(
            pair="BTC/USDT",
            side="long",
            rate=book["asks"][0][0],
            amount=STAKE_QUOTE / book["asks"][0][0],
            current_time=book["timestamp"] / 1000.0 + 0.5,
            orderbook=book,
            runmode="dry_run",
        )

    def _numpy_only(book: dict) -> object:
        return np.asarray(book["bids"], dtype=float), np.asarray(book["asks"], dtype=float)

    median_us, p90_us = _freshly_parsed_us(books)
    rows = [
        {
            "name": "orderbook: all analytics per book (100 levels a side)",
            "value": median_us,
            "unit": "us",
            "target": f"< {TARGET_US:g} us",
            "note": f"median per book, each freshly parsed from JSON as ccxt hands it over "
            f"(90th percentile {p90_us:.1f} us); validate + mid/spread/imbalance/depth/"
            f"50k fill/age; {note}",
        },
        {
            "name": "orderbook: all analytics, cold cache (cycling through all books)",
            "value": _per_item_us(_analyse, books),
            "unit": "us",
            "target": "",
            "note": f"informational worst case: {len(books)} books' objects scattered in "
            f"memory; median of {REPEATS} passes",
        },
        {
            "name": "orderbook: all analytics, one book hot in cache",
            "value": _per_item_us(_analyse, books[:1] * 200),
            "unit": "us",
            "target": "",
            "note": "informational: the same book analysed over and over",
        },
        {
            "name": "orderbook: plugin approve_entry per call (dry_run)",
            "value": _per_item_us(_plugin_call, books),
            "unit": "us",
            "target": "",
            "note": "informational: analytics + veto rules + reason text",
        },
        {
            "name": "orderbook: numpy conversion of both sides only",
            "value": _per_item_us(_numpy_only, books),
            "unit": "us",
            "target": "",
            "note": "informational: why the analytics stay in pure Python",
        },
    ]
    for path in paths:
        end_to_end, apply_only, diffs = _rebuild_rate(path)
        symbol = path.name.split("_")[2].upper()
        rows.append(
            {
                "name": f"orderbook: rebuild {symbol} capture, end to end",
                "value": end_to_end,
                "unit": "diffs/s",
                "target": "",
                "note": f"{diffs} diffs; gunzip + JSON + apply + top-{DEPTH} book per diff",
            }
        )
        rows.append(
            {
                "name": f"orderbook: rebuild {symbol}, apply diffs only",
                "value": apply_only,
                "unit": "diffs/s",
                "target": "",
                "note": "pre-parsed messages, sequence checks + level updates, top-1 book",
            }
        )
    return rows


if __name__ == "__main__":
    for row in run():
        print(f"{row['value']:>12.2f} {row['unit']:<8} {row['target']:<9} {row['name']}")
