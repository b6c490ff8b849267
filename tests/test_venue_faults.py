"""Fault injection through ``/_venue/faults`` as end-to-end tests will use it."""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import ccxt
import pytest

from trading_agent.venue.clock import date_ms
from trading_agent.venue.server import ccxt_overrides, running_venue


class FakeClock:
    """A wall clock the test moves by hand (milliseconds)."""

    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


CLOCK = FakeClock(date_ms(dt.date(2026, 11, 24)) + 10 * 3_600_000)


@pytest.fixture(scope="module")
def url(binance_dir: Path) -> Iterator[str]:
    with running_venue(binance_dir, replay=True, now_ms=CLOCK, faults=True) as base:
        yield base


@pytest.fixture
def ex(url: str) -> Iterator[ccxt.mexc]:
    client = ccxt.mexc({**ccxt_overrides(url), "enableRateLimit": False, "timeout": 2_000})
    client.load_markets()
    yield client
    call(url, "DELETE", "/_venue/faults")


def call(url: str, method: str, path: str, body: object | None = None) -> tuple[int, dict]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def test_http_error_fault_then_clear(url: str, ex: ccxt.mexc) -> None:
    status, body = call(url, "POST", "/_venue/faults", {"kind": "http_error", "status": 503})
    assert status == 200 and body["faults"][0]["kind"] == "http_error"
    with pytest.raises(ccxt.ExchangeNotAvailable):
        ex.fetch_ticker("BTC/USDT")
    status, body = call(url, "DELETE", "/_venue/faults?kind=http_error")
    assert body["cleared"] == 1
    assert ex.fetch_ticker("BTC/USDT")["last"] > 0


def test_fault_limited_to_endpoints_and_duration(url: str, ex: ccxt.mexc) -> None:
    call(url, "POST", "/_venue/faults", {"kind": "http_error", "endpoints": ["depth"],
                                         "duration_s": 0.5})  # fmt: skip
    with pytest.raises(ccxt.ExchangeNotAvailable):
        ex.fetch_order_book("BTC/USDT")
    assert len(ex.fetch_ohlcv("BTC/USDT", "5m", limit=3)) == 3  # other endpoints unaffected
    time.sleep(0.6)
    assert ex.fetch_order_book("BTC/USDT")["bids"]  # expired by itself


def test_delay_fault_times_the_client_out(url: str, ex: ccxt.mexc) -> None:
    ex.timeout = 300
    call(url, "POST", "/_venue/faults", {"kind": "delay", "delay_s": 1.0, "endpoints": ["klines"]})
    with pytest.raises(ccxt.RequestTimeout):
        ex.fetch_ohlcv("BTC/USDT", "5m", limit=3)
    assert ex.fetch_ticker("BTC/USDT")["last"] > 0


def test_empty_and_crossed_books(url: str, ex: ccxt.mexc) -> None:
    call(url, "POST", "/_venue/faults", {"kind": "empty_book"})
    book = ex.fetch_order_book("ETH/USDT")
    assert book["bids"] == [] and book["asks"] == []
    ticker = ex.fetch_ticker("ETH/USDT")
    assert ticker["bid"] is None and ticker["ask"] is None and ticker["last"] > 0
    call(url, "DELETE", "/_venue/faults")
    call(url, "POST", "/_venue/faults", {"kind": "crossed_book"})
    book = ex.fetch_order_book("ETH/USDT", 10)
    assert book["bids"][0][0] > book["asks"][0][0]
    assert ex.fetch_bids_asks()["ETH/USDT"]["bid"] > ex.fetch_bids_asks()["ETH/USDT"]["ask"]


def test_stale_fault_freezes_candles(url: str, ex: ccxt.mexc) -> None:
    frozen_before = ex.fetch_ohlcv("BTC/USDT", "5m", limit=2)
    call(url, "POST", "/_venue/faults", {"kind": "stale"})
    CLOCK.now += 15 * 60_000  # a quarter of an hour passes on the wall clock
    try:
        assert ex.fetch_ohlcv("BTC/USDT", "5m", limit=2) == frozen_before
        _, state = call(url, "GET", "/_venue/state")
        assert state["faults"][0]["kind"] == "stale"
        call(url, "DELETE", "/_venue/faults")
        moved = ex.fetch_ohlcv("BTC/USDT", "5m", limit=2)
        assert moved[-1][0] == frozen_before[-1][0] + 15 * 60_000
    finally:
        CLOCK.now -= 15 * 60_000


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"kind": "meteor"}, "kind"),
        ({"kind": "delay", "delay_s": -1}, "delay_s"),
        ({"kind": "http_error", "status": 200}, "status"),
        ({"kind": "stale", "endpoints": ["nowhere"]}, "endpoints"),
        ({"kind": "stale", "extra": 1}, "extra"),
        ("not json", "body"),
    ],
)
def test_bad_fault_requests_are_rejected(url: str, body: object, words: str) -> None:
    data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
    req = urllib.request.Request(url + "/_venue/faults", data=data, method="POST")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=10)
    assert err.value.code == 400
    assert words in json.load(err.value)["msg"]
    assert call(url, "GET", "/_venue/faults")[1]["faults"] == []
