"""Frozen and slow market data in a real dry-run against the venue's faults. Bounded in time.

- The venue's ``stale`` fault freezes klines, tickers and the book: the bot reports the frozen
  book once (log warning, notification), vetoes entries on the pair and holds a pair lock that
  FreqUI and Telegram's ``/locks`` show.
- The venue's ``delay`` fault answers every market-data request 12 s late: with the ccxt
  timeouts of ``user_data/config.json`` one slow call holds the bot loop for a bounded time
  (measured from Freqtrade's ``/health``: the time of each completed loop).
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import pytest

from tests.freqtrade_harness import wait_for
from tests.test_faults import bot_under_faults, clear_faults, set_fault, try_enter

pytestmark = pytest.mark.slow

#: Longest the loop may stand still under the delay fault. Freqtrade tries a failed call 5
#: times (``API_RETRY_COUNT`` 4 retries, no pause after a timeout), so one call chain stalls
#: 5 x 2.5 s = 12.5 s with the config's ccxt timeout: between candle closes a loop makes one
#: such chain (the rate or the book), a gap of 17-18 s with the 5 s throttle; when a candle
#: closes inside the delay the loop first refreshes the candles (all pairs and timeframes in
#: parallel: a second chain), a gap of about 30 s (seen once in a fresh clone's run). Without
#: the timeouts the gap was 55-60 s.
MAX_LOOP_GAP_S = 35.0


def test_frozen_and_slow_market_data(tmp_path: Path, binance_dir: Path) -> None:
    with bot_under_faults(tmp_path, binance_dir, "data.log") as (venue_url, api, proc, log, held):
        trade_id = held["trade_id"]
        # frozen: after 12 s the order-book plugin vetoes the aged book, so ETH stays
        # without a trade and every forced entry fetches the same book again; the fifth
        # identical one in a row is a frozen book
        set_fault(venue_url, kind="stale")
        time.sleep(12)
        for _ in range(6):
            try_enter(api, "ETH/USDT")
            time.sleep(0.5)
        wait_for(
            lambda: "ETH/USDT: market data stale (order book unchanged" in log.read_text(),
            timeout=60,
            what="the frozen-book warning",
        )
        text = log.read_text()
        warned = [line for line in text.splitlines() if "WARNING - ETH/USDT: market data" in line]
        assert len(warned) == 1  # once per episode
        assert "notify: ETH/USDT: market data stale" in text
        wait_for(
            lambda: any(
                lock["pair"] == "ETH/USDT" and "market data stale" in lock["reason"]
                for lock in api("/locks")["locks"]
            ),
            timeout=30,
            what="the pair lock",
        )
        assert "ETH/USDT" not in [t["pair"] for t in api("/status")]
        clear_faults(venue_url)

        # slow: 12 s late on every market-data endpoint for 45 s
        set_fault(venue_url, kind="delay", delay_s=12, duration_s=45)
        seen: list[float] = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            stamp = api("/health").get("last_process_ts")
            if stamp and (not seen or stamp != seen[-1]):
                seen.append(float(stamp))
            time.sleep(0.5)
        gaps = [b - a for a, b in itertools.pairwise(seen)]
        print(f"loop gaps under a 12 s delay: max {max(gaps):.1f} s over {len(gaps)} loops")
        assert gaps and max(gaps) <= MAX_LOOP_GAP_S, gaps
        assert proc.poll() is None
        kept = [t for t in api("/status") if t["trade_id"] == trade_id]
        assert kept, "the open trade was lost"
