"""Rebuild order books from a recorded Binance spot websocket capture.

The capture format (``/work/shared/data/orderbook/*.gz``) is one message a line,
``<local_ts_ns> <json>``: a REST depth snapshot (``lastUpdateId``, ``bids``, ``asks``) and
combined-stream messages ``{"stream": ..., "data": ...}`` for ``<sym>@depth@100ms`` diffs
(``U`` first and ``u`` last update id, ``E`` event time in ms, ``b``/``a`` levels holding
absolute quantities, 0 removes the level), ``<sym>@bookTicker`` (``u``, best ``b``/``B``,
``a``/``A``) and ``<sym>@trade``. The snapshot need not be the first line: diffs recorded
before it are buffered, exactly as a live client does.

Binance's documented procedure for a local spot book, implemented by :class:`BookSync`:

1. buffer diffs until a snapshot is available;
2. drop every diff with ``u <= lastUpdateId``;
3. the first diff applied must bridge the snapshot: ``U <= lastUpdateId + 1 <= u``;
4. each later diff must continue the sequence: ``U == previous u + 1``;
5. a break in the sequence (``U > previous u + 1``) is a gap: the local book is discarded
   and the sync waits for a new snapshot (a capture with one snapshot yields no more books).

This reads files; it is never on the trading hot path.
"""

from __future__ import annotations

import gzip
import json
from bisect import bisect_left, insort
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

_QUOTES = ("USDT", "USDC", "FDUSD", "BUSD", "TUSD", "BTC", "ETH", "BNB", "EUR", "TRY")


@dataclass(frozen=True, slots=True)
class SequenceGap:
    """Update ids missing between two diffs (or between the snapshot and the first diff)."""

    expected_first_id: int
    received_first_id: int
    received_last_id: int
    local_ts_ns: int

    @property
    def missing(self) -> int:
        """How many update ids were skipped."""
        return self.received_first_id - self.expected_first_id


@dataclass(frozen=True, slots=True)
class BookTicker:
    """One ``@bookTicker`` message: the best bid/ask as of update id ``update_id``."""

    update_id: int
    bid: float
    bid_qty: float
    ask: float
    ask_qty: float
    local_ts_ns: int


@dataclass(frozen=True, slots=True)
class RebuiltBook:
    """The local book right after applying the diff whose last update id is ``update_id``.

    ``book`` is ccxt-shaped (``symbol``, ``bids``, ``asks``, ``timestamp`` = the diff's
    exchange event time ``E`` in ms, ``datetime``, ``nonce`` = ``update_id``) and holds the
    top ``depth`` levels a side. ``within_snapshot_range`` is False when those levels reach
    beyond the price range the snapshot covered, where the local book may be incomplete
    (levels there were only ever seen through diffs).
    """

    update_id: int
    first_update_id: int
    event_time_ms: int
    local_ts_ns: int
    book: dict[str, Any]
    within_snapshot_range: bool


@dataclass(slots=True)
class SyncStats:
    """Counters kept by :class:`BookSync` while it runs."""

    snapshots: int = 0
    diffs_seen: int = 0
    diffs_applied: int = 0
    diffs_dropped: int = 0
    book_tickers: int = 0
    trades: int = 0
    gaps: list[SequenceGap] = field(default_factory=list)


class LocalBook:
    """One side-sorted L2 book: price -> quantity maps plus sorted price lists.

    Bid and ask prices are both kept ascending, so the best bid is the last bid price and
    the best ask the first ask price. Prices are parsed from Binance's decimal strings to
    floats; the same string always gives the same float, so levels match exactly.
    """

    __slots__ = ("_ask_prices", "_asks", "_bid_prices", "_bids")

    def __init__(self, bids: Sequence[Sequence[Any]], asks: Sequence[Sequence[Any]]) -> None:
        self._bids: dict[float, float] = {}
        self._asks: dict[float, float] = {}
        for price, qty in bids:
            if float(qty) > 0:
                self._bids[float(price)] = float(qty)
        for price, qty in asks:
            if float(qty) > 0:
                self._asks[float(price)] = float(qty)
        self._bid_prices = sorted(self._bids)
        self._ask_prices = sorted(self._asks)

    def apply(self, bids: Sequence[Sequence[Any]], asks: Sequence[Sequence[Any]]) -> None:
        """Apply one diff's absolute quantities (0 removes the level; unknown removals are
        normal and ignored)."""
        _apply_side(self._bids, self._bid_prices, bids)
        _apply_side(self._asks, self._ask_prices, asks)

    def top(self, depth: int) -> tuple[list[list[float]], list[list[float]]]:
        """The best ``depth`` levels a side, best first, as ``[[price, qty], ...]``."""
        bids = self._bids
        asks = self._asks
        top_bids = [[p, bids[p]] for p in reversed(self._bid_prices[-depth:])]
        top_asks = [[p, asks[p]] for p in self._ask_prices[:depth]]
        return top_bids, top_asks

    def __len__(self) -> int:
        return len(self._bid_prices) + len(self._ask_prices)


def _apply_side(
    book: dict[float, float], prices: list[float], levels: Sequence[Sequence[Any]]
) -> None:
    for price_text, qty_text in levels:
        price = float(price_text)
        qty = float(qty_text)
        if qty == 0.0:
            if price in book:
                del book[price]
                del prices[bisect_left(prices, price)]
        else:
            if price not in book:
                insort(prices, price)
            book[price] = qty


class BookSync:
    """Binance's snapshot + diff procedure as a state machine (see the module docstring).

    Feed messages in arrival order with :meth:`on_snapshot` and :meth:`on_diff`; each call
    returns the books produced (one per applied diff). ``stats.gaps`` lists every break.
    """

    def __init__(self, depth: int = 100, symbol: str | None = None) -> None:
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
            raise ValueError(f"depth must be an integer >= 1, got {depth!r}")
        self.depth = depth
        self.symbol = symbol
        self.stats = SyncStats()
        self._book: LocalBook | None = None
        self._last_id: int | None = None
        self._range: tuple[float, float] = (0.0, 0.0)
        self._buffer: list[tuple[int, Mapping[str, Any]]] = []

    def on_snapshot(self, snapshot: Mapping[str, Any], local_ts_ns: int) -> list[RebuiltBook]:
        """Start (or restart) from a REST depth snapshot, then replay buffered diffs."""
        try:
            last_id = int(snapshot["lastUpdateId"])
            bids, asks = snapshot["bids"], snapshot["asks"]
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(
                f"not a depth snapshot (needs lastUpdateId, bids, asks): {exc}"
            ) from None
        self.stats.snapshots += 1
        self._book = LocalBook(bids, asks)
        self._last_id = last_id
        lowest_bid = self._book._bid_prices[0] if self._book._bid_prices else float("inf")
        highest_ask = self._book._ask_prices[-1] if self._book._ask_prices else float("-inf")
        self._range = (lowest_bid, highest_ask)
        buffered, self._buffer = self._buffer, []
        out: list[RebuiltBook] = []
        for ts, diff in buffered:
            out.extend(self._apply(diff, ts))
        return out

    def on_diff(self, diff: Mapping[str, Any], local_ts_ns: int) -> list[RebuiltBook]:
        """Handle one ``depthUpdate``: buffer it, drop it, apply it or record a gap."""
        self.stats.diffs_seen += 1
        if self._book is None:
            self._buffer.append((local_ts_ns, diff))
            return []
        return self._apply(diff, local_ts_ns)

    def _apply(self, diff: Mapping[str, Any], local_ts_ns: int) -> list[RebuiltBook]:
        book = self._book
        last_id = self._last_id
        if book is None or last_id is None:  # desynced by a gap inside the replayed buffer
            self._buffer.append((local_ts_ns, diff))
            return []
        first_id, final_id = int(diff["U"]), int(diff["u"])
        if final_id <= last_id:
            self.stats.diffs_dropped += 1
            return []
        if first_id > last_id + 1:
            self.stats.gaps.append(SequenceGap(last_id + 1, first_id, final_id, local_ts_ns))
            self._book = None
            self._last_id = None
            self._buffer.append((local_ts_ns, diff))
            return []
        # first_id <= last_id + 1 <= final_id: the bridge after a snapshot, or (normally)
        # first_id == last_id + 1. Quantities are absolute, so re-applying ids is harmless.
        book.apply(diff["b"], diff["a"])
        self._last_id = final_id
        self.stats.diffs_applied += 1
        bids, asks = book.top(self.depth)
        event_ms = int(diff["E"])
        inside = (
            bool(bids and asks)
            and bids[-1][0] >= self._range[0]
            and (asks[-1][0] <= self._range[1])
        )
        ccxt_book = {
            "symbol": self.symbol or _ccxt_symbol(str(diff.get("s", ""))),
            "bids": bids,
            "asks": asks,
            "timestamp": event_ms,
            "datetime": _iso(event_ms),
            "nonce": final_id,
        }
        return [RebuiltBook(final_id, first_id, event_ms, local_ts_ns, ccxt_book, inside)]


class CaptureReplay:
    """Iterate a capture file in arrival order, yielding rebuilt books and book tickers.

    Usage::

        replay = CaptureReplay(path, depth=100)
        for event in replay:           # RebuiltBook or BookTicker, in file order
            ...
        replay.stats.gaps               # sequence gaps found (empty on a clean capture)

    Trades are counted (``stats.trades``) and skipped.
    """

    def __init__(self, path: str | Path, depth: int = 100, symbol: str | None = None) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise ValueError(f"capture file not found: {self.path}")
        self._sync = BookSync(depth=depth, symbol=symbol)

    @property
    def stats(self) -> SyncStats:
        """Counters and gaps; complete once iteration has finished."""
        return self._sync.stats

    def __iter__(self) -> Iterator[RebuiltBook | BookTicker]:
        sync = self._sync
        for local_ts_ns, message in iter_capture(self.path):
            data = message.get("data")
            if data is None:
                if "lastUpdateId" in message:
                    yield from sync.on_snapshot(message, local_ts_ns)
                    continue
                raise ValueError(f"{self.path}: unknown message {str(message)[:120]}")
            event = data.get("e")
            if event == "depthUpdate":
                yield from sync.on_diff(data, local_ts_ns)
            elif event == "trade":
                sync.stats.trades += 1
            elif event is None and "u" in data and "b" in data and "a" in data:
                sync.stats.book_tickers += 1
                yield BookTicker(
                    update_id=int(data["u"]),
                    bid=float(data["b"]),
                    bid_qty=float(data["B"]),
                    ask=float(data["a"]),
                    ask_qty=float(data["A"]),
                    local_ts_ns=local_ts_ns,
                )
            else:
                raise ValueError(f"{self.path}: unknown stream message {str(message)[:120]}")


def iter_capture(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(local_ts_ns, message)`` for each line of a (gzipped) capture file."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            stamp, sep, payload = line.partition(" ")
            try:
                if not sep:
                    raise ValueError("no space between timestamp and message")
                yield int(stamp), json.loads(payload)
            except ValueError as exc:
                raise ValueError(f"{path}:{number}: malformed capture line: {exc}") from None


def load_rebuilt_books(
    path: str | Path, depth: int = 100, every: int = 1, limit: int | None = None
) -> tuple[list[RebuiltBook], list[BookTicker], SyncStats]:
    """Replay a whole capture; keep every ``every``-th rebuilt book (up to ``limit``).

    Returns the kept books, all book tickers (in update-id order as recorded) and the
    replay's counters, including any sequence gaps.
    """
    if isinstance(every, bool) or not isinstance(every, int) or every < 1:
        raise ValueError(f"every must be an integer >= 1, got {every!r}")
    replay = CaptureReplay(path, depth=depth)
    books: list[RebuiltBook] = []
    tickers: list[BookTicker] = []
    seen = 0
    for event in replay:
        if isinstance(event, BookTicker):
            tickers.append(event)
            continue
        if seen % every == 0 and (limit is None or len(books) < limit):
            books.append(event)
        seen += 1
    return books, tickers, replay.stats


def _ccxt_symbol(raw: str) -> str:
    raw = raw.upper()
    for quote in _QUOTES:
        if raw.endswith(quote) and len(raw) > len(quote):
            return f"{raw[: -len(quote)]}/{quote}"
    return raw


def _iso(ms: int) -> str:
    stamp = datetime.fromtimestamp(ms / 1000.0, tz=UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
