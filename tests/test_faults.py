"""The dry-run bot through venue faults: it keeps running, vetoes what it cannot price,
loses no trade, and says what happened in its log. Bounded in time."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.freqtrade_harness import Api, free_port, wait_for
from tests.openai_stub_server import StubServer
from tests.test_end_to_end import HOLD, REPLAY_START, answer_by_schema, bot
from trading_agent.launch.processes import running_venue_process

pytestmark = pytest.mark.slow


def set_fault(venue_url: str, **fault: object) -> None:
    req = urllib.request.Request(
        f"{venue_url}/_venue/faults",
        data=json.dumps(fault).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=5) as resp:
        assert resp.status == 200


def clear_faults(venue_url: str) -> None:
    req = urllib.request.Request(f"{venue_url}/_venue/faults", method="DELETE")
    with urllib.request.urlopen(req, timeout=5):
        pass


def try_enter(api, pair: str) -> bool:
    """Force an entry; True if Freqtrade accepted it (our checks may still veto it)."""
    try:
        api("/forceenter", "POST", {"pair": pair})
        return True
    except (urllib.error.URLError, TimeoutError):  # refused, or still waiting on the exchange
        return False


def open_pairs(api) -> list[str]:
    return [t["pair"] for t in api("/status")]


@contextmanager
def bot_under_faults(
    tmp_path: Path, binance_dir: Path, log_name: str
) -> Iterator[tuple[str, Api, subprocess.Popen, Path, dict]]:
    """A dry-run bot against the replay venue with its faults switched on, holding a forced
    BTC long that has filled; yields the venue's URL, the API, the process, the log and that
    trade."""
    stub = StubServer(responder=answer_by_schema).start()
    try:
        with (
            running_venue_process(
                binance_dir, free_port(), replay=True, replay_start=REPLAY_START, faults=True
            ) as venue_url,
            bot(tmp_path, venue_url, stub.base_url, 1_000_000, log_name, **HOLD) as (
                api,
                proc,
                log,
            ),
        ):
            trade_id = api.enter("BTC/USDT")["trade_id"]
            yield venue_url, api, proc, log, api.wait_filled(trade_id)
    finally:
        stub.stop()


def test_bot_survives_venue_faults_and_vetoes_what_it_cannot_price(
    tmp_path: Path, binance_dir: Path
) -> None:
    with bot_under_faults(tmp_path, binance_dir, "faults.log") as (venue_url, api, proc, log, held):
        trade_id = held["trade_id"]
        # a crossed book cannot be priced: the entry is vetoed, no trade opens
        set_fault(venue_url, kind="crossed_book")
        try_enter(api, "ETH/USDT")
        wait_for(
            lambda: "vetoed" in log.read_text() and "crossed" in log.read_text(),
            timeout=30,
            what="the crossed-book veto in the log",
        )
        assert "ETH/USDT" not in open_pairs(api)

        # an empty book: no entry either
        set_fault(venue_url, kind="empty_book")
        try_enter(api, "ETH/USDT")
        time.sleep(2)
        assert "ETH/USDT" not in open_pairs(api)
        clear_faults(venue_url)

        # a frozen market: the book goes stale and the entry is vetoed
        set_fault(venue_url, kind="stale")
        time.sleep(12)
        try_enter(api, "ETH/USDT")
        wait_for(
            lambda: (
                "stale" in log.read_text().split("vetoed")[-1]
                or "old" in log.read_text().split("vetoed")[-1]
            ),
            timeout=30,
            what="the stale-book veto in the log",
        )
        assert "ETH/USDT" not in open_pairs(api)
        clear_faults(venue_url)

        # the exchange answers 500 for a while, then slowly: an entry attempt in each
        # window makes the bot talk to it; the bot keeps running and logs the errors
        set_fault(venue_url, kind="http_error", status=500, duration_s=20)
        assert not try_enter(api, "ETH/USDT") or "ETH/USDT" not in open_pairs(api)
        wait_for(
            lambda: "ExchangeNotAvailable" in log.read_text() or " 500 " in log.read_text(),
            timeout=30,
            what="the HTTP 500 in the log",
        )
        clear_faults(venue_url)
        set_fault(
            venue_url,
            kind="delay",
            delay_s=15,
            duration_s=40,
            endpoints=["depth", "ticker/24hr", "ticker/bookTicker", "ticker/price"],
        )
        try_enter(api, "ETH/USDT")
        wait_for(
            lambda: "RequestTimeout" in log.read_text() or "timed out" in log.read_text(),
            timeout=60,
            what="the request timeout in the log",
        )
        clear_faults(venue_url)
        assert proc.poll() is None
        assert api("/ping") == {"status": "pong"}

        # no trade was lost: the BTC position is intact and can be closed normally
        kept = [t for t in api("/status") if t["trade_id"] == trade_id]
        assert kept and kept[0]["amount"] == pytest.approx(held["amount"])
        api("/forceexit", "POST", {"tradeid": str(trade_id), "ordertype": "market"})
        api.wait_closed(trade_id)
