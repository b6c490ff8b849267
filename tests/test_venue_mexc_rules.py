"""MEXC's API-tradable list, per-symbol flags and fees, read by ccxt's own ``mexc`` client.

The venue runs with ``BTCUSDT`` API-disabled and fees of 0.01 % maker / 0.07 % taker (figures
unlike the defaults, so that a test reading the defaults would fail).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import ccxt
import pytest

from tests.freqtrade_harness import free_port
from trading_agent.launch.processes import running_venue_process
from trading_agent.venue.cli import parse_args
from trading_agent.venue.server import build_venue, ccxt_overrides, running_venue
from trading_agent.venue.trading_rules import TradingRules

RULES = TradingRules(
    frozenset({"BTCUSDT"}), maker_fee=Decimal("0.0001"), taker_fee=Decimal("0.0007")
)
KEYS = {"apiKey": "venue-test-key", "secret": "venue-test-secret"}


@pytest.fixture(scope="module")
def url(binance_dir: Path) -> Iterator[str]:
    with running_venue(binance_dir, rules=RULES) as base:
        yield base


def client(url: str, **extra: object) -> ccxt.mexc:
    return ccxt.mexc({**ccxt_overrides(url), "enableRateLimit": False, **extra})


def call(
    url: str, path: str, method: str = "GET", headers: dict[str, str] | None = None
) -> tuple[int, dict]:
    req = urllib.request.Request(url + path, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def test_exchange_info_flags_and_fees_through_load_markets(url: str) -> None:
    markets = client(url).load_markets()
    btc, eth = markets["BTC/USDT"], markets["ETH/USDT"]
    assert btc["info"]["isSpotTradingAllowed"] is False
    assert btc["info"]["status"] == "1" and btc["info"]["permissions"] == ["SPOT"]
    assert btc["active"] is False  # ccxt: active only with status "1" and spot trading allowed
    assert eth["info"]["isSpotTradingAllowed"] is True and eth["active"] is True
    assert eth["info"]["isMarginTradingAllowed"] is False and eth["margin"] is False
    for market in (btc, eth):  # the fee is readable without keys, from the market data
        assert (market["maker"], market["taker"]) == (0.0001, 0.0007)
        assert (market["info"]["makerCommission"], market["info"]["takerCommission"]) == (
            "0.0001",
            "0.0007",
        )


def test_default_symbols_lists_what_the_api_may_trade(url: str) -> None:
    answer = client(url).spotPublicGetDefaultSymbols()
    assert answer == {"code": 200, "data": ["ETHUSDT", "SOLUSDT"], "msg": None}


def test_fetch_trading_fee_with_keys(url: str) -> None:
    ex = client(url, **KEYS)
    fee = ex.fetch_trading_fee("ETH/USDT")
    assert (fee["symbol"], fee["maker"], fee["taker"]) == ("ETH/USDT", 0.0001, 0.0007)
    assert ex.fetch_trading_fee("BTC/USDT")["taker"] == 0.0007  # disabled pairs still cost
    with pytest.raises(ccxt.AuthenticationError):  # ccxt itself refuses without keys
        client(url).fetch_trading_fee("ETH/USDT")
    now = int(time.time() * 1000)
    status, body = call(
        url,
        f"/api/v3/tradeFee?symbol=NOPE&timestamp={now}&signature=a",
        headers={"X-MEXC-APIKEY": "k"},
    )
    assert (status, body["code"]) == (400, -1121)


def test_orders_on_an_api_disabled_symbol_raise_what_10007_maps_to(url: str) -> None:
    ex = client(url, **KEYS)
    ex.load_markets()
    with pytest.raises(ccxt.BadSymbol) as refused:
        ex.create_order("BTC/USDT", "limit", "buy", 0.001, 50_000)
    assert '"code":10007' in str(refused.value) and "symbol not support api" in str(refused.value)
    with pytest.raises(ccxt.BadSymbol):
        ex.create_order("BTC/USDT", "market", "sell", 0.001, params={"test": True})
    # An API-tradable symbol passes MEXC's checks (order/test answers {}); the venue places
    # no order, and says so with an error that is not BadSymbol.
    order = ex.create_order("ETH/USDT", "limit", "buy", 0.01, 3_000, params={"test": True})
    assert order["info"] == {}
    with pytest.raises(ccxt.ExchangeError) as unsupported:
        ex.create_order("ETH/USDT", "limit", "buy", 0.01, 3_000)
    assert not isinstance(unsupported.value, ccxt.BadSymbol)
    assert "places no orders" in str(unsupported.value)
    with pytest.raises(ccxt.BadRequest):  # a limit order needs a price
        ex.spotPrivatePostOrderTest({"symbol": "ETHUSDT", "side": "BUY", "type": "LIMIT",
                                     "quantity": "1"})  # fmt: skip


def test_signed_requests_need_a_key_a_signature_and_a_fresh_timestamp(url: str) -> None:
    key = {"X-MEXC-APIKEY": "k"}
    order = "/api/v3/order/test?symbol=ETHUSDT&side=BUY&type=MARKET&quantity=1"

    def test_order(query: str, headers: dict[str, str]) -> tuple[int, dict]:
        return call(url, order + query, "POST", headers)

    now = int(time.time() * 1000)
    assert test_order(f"&timestamp={now}&signature=ab", {}) == (
        400,
        {"code": 10072, "msg": "Api key info invalid"},
    )
    assert test_order(f"&timestamp={now}", key)[1]["code"] == 700002
    stale = test_order(f"&timestamp={now - 6000}&signature=a", key)
    assert stale[1]["code"] == 700003  # older than the default recvWindow of 5 s
    assert test_order(f"&timestamp={now - 6000}&recvWindow=9000&signature=a", key) == (200, {})
    assert test_order(f"&timestamp={now}&recvWindow=60001&signature=a", key)[1]["code"] == 700005
    _, body = test_order("&signature=a", key)
    assert body["code"] == 730002 and "timestamp" in body["msg"]
    assert test_order(f"&timestamp={now}&signature=a", key) == (200, {})
    skewed = client(url, **KEYS, options={"timeDifference": 10_000})  # a clock 10 s behind
    with pytest.raises(ccxt.InvalidNonce):
        skewed.create_order("ETH/USDT", "market", "buy", 1, params={"test": True})


def test_order_parameters_in_a_form_body(url: str) -> None:
    now = int(time.time() * 1000)
    body = f"symbol=BTCUSDT&side=BUY&type=MARKET&quantity=1&timestamp={now}&signature=a"
    req = urllib.request.Request(
        url + "/api/v3/order/test",
        data=body.encode(),
        method="POST",
        headers={"X-MEXC-APIKEY": "k", "Content-Type": "application/x-www-form-urlencoded"},
    )
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=10)
    assert err.value.code == 400 and json.load(err.value)["code"] == 10007
    status, _ = call(url, "/api/v3/order")
    assert status == 405  # orders are POST only


def test_options_and_their_errors(binance_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = parse_args(["--datadir", "d", "--api-disabled", "BTCUSDT,ETH/USDT", "--fee", "0,0.001"])
    assert args.api_disabled == frozenset({"BTCUSDT", "ETHUSDT"})
    assert args.fee == (Decimal("0"), Decimal("0.001"))
    defaults = parse_args(["--datadir", "d"])
    assert defaults.api_disabled == frozenset() and defaults.fee == (0, Decimal("0.0005"))
    for bad, words in [
        (["--fee", "0.0005"], "MAKER,TAKER"),
        (["--fee", "0,abc"], "taker fee 'abc' is not a number"),
        (["--fee", "0,0.05"], "between 0 and 0.01"),
        (["--fee=-0.001,0"], "maker fee '-0.001'"),
        (["--fee", "0,nan"], "taker fee 'nan'"),
        (["--api-disabled", "BTCUSDT,,ETHUSDT"], "empty symbol"),
    ]:
        with pytest.raises(SystemExit):
            parse_args(["--datadir", "d", *bad])
        assert words in capsys.readouterr().err
    with pytest.raises(ValueError, match="BTCUSDC, not served here"):
        build_venue(binance_dir, rules=TradingRules(frozenset({"BTCUSDC"})))


def test_console_script_takes_the_options(binance_dir: Path) -> None:
    with running_venue_process(
        binance_dir, free_port(), False, api_disabled=["ETHUSDT"], fee=(0.0002, 1e-05)
    ) as base:
        assert call(base, "/api/v3/defaultSymbols")[1]["data"] == ["BTCUSDT", "SOLUSDT"]
        (eth,) = call(base, "/api/v3/exchangeInfo?symbol=ETHUSDT")[1]["symbols"]
        assert eth["isSpotTradingAllowed"] is False
        assert (eth["makerCommission"], eth["takerCommission"]) == ("0.0002", "0.00001")
