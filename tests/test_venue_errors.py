"""Bad requests answer like MEXC (HTTP 400, ``{"code", "msg"}``) and never stop the venue."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import ccxt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trading_agent.venue.endpoints import Venue
from trading_agent.venue.errors import (
    CODE_INVALID_PARAM,
    CODE_INVALID_SYMBOL,
    CODE_MALFORMED_PARAM,
    VenueError,
)
from trading_agent.venue.server import build_venue, ccxt_overrides, running_venue


@pytest.fixture(scope="module")
def url(binance_dir: Path) -> Iterator[str]:
    with running_venue(binance_dir, replay=True) as base:
        yield base


@pytest.fixture(scope="module")
def ex(url: str) -> ccxt.mexc:
    client = ccxt.mexc({**ccxt_overrides(url), "enableRateLimit": False})
    client.load_markets()
    return client


def raw(url: str, path: str, method: str = "GET") -> tuple[int, object]:
    req = urllib.request.Request(url + path, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def serving(url: str) -> bool:
    status, body = raw(url, "/api/v3/ping")
    return status == 200 and body == {}


@pytest.mark.parametrize(
    ("path", "code", "words"),
    [
        ("/api/v3/klines?symbol=NOPEUSDT&interval=5m", CODE_INVALID_SYMBOL, "Invalid symbol."),
        ("/api/v3/depth?symbol=btcusdt", CODE_INVALID_SYMBOL, "Invalid symbol."),
        ("/api/v3/ticker/24hr?symbol=XYZ", CODE_INVALID_SYMBOL, "Invalid symbol."),
        ("/api/v3/exchangeInfo?symbols=BTCUSDT,NOPE", CODE_INVALID_SYMBOL, "Invalid symbol."),
        ("/api/v3/klines?symbol=BTCUSDT&interval=7m", CODE_INVALID_PARAM, "'7m'"),
        ("/api/v3/klines?symbol=BTCUSDT&interval=1h", CODE_INVALID_PARAM, "Invalid interval"),
        ("/api/v3/klines?symbol=BTCUSDT&interval=1W", CODE_INVALID_PARAM, "not recorded"),
        ("/api/v3/klines?symbol=BTCUSDT", CODE_INVALID_PARAM, "'interval'"),
        ("/api/v3/klines?interval=5m", CODE_INVALID_PARAM, "'symbol'"),
        ("/api/v3/klines?symbol=BTCUSDT&interval=5m&limit=1001", CODE_INVALID_PARAM, "1001"),
        ("/api/v3/klines?symbol=BTCUSDT&interval=5m&limit=0", CODE_INVALID_PARAM, "'limit'"),
        ("/api/v3/depth?symbol=BTCUSDT&limit=5001", CODE_INVALID_PARAM, "5001"),
        ("/api/v3/trades?symbol=BTCUSDT&limit=1001", CODE_INVALID_PARAM, "'limit'"),
        ("/api/v3/klines?symbol=BTCUSDT&interval=5m&limit=ten", CODE_MALFORMED_PARAM, "'ten'"),
        ("/api/v3/klines?symbol=BTCUSDT&interval=5m&startTime=1e12", CODE_MALFORMED_PARAM, "1e12"),
        ("/api/v3/klines?symbol=BTCUSDT&interval=5m&endTime=-5", CODE_INVALID_PARAM, "endTime"),
        ("/api/v3/depth?symbol=BTCUSDT&limit=" + "9" * 30, CODE_MALFORMED_PARAM, "'limit'"),
        ("/api/v3/depth?symbol=BTCUSDT&limit=--5", CODE_MALFORMED_PARAM, "'--5'"),
        ("/api/v3/trades?symbol=BTCUSDT&limit=%C2%B2", CODE_MALFORMED_PARAM, "'limit'"),  # "²"
        ("/api/v3/aggTrades?symbol=BTCUSDT&startTime=12%2034", CODE_MALFORMED_PARAM, "startTime"),
    ],
)
def test_bad_requests_answer_400_in_mexc_shape(url: str, path: str, code: int, words: str) -> None:
    status, body = raw(url, path)
    assert status == 400
    assert isinstance(body, dict) and set(body) == {"code", "msg"}
    assert body["code"] == code
    assert words in body["msg"]
    assert serving(url)


def test_unknown_paths_and_methods(url: str) -> None:
    status, body = raw(url, "/api/v3/nothing-here")
    assert status == 404 and body["code"] == 404  # type: ignore[index]
    status, body = raw(url, "/")
    assert status == 404
    status, body = raw(url, "/api/v3/klines", method="POST")
    assert status == 405 and set(body) == {"code", "msg"}  # type: ignore[arg-type]
    assert serving(url)


def test_ccxt_raises_the_fitting_exceptions(ex: ccxt.mexc, url: str) -> None:
    # The implicit API methods send whatever they are given, so the venue's answers decide.
    with pytest.raises(ccxt.BadSymbol):
        ex.spotPublicGetKlines({"symbol": "NOPEUSDT", "interval": "5m"})
    with pytest.raises(ccxt.BadRequest) as bad_interval:
        ex.spotPublicGetKlines({"symbol": "BTCUSDT", "interval": "7m"})
    assert not isinstance(bad_interval.value, ccxt.BadSymbol)
    with pytest.raises(ccxt.BadRequest):
        ex.fetch_ohlcv("BTC/USDT", "5m", limit=5000)
    with pytest.raises(ccxt.BadRequest):
        ex.fetch_order_book("BTC/USDT", limit=6000)
    with pytest.raises(ccxt.BadRequest):
        ex.spotPublicGetDepth({"symbol": "BTCUSDT", "limit": "lots"})
    with pytest.raises(ccxt.BadRequest):
        ex.fetch_ohlcv("BTC/USDT", "1w")  # valid MEXC interval, but nothing recorded
    with pytest.raises(ccxt.BadSymbol):
        ex.contractPublicGetDetail({"symbol": "BTC_USDT"})  # no contracts here
    assert ex.fetch_ticker("BTC/USDT")["last"] > 0  # and the venue still serves


def _send(url: str, payload: bytes) -> bytes:
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=1) as sock:
        sock.sendall(payload)
        try:
            return sock.recv(4096)
        except TimeoutError:
            return b""


@pytest.mark.parametrize(
    "payload",
    [
        b"GARBAGE\r\n\r\n",
        b"\x00\xff\xfe binary \x01\x02\r\n\r\n",
        b"GET /api/v3/ping HTTP/9.9\r\n\r\n",
        b"GET /api/v3/depth?symbol=BTCUSDT HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n",
        b"GET " + b"/a" * 20_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n",
        b"GET /api/v3/ping HTTP/1.1\r\nHost: x\r\n",  # never finished
    ],
)
def test_raw_garbage_never_kills_the_server(url: str, payload: bytes) -> None:
    answer = _send(url, payload)
    assert answer == b"" or answer.startswith(b"HTTP/1.")
    if answer:
        assert int(answer.split()[1]) >= 400
    assert serving(url)


def test_abrupt_disconnects_leave_the_server_up(url: str) -> None:
    host, port = url.removeprefix("http://").split(":")
    for _ in range(20):
        with socket.create_connection((host, int(port)), timeout=5) as sock:
            sock.sendall(b"GET /api/v3/depth?symbol=BTCUSDT&limit=5000 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert serving(url)


MARKET_ENDPOINTS = [
    "klines",
    "depth",
    "trades",
    "aggTrades",
    "ticker/24hr",
    "ticker/price",
    "ticker/bookTicker",
    "avgPrice",
    "exchangeInfo",
    "contract/detail",
]


@settings(max_examples=200, deadline=None)
@given(
    endpoint=st.sampled_from(MARKET_ENDPOINTS),
    params=st.dictionaries(
        st.sampled_from(["symbol", "interval", "limit", "startTime", "endTime", "symbols"]),
        st.one_of(
            st.text(max_size=12),
            st.sampled_from(["BTCUSDT", "ETHUSDT", "5m", "60m", "1d", "0", "1", "1000", "5000"]),
            st.integers(-(10**20), 10**20).map(str),
        ),
    ),
)
def test_any_query_answers_json_or_a_mexc_error(
    replay_venue: Venue, endpoint: str, params: dict[str, str]
) -> None:
    try:
        body = replay_venue.handle(endpoint, params)
    except VenueError as err:
        assert err.status == 400 and isinstance(err.code, int) and err.msg
    else:
        json.loads(body)


@pytest.fixture(scope="module")
def replay_venue(binance_dir: Path) -> Venue:
    return build_venue(binance_dir, replay=True)
