"""ccxt's own, unmodified MEXC clients (sync and async) against the local venue.

Only the URLs are overridden (``urls.api.spot.public`` and ``urls.api.contract.public``), as
Freqtrade's ``exchange.ccxt_config`` / ``ccxt_async_config`` do. Data: the recorded Binance
candles in ``../shared/data/binance``, served under their own names (BTC/USDT...).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import ccxt
import ccxt.async_support as ccxt_async
import numpy as np
import pandas as pd
import pytest

from trading_agent.venue.server import ccxt_overrides, running_venue


def _state(url: str) -> dict:
    with urllib.request.urlopen(url + "/_venue/state", timeout=10) as resp:
        return json.load(resp)


@pytest.fixture(scope="module")
def static_url(binance_dir: Path) -> Iterator[str]:
    with running_venue(binance_dir) as url:
        yield url


@pytest.fixture(scope="module")
def replay_url(binance_dir: Path) -> Iterator[str]:
    with running_venue(binance_dir, replay=True) as url:
        yield url


def _client(url: str) -> ccxt.mexc:
    # ccxt's client-side throttle only slows the test down; the venue does not rate-limit.
    return ccxt.mexc({**ccxt_overrides(url), "enableRateLimit": False})


def test_freqtrade_style_config_reaches_the_venue(static_url: str) -> None:
    # The exact block Freqtrade's exchange.ccxt_config holds, given to the stock client.
    config = {
        "urls": {
            "api": {
                "spot": {"public": static_url},
                "contract": {"public": static_url + "/api/v1/contract"},
            }
        }
    }
    ex = ccxt.mexc(config)
    markets = ex.load_markets()
    assert set(markets) == {"BTC/USDT", "ETH/USDT", "SOL/USDT"}
    assert ex.urls["api"]["spot"]["private"] == "https://api.mexc.com"  # untouched


def test_markets_precision_and_limits_as_served(static_url: str, btc_5m: pd.DataFrame) -> None:
    ex = _client(static_url)
    markets = ex.load_markets()
    btc = markets["BTC/USDT"]
    assert btc["id"] == "BTCUSDT" and btc["spot"] and btc["active"]
    assert btc["base"] == "BTC" and btc["quote"] == "USDT"
    # Recorded BTC/USDT prices have 2 decimals and volumes 6: precisions derived from the data.
    assert btc["precision"] == {"amount": 1e-06, "price": 0.01}
    assert btc["limits"]["amount"]["min"] == 1e-06
    assert btc["limits"]["cost"]["min"] == 1.0
    assert btc["maker"] == 0 and btc["taker"] == 0.0005  # MEXC's documented 2025 default
    prices = btc_5m["close"].to_numpy()
    assert np.allclose(prices * 100, np.round(prices * 100), atol=1e-6)
    # No swap contracts are listed.
    assert all(m["spot"] for m in markets.values())


def test_static_data_is_mutually_consistent(static_url: str, btc_5m: pd.DataFrame) -> None:
    ex = _client(static_url)
    ex.load_markets()
    candles = ex.fetch_ohlcv("BTC/USDT", "5m", limit=10)
    assert len(candles) == 10
    recorded = btc_5m.tail(10)
    assert [c[0] for c in candles] == [int(t.timestamp() * 1000) for t in recorded["date"]]
    assert [c[4] for c in candles] == recorded["close"].tolist()
    ticker = ex.fetch_ticker("BTC/USDT")
    book = ex.fetch_order_book("BTC/USDT", 20)
    trades = ex.fetch_trades("BTC/USDT", limit=50)
    assert ticker["last"] == candles[-1][4]
    assert book["bids"][0][0] < ticker["last"] < book["asks"][0][0]
    assert ticker["bid"] == book["bids"][0][0] and ticker["ask"] == book["asks"][0][0]
    assert len(book["bids"]) == len(book["asks"]) == 20
    assert trades[-1]["price"] == ticker["last"]
    assert trades == sorted(trades, key=lambda t: t["timestamp"])
    assert ticker["timestamp"] >= trades[-1]["timestamp"]
    end = btc_5m["date"].iloc[-1] + pd.Timedelta("5min")  # the recording ends here
    last_day = btc_5m[btc_5m["date"] >= end - pd.Timedelta("1D")]
    assert ticker["high"] >= ticker["last"] >= ticker["low"] > 0
    assert ticker["high"] == last_day["high"].max()
    assert ticker["low"] == last_day["low"].min()
    assert ticker["open"] == last_day["open"].iloc[0]
    assert ticker["baseVolume"] == pytest.approx(last_day["volume"].sum())


def test_replay_data_is_live_and_consistent(replay_url: str) -> None:
    ex = _client(replay_url)
    ex.load_markets()
    before = time.time() * 1000
    candles = ex.fetch_ohlcv("ETH/USDT", "5m", limit=3)
    ticker = ex.fetch_ticker("ETH/USDT")
    book = ex.fetch_order_book("ETH/USDT", 10)
    trades = ex.fetch_trades("ETH/USDT", limit=20)
    after = time.time() * 1000
    step = 300_000
    forming = candles[-1]
    assert before - step < forming[0] <= after  # the forming candle is the current one
    assert book["bids"][0][0] < ticker["last"] < book["asks"][0][0]
    if forming[0] <= ticker["timestamp"] < forming[0] + step:  # no candle rolled over between
        assert forming[4] == ticker["last"]
        assert trades[-1]["price"] == ticker["last"]
    assert abs(ticker["timestamp"] - after) < 5_000
    assert abs(ex.fetch_time() - time.time() * 1000) < 5_000


def test_bids_asks_and_tickers(static_url: str) -> None:
    ex = _client(static_url)
    ex.load_markets()
    tickers = ex.fetch_tickers()
    assert set(tickers) == {"BTC/USDT", "ETH/USDT", "SOL/USDT"}
    bids_asks = ex.fetch_bids_asks()
    for symbol, t in tickers.items():
        assert bids_asks[symbol]["bid"] == t["bid"] < t["last"]
        assert t["last"] < t["ask"] == bids_asks[symbol]["ask"]


def test_async_client_against_the_venue(replay_url: str) -> None:
    async def scenario() -> tuple:
        ex = ccxt_async.mexc({**ccxt_overrides(replay_url), "enableRateLimit": False})
        try:
            markets = await ex.load_markets()
            candles = await ex.fetch_ohlcv("BTC/USDT", "1h", limit=100)
            book = await ex.fetch_order_book("BTC/USDT", 100)
            ticker = await ex.fetch_ticker("BTC/USDT")
            trades = await ex.fetch_trades("BTC/USDT")
            return markets, candles, book, ticker, trades
        finally:
            await ex.close()

    markets, candles, book, ticker, trades = asyncio.run(scenario())
    assert markets["SOL/USDT"]["precision"]["price"] == 0.01
    assert len(candles) == 100
    assert all(b[0] - a[0] == 3_600_000 for a, b in itertools.pairwise(candles))
    assert len(book["bids"]) == len(book["asks"]) == 100
    assert book["bids"][0][0] < ticker["last"] < book["asks"][0][0]
    assert len(trades) == 500


def test_fetch_ohlcv_since_pages_through_recorded_history(
    static_url: str, btc_5m: pd.DataFrame
) -> None:
    ex = _client(static_url)
    ex.load_markets()
    since = int(pd.Timestamp("2024-03-10", tz="UTC").timestamp() * 1000)
    candles = ex.fetch_ohlcv("BTC/USDT", "5m", since=since, limit=1000)
    # ccxt asks for a 500-candle window when since is given (MEXC's practical maximum).
    assert len(candles) == 500
    rec = btc_5m.set_index(btc_5m["date"].astype("int64") // 1_000_000)
    got = pd.DataFrame(candles, columns=["t", "open", "high", "low", "close", "volume"])
    expected = rec.loc[got["t"], ["open", "high", "low", "close", "volume"]].to_numpy()
    assert got["t"].iloc[0] == since
    np.testing.assert_array_equal(got[["open", "high", "low", "close", "volume"]], expected)


def test_state_reports_mode_and_offset(static_url: str, replay_url: str) -> None:
    static, replay = _state(static_url), _state(replay_url)
    assert static["mode"] == "static" and static["offset_ms"] == 0
    assert replay["mode"] == "replay"
    assert replay["offset_ms"] % 86_400_000 == 0 and replay["offset_days"] > 0
    assert replay["replay_start"] == "2024-03-01"  # 2024-01-01 + 60 days


def _get(url: str, path: str) -> object:
    with urllib.request.urlopen(url + path, timeout=10) as resp:
        assert resp.headers["Content-Type"].startswith("application/json")
        return json.load(resp)


def test_other_public_endpoints(static_url: str) -> None:
    ex = _client(static_url)
    last = ex.fetch_ticker("SOL/USDT")["last"]
    assert _get(static_url, "/api/v3/ping") == {}
    assert abs(_get(static_url, "/api/v3/time")["serverTime"] - time.time() * 1000) < 5_000
    one = _get(static_url, "/api/v3/ticker/price?symbol=SOLUSDT")
    assert one == {"symbol": "SOLUSDT", "price": f"{last:.2f}"}
    every = _get(static_url, "/api/v3/ticker/price")
    assert [p["symbol"] for p in every] == ["BTCUSDT", "ETHUSDT", "SOLUSDT"]
    top = _get(static_url, "/api/v3/ticker/bookTicker?symbol=SOLUSDT")
    assert float(top["bidPrice"]) < last < float(top["askPrice"])
    assert len(_get(static_url, "/api/v3/ticker/bookTicker")) == 3
    avg = _get(static_url, "/api/v3/avgPrice?symbol=SOLUSDT")
    assert avg["mins"] == 5 and abs(float(avg["price"]) / last - 1) < 0.01
    info = _get(static_url, "/api/v3/exchangeInfo?symbol=ETHUSDT")
    (eth,) = info["symbols"]
    assert (eth["baseAsset"], eth["quoteAsset"], eth["quoteAssetPrecision"]) == ("ETH", "USDT", 2)
    assert _get(static_url, "/api/v1/contract/detail") == {"success": True, "code": 0, "data": []}
    assert _get(static_url, "/api/v1/contract/ping")["success"] is True
    agg = _get(static_url, "/api/v3/aggTrades?symbol=SOLUSDT&limit=3")
    assert [set(a) for a in agg] == [{"a", "f", "l", "p", "q", "T", "m", "M"}] * 3
    assert float(agg[-1]["p"]) == last


def test_fetch_trades_in_a_time_window(replay_url: str) -> None:
    ex = _client(replay_url)
    ex.load_markets()
    until = ex.milliseconds()
    since = until - 3_600_000
    trades = ex.fetch_trades("BTC/USDT", since=since, limit=1000, params={"until": until})
    assert trades and all(since <= t["timestamp"] <= until for t in trades)
    assert trades[0]["timestamp"] - since < 300_000  # starts at the window's first 5m candle
    assert {t["side"] for t in trades} == {"buy", "sell"}
