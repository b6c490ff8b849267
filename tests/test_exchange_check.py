"""The start-up exchange check: API-tradable pairs and fees, live refusal, dry-run warning.

Unit tests run against a FAKE exchange object shaped like ccxt's MEXC client (markets with
MEXC's ``exchangeInfo`` fields, ``spotPublicGetDefaultSymbols``, ``fetch_trading_fee``);
tests/test_exchange_check_venue.py runs the same check against the local venue.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import ccxt
import pytest
from freqtrade.enums import RunMode

from tests.conftest import REPO_ROOT
from trading_agent.strategy import exchange_check
from trading_agent.strategy.exchange_check import (
    WHAT_TO_DO,
    ExchangeCheckError,
    check_exchange,
    exchange_client,
)

PAIRS = ["BTC/USDC", "ETH/USDC"]


def market(symbol: str, allowed: bool = True, **info: Any) -> dict[str, Any]:
    """A ccxt market as ccxt's MEXC client builds it from exchangeInfo (FAKE values)."""
    base, quote = symbol.split("/")
    raw = {
        "symbol": base + quote,
        "status": "1",
        "isSpotTradingAllowed": allowed,
        "permissions": ["SPOT"],
        "makerCommission": "0",
        "takerCommission": "0.0005",
        **info,
    }
    return {
        "id": base + quote,
        "symbol": symbol,
        "active": allowed,
        "maker": 0.0,
        "taker": 0.0005,
        "info": raw,
    }


class FakeMexc:
    """Answers like ccxt's MEXC client would; records what was asked."""

    id = "mexc"

    def __init__(
        self,
        markets: dict[str, dict] | None = None,
        api_symbols: list[str] | None = None,
        keys: bool = False,
        fail: set[str] | None = None,
    ) -> None:
        self.markets = markets if markets is not None else {p: market(p) for p in PAIRS}
        self.api_symbols = (
            api_symbols if api_symbols is not None else [m["id"] for m in self.markets.values()]
        )
        self.apiKey = "key" if keys else ""
        self.secret = "secret" if keys else ""
        self.fail = fail or set()
        self.asked: list[str] = []

    def load_markets(self) -> dict[str, dict]:
        self.asked.append("load_markets")
        if "markets" in self.fail:
            raise ccxt.NetworkError("mexc GET /api/v3/exchangeInfo: timed out")
        return self.markets

    def spotPublicGetDefaultSymbols(self) -> dict[str, Any]:  # ccxt's implicit method name
        self.asked.append("defaultSymbols")
        if "symbols" in self.fail:
            raise ccxt.ExchangeError("mexc GET /api/v3/defaultSymbols 404 Not Found")
        return {"code": 200, "data": self.api_symbols, "msg": None}

    def fetch_trading_fee(self, symbol: str) -> dict[str, Any]:
        self.asked.append(f"fee {symbol}")
        if "fee" in self.fail:
            raise ccxt.AuthenticationError('mexc {"code":700002,"msg":"Signature invalid"}')
        return {"symbol": symbol, "maker": 0.0, "taker": 0.0002}


class Notes:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str | None]] = []

    def __call__(self, message: str, key: str | None = None) -> None:
        self.sent.append((message, key))


def config(**exchange: Any) -> dict[str, Any]:
    return {"exchange": {"name": "mexc", "pair_whitelist": list(PAIRS), **exchange}}


def run(client: FakeMexc, runmode: str, notes: Notes | None = None):
    return check_exchange(config(), runmode, notes or Notes(), client_factory=lambda _: client)


def test_tradable_pairs_pass_quietly_with_the_markets_fee(caplog) -> None:
    notes = Notes()
    with caplog.at_level(logging.INFO):
        checks = run(FakeMexc(), "live", notes)
    assert [c.pair for c in checks] == PAIRS and all(c.tradable for c in checks)
    assert {(c.maker, c.taker, c.fee_source) for c in checks} == {(0.0, 0.0005, "market")}
    assert "BTC/USDC tradable through the API; maker 0.000%, taker 0.050% (market)" in (caplog.text)
    assert notes.sent == [] and "EXCHANGE CHECK" not in caplog.text


def test_with_keys_the_accounts_own_fee_is_used() -> None:
    client = FakeMexc(keys=True)
    checks = run(client, "live")
    assert {(c.maker, c.taker, c.fee_source) for c in checks} == {(0.0, 0.0002, "account")}
    assert "fee BTC/USDC" in client.asked and "fee ETH/USDC" in client.asked


def test_an_account_fee_that_fails_falls_back_to_the_market_fee(caplog) -> None:
    checks = run(FakeMexc(keys=True, fail={"fee"}), "live")
    assert {(c.taker, c.fee_source) for c in checks} == {(0.0005, "market")}
    assert all("Signature invalid" in c.notes[0] for c in checks)
    assert "account fee unavailable" in caplog.text


def test_live_refuses_a_pair_the_api_may_not_trade_and_says_what_to_do() -> None:
    client = FakeMexc(
        markets={"BTC/USDC": market("BTC/USDC", allowed=False), "ETH/USDC": market("ETH/USDC")},
        api_symbols=["ETHUSDC"],
    )
    notes = Notes()
    with pytest.raises(ExchangeCheckError) as refused:
        run(client, "live", notes)
    text = str(refused.value)
    assert "live trading refused" in text and "BTC/USDC" in text and "ETH/USDC" not in text
    assert "isSpotTradingAllowed: false" in text
    assert "BTCUSDC is not in GET /api/v3/defaultSymbols" in text
    assert WHAT_TO_DO in text and "pair_whitelist" in text and "\n" not in text
    assert notes.sent == []


def test_dry_run_warns_loudly_and_notifies_once(caplog) -> None:
    client = FakeMexc(api_symbols=["ETHUSDC"])  # listed as tradable, but not for the API
    notes = Notes()
    with caplog.at_level(logging.WARNING):
        checks = run(client, "dry_run", notes)
    assert [c.tradable for c in checks] == [False, True]
    assert "EXCHANGE CHECK" in caplog.text and "live trading would be refused" in caplog.text
    assert len(notes.sent) == 1
    message, key = notes.sent[0]
    assert key == exchange_check.NOTIFY_KEY
    assert "BTC/USDC" in message and "BTCUSDC is not in GET /api/v3/defaultSymbols" in message


@pytest.mark.parametrize(
    ("info", "words"),
    [
        ({"permissions": ["MARGIN"]}, "hold no SPOT"),
        ({"status": "2"}, "status 2"),
        ({"isSpotTradingAllowed": "false"}, "isSpotTradingAllowed: false"),
    ],
)
def test_each_exchange_info_flag_counts(info: dict, words: str) -> None:
    client = FakeMexc(markets={p: market(p, **info) for p in PAIRS})
    with pytest.raises(ExchangeCheckError, match=words):
        run(client, "live")


@pytest.mark.parametrize(
    ("client", "words"),
    [
        (FakeMexc(fail={"symbols"}), "could not read GET /api/v3/defaultSymbols"),
        (FakeMexc(fail={"markets"}), "markets could not be loaded"),
        (FakeMexc(markets={"ETH/USDC": market("ETH/USDC")}), "BTC/USDC is not listed on mexc"),
    ],
)
def test_what_cannot_be_confirmed_is_refused_live(client: FakeMexc, words: str) -> None:
    with pytest.raises(ExchangeCheckError, match=words):
        run(client, "live")
    assert not all(c.tradable for c in run(client, "dry_run"))  # and only warned in dry-run


def test_the_config_hard_codes_no_fee() -> None:
    """Freqtrade then takes each pair's fee from the exchange (the market, or the account)."""
    config = json.loads((REPO_ROOT / "user_data" / "config.json").read_text())
    assert "fee" not in config


def test_no_configured_exchange_is_nothing_to_check() -> None:
    assert check_exchange({"exchange": {"pair_whitelist": PAIRS}}, "live", Notes()) == []


def test_the_client_is_built_like_freqtrades_with_the_overlay_urls() -> None:
    urls = {"api": {"spot": {"public": "http://127.0.0.1:1", "private": "http://127.0.0.1:1"}}}
    client = exchange_client(
        config(key="k", secret="s", ccxt_config={"urls": urls}, ccxt_sync_config={"timeout": 7})
    )
    assert isinstance(client, ccxt.mexc)
    assert client.apiKey == "k" and client.secret == "s" and client.timeout == 7
    assert client.urls["api"]["spot"]["public"] == "http://127.0.0.1:1"
    assert exchange_client({"exchange": {}}) is None
    with pytest.raises(ExchangeCheckError, match="nosuchexchange"):
        exchange_client(config(name="nosuchexchange"))


def test_bot_start_runs_the_check_in_trade_modes_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """AgentStrategy.bot_start: a live start stops, a dry-run start warns, a backtest skips."""
    from tests.test_strategies import FlashStrategy, make

    refusing = FakeMexc(api_symbols=[])
    monkeypatch.setattr(exchange_check, "exchange_client", lambda _: refusing)
    for runmode in (RunMode.BACKTEST, RunMode.HYPEROPT):
        make(FlashStrategy, runmode)  # never asks the exchange
    assert refusing.asked == []
    with pytest.raises(ExchangeCheckError, match="BTC/USDT"):
        make(FlashStrategy, RunMode.LIVE)
    strategy = make(FlashStrategy, RunMode.DRY_RUN)
    assert any("Exchange check" in m for m in strategy.dp.sent)
