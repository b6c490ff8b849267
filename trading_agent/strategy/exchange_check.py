"""At start-up (dry-run and live): can the exchange's API trade each whitelisted pair, at what fee?

MEXC has marked major pairs as not tradable through the API for long stretches: the symbol
stays listed, but ``exchangeInfo`` says ``isSpotTradingAllowed: false`` (ccxt then reports the
market inactive, and Freqtrade quietly drops it from the whitelist) and orders are refused with
code 10007 "symbol not support api". ``GET /api/v3/defaultSymbols`` lists the symbols the API
may trade. Fees change too (2025: 0 % maker and 0.05 % taker on most spot pairs, a few at zero).

:func:`check_exchange` asks the exchange itself, with ccxt's public API and a client of its own
built from the config (so the offline overlay's venue answers in tests): per pair the market's
``isSpotTradingAllowed``, ``permissions`` and ``status``, membership of ``defaultSymbols``
(ccxt's implicit ``spotPublicGetDefaultSymbols``), and the fee: the account's own
(``fetch_trading_fee``) where API keys are set, else the market's. In live trading a pair the
API cannot trade (or that cannot be confirmed) stops the bot with an error naming it and what
to do; in dry-run the same findings give a loud warning and one notification.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import ccxt

from trading_agent.safe_text import clean

logger = logging.getLogger(__name__)

#: What the user can do about a pair the API cannot trade.
WHAT_TO_DO = (
    "remove it from exchange.pair_whitelist, or trade a pair listed by the exchange's "
    "GET /api/v3/defaultSymbols (MEXC's API-tradable symbols), or trade it on the web site"
)
#: Notification key: one notification per check.
NOTIFY_KEY = "exchange-check"


class ExchangeCheckError(ValueError):
    """Live trading refused: a whitelisted pair cannot be traded through the exchange's API."""


@dataclass(frozen=True)
class PairCheck:
    """What the exchange says about one whitelisted pair."""

    pair: str
    problems: tuple[str, ...] = ()  # why the API cannot (or may not) trade it; empty: it can
    maker: float | None = None
    taker: float | None = None
    fee_source: str = "unknown"  # "account" (fetch_trading_fee) or "market" (exchangeInfo)
    notes: tuple[str, ...] = ()  # things worth a log line, not a refusal

    @property
    def tradable(self) -> bool:
        """True when nothing stands in the way of trading the pair through the API."""
        return not self.problems

    def fee_text(self) -> str:
        """``maker 0.000%, taker 0.050% (market)``, or what is unknown."""
        if self.maker is None or self.taker is None:
            return "fee unknown"
        return f"maker {self.maker:.3%}, taker {self.taker:.3%} ({self.fee_source})"


def exchange_client(config: Mapping[str, Any]) -> ccxt.Exchange | None:
    """A synchronous ccxt client of the configured exchange (None when none is configured).

    Built as Freqtrade builds its own: the exchange's name, ``key``/``secret`` (from
    ``FREQTRADE__EXCHANGE__KEY`` / ``__SECRET``), then ``ccxt_config`` and
    ``ccxt_sync_config`` on top, which is where the offline overlay points the URLs at the
    local venue.
    """
    exchange = config.get("exchange") or {}
    name = str(exchange.get("name") or "").lower()
    if not name:
        return None
    if not hasattr(ccxt, name):
        raise ExchangeCheckError(f"exchange.name {name!r} is not an exchange ccxt knows")
    options: dict[str, Any] = {"enableRateLimit": True}
    if exchange.get("key"):
        options["apiKey"] = exchange["key"]
    if exchange.get("secret"):
        options["secret"] = exchange["secret"]
    options.update(exchange.get("ccxt_config") or {})
    options.update(exchange.get("ccxt_sync_config") or {})
    return getattr(ccxt, name)(options)


def api_tradable_symbols(client: ccxt.Exchange) -> frozenset[str] | None:
    """MEXC's ``GET /api/v3/defaultSymbols`` as a set of symbol ids (None: no such endpoint)."""
    method = getattr(client, "spotPublicGetDefaultSymbols", None)
    if method is None:
        return None
    answer = method()
    data = answer.get("data") if isinstance(answer, Mapping) else None
    if not isinstance(data, list):
        raise ValueError(f"defaultSymbols answered without a symbol list: {clean(str(answer))}")
    return frozenset(str(s) for s in data)


def market_problems(market: Mapping[str, Any]) -> list[str]:
    """Why the market's own ``exchangeInfo`` entry forbids trading it through the API."""
    info = market.get("info") or {}
    problems = []
    if info.get("isSpotTradingAllowed") in (False, "false", "False"):
        problems.append("exchangeInfo says isSpotTradingAllowed: false")
    permissions = info.get("permissions")
    if isinstance(permissions, list) and permissions and "SPOT" not in permissions:
        problems.append(f"exchangeInfo permissions {permissions} hold no SPOT")
    status = info.get("status")
    if status is not None and str(status) != "1":
        problems.append(f"exchangeInfo status {clean(str(status))} (1 is trading)")
    return problems


def check_pair(
    client: ccxt.Exchange,
    pair: str,
    markets: Mapping[str, Mapping[str, Any]],
    api_symbols: frozenset[str] | None,
    symbols_error: str | None,
) -> PairCheck:
    """Check one pair against the loaded ``markets`` and the API-tradable ``api_symbols``."""
    market = markets.get(pair)
    if market is None:
        return PairCheck(pair, (f"{pair} is not listed on {client.id}",))
    problems = market_problems(market)
    symbol = str(market.get("id") or "")
    if api_symbols is not None and symbol not in api_symbols:
        problems.append(f"{symbol} is not in GET /api/v3/defaultSymbols")
    elif symbols_error is not None:
        problems.append(f"could not read GET /api/v3/defaultSymbols ({symbols_error})")
    notes: list[str] = []
    maker, taker, source = market.get("maker"), market.get("taker"), "market"
    if client.apiKey and client.secret:
        try:
            fee = client.fetch_trading_fee(pair)
            maker, taker, source = fee.get("maker"), fee.get("taker"), "account"
        except Exception as exc:  # the market's fee still says something
            notes.append(f"account fee unavailable ({clean(str(exc), limit=200)})")
    return PairCheck(
        pair,
        tuple(problems),
        _ratio(maker),
        _ratio(taker),
        source,
        tuple(notes),
    )


def _ratio(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def check_pairs(client: ccxt.Exchange, pairs: Iterable[str]) -> list[PairCheck]:
    """Load the markets and check every pair; a market load that fails is each pair's problem."""
    pairs = list(pairs)
    try:
        markets = client.load_markets()
    except Exception as exc:
        reason = f"markets could not be loaded ({clean(str(exc), limit=200)})"
        return [PairCheck(pair, (reason,)) for pair in pairs]
    symbols_error = None
    try:
        api_symbols = api_tradable_symbols(client)
    except Exception as exc:
        api_symbols, symbols_error = None, clean(str(exc), limit=200)
    return [check_pair(client, pair, markets, api_symbols, symbols_error) for pair in pairs]


def summary(checks: Sequence[PairCheck]) -> str:
    """One line for the pairs the API cannot trade, with what to do."""
    bad = [c for c in checks if not c.tradable]
    named = "; ".join(f"{c.pair}: {', '.join(c.problems)}" for c in bad)
    return f"not tradable through the exchange's API: {named}. What to do: {WHAT_TO_DO}"


def check_exchange(
    config: Mapping[str, Any],
    runmode: str,
    notify: Callable[..., None],
    client_factory: Callable[[Mapping[str, Any]], ccxt.Exchange | None] | None = None,
) -> list[PairCheck]:
    """Check every whitelisted pair at start-up; refuse live trading on a problem.

    ``runmode`` ``live``: raises :class:`ExchangeCheckError` naming each pair the API cannot
    trade (or whose state could not be confirmed) and what to do. ``dry_run``: logs a loud
    warning and sends one notification instead. Every pair's fee is logged either way.
    Returns the checks (empty when no exchange is configured). ``client_factory`` builds the
    ccxt client (default :func:`exchange_client`).
    """
    client = (client_factory or exchange_client)(config)
    if client is None:
        logger.info("exchange check: no exchange configured, nothing to check")
        return []
    pairs = list((config.get("exchange") or {}).get("pair_whitelist") or [])
    checks = check_pairs(client, pairs)
    for check in checks:
        state = "tradable through the API" if check.tradable else "NOT tradable through the API"
        level = logging.INFO if check.tradable else logging.WARNING
        logger.log(level, "exchange check: %s %s; %s", check.pair, state, check.fee_text())
        for note in check.notes:
            logger.warning("exchange check: %s: %s", check.pair, note)
    if all(c.tradable for c in checks):
        return checks
    message = summary(checks)
    if runmode == "live":
        raise ExchangeCheckError(f"live trading refused: {message}")
    logger.warning("!" * 20 + " EXCHANGE CHECK " + "!" * 20)
    logger.warning("dry-run goes on, live trading would be refused: %s", message)
    notify(f"Exchange check: {message}", key=NOTIFY_KEY)
    return checks
