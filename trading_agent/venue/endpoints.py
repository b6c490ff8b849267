"""The MEXC spot v3 (and empty contract) public endpoints, independent of the HTTP server.

:class:`Venue` answers one request at a time: ``venue.handle(endpoint, query)`` returns the
JSON text of the answer or raises :class:`trading_agent.venue.errors.VenueError`. The HTTP layer
(:mod:`trading_agent.venue.server`) only routes paths, applies faults and writes responses.

Timestamps in answers are *served* times (dataset time + the replay offset); request times
(``startTime``/``endTime``) are served times too and are shifted back before lookup.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from trading_agent.venue import book_model, market_view, trade_model
from trading_agent.venue.book_model import Book, BookModelParams
from trading_agent.venue.clock import VenueClock
from trading_agent.venue.data import Candles, MarketData, SymbolData
from trading_agent.venue.errors import (
    VenueError,
    invalid_param,
    invalid_symbol,
    missing_param,
    orders_not_placed,
    symbol_not_api_tradable,
)
from trading_agent.venue.faults import FaultBoard
from trading_agent.venue.intervals import DAY_MS, MEXC_TO_TIMEFRAME, TIMEFRAME_TO_MEXC, floor_time
from trading_agent.venue.orders import parse_order
from trading_agent.venue.params import Query, int_param, limit_param
from trading_agent.venue.signed_requests import check_signed
from trading_agent.venue.trading_rules import TradingRules, fee_text

KLINES_DEFAULT_LIMIT = 500
KLINES_MAX_LIMIT = 1000
DEPTH_DEFAULT_LIMIT = 100
DEPTH_MAX_LIMIT = 5000
TRADES_DEFAULT_LIMIT = 500
TRADES_MAX_LIMIT = 1000
#: Smallest order value in the quote asset, served as ``quoteAmountPrecision``.
MIN_NOTIONAL = "1"
#: Largest order value in the quote asset, served as ``maxQuoteAmount``.
MAX_QUOTE_AMOUNT = "2000000"
AVG_PRICE_MINUTES = 5


def _fmt(x: float, decimals: int) -> str:
    """Fixed-point text of ``x`` with ``decimals`` decimals (no exponent, no ``-0``)."""
    text = f"{x:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def _dumps(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"))


@dataclass(frozen=True)
class Endpoint:
    """One served path: its handler, the HTTP methods it takes, whether it is SIGNED."""

    handler: Callable[[Query], str]
    methods: tuple[str, ...] = ("GET", "HEAD")
    signed: bool = False


class Venue:
    """Serves the recorded market: static (as of the end) or replayed on the wall clock."""

    def __init__(
        self,
        data: MarketData,
        clock: VenueClock,
        faults: FaultBoard | None = None,
        book_params: BookModelParams | None = None,
        replay_start: dt.date | None = None,
        rules: TradingRules | None = None,
    ) -> None:
        self.data = data
        self.rules = rules or TradingRules()
        self.rules.check_symbols(data.symbols)
        self.clock = clock
        self.faults = faults or FaultBoard()
        self.book_params = book_params or BookModelParams()
        self.replay_start = replay_start
        self._rows: dict[tuple[str, str], list[str | None]] = {}
        self._books: OrderedDict[tuple, tuple[Book, int]] = OrderedDict()
        self._depth_text: OrderedDict[tuple, str] = OrderedDict()
        public = {
            "ping": self.ping,
            "time": self.time,
            "exchangeInfo": self.exchange_info,
            "defaultSymbols": self.default_symbols,
            "klines": self.klines,
            "depth": self.depth,
            "trades": self.trades,
            "aggTrades": self.agg_trades,
            "ticker/24hr": self.ticker_24hr,
            "ticker/price": self.ticker_price,
            "ticker/bookTicker": self.book_ticker,
            "avgPrice": self.avg_price,
            "contract/detail": self.contract_detail,
            "contract/ping": self.contract_ping,
        }
        self._endpoints: dict[str, Endpoint] = {k: Endpoint(h) for k, h in public.items()}
        self._endpoints["tradeFee"] = Endpoint(self.trade_fee, signed=True)
        self._endpoints["capital/config/getall"] = Endpoint(self.currencies, signed=True)
        self._endpoints["order"] = Endpoint(self.order, methods=("POST",), signed=True)
        self._endpoints["order/test"] = Endpoint(self.order_test, methods=("POST",), signed=True)

    # ------------------------------------------------------------------ plumbing

    @property
    def endpoints(self) -> tuple[str, ...]:
        """Names of the endpoints served (``klines``, ``ticker/24hr``, ``contract/detail``...)."""
        return tuple(self._endpoints)

    def methods(self, endpoint: str) -> tuple[str, ...]:
        """HTTP methods ``endpoint`` answers (``GET``/``HEAD``, or ``POST`` for orders)."""
        return self._endpoints[endpoint].methods

    def handle(self, endpoint: str, query: Query, api_key: str | None = None) -> str:
        """JSON text answering ``endpoint`` with ``query``; raises VenueError on bad input.

        ``api_key`` is the ``X-MEXC-APIKEY`` header, checked (with the timestamp and the
        presence of a signature) for SIGNED endpoints only.
        """
        spec = self._endpoints[endpoint]
        if spec.signed:
            check_signed(query, api_key, self.clock.now_ms())
        return spec.handler(query)

    def dataset_time(self, endpoint: str | None = None) -> int:
        """Dataset time D now, or the frozen D while a ``stale`` fault covers ``endpoint``."""
        stale = self.faults.active(endpoint).get("stale")
        if stale is not None and stale.frozen_dataset_ms is not None:
            return stale.frozen_dataset_ms
        return self.clock.dataset_time()

    def _optional_symbol(self, query: Query) -> SymbolData | None:
        """The pair named by ``symbol`` (None when absent); unknown names are errors."""
        name = query.get("symbol")
        if name is None or name == "":
            return None
        sym = self.data.symbols.get(name)
        if sym is None:
            raise invalid_symbol()
        return sym

    def _symbol(self, query: Query) -> SymbolData:
        """The pair named by the mandatory ``symbol`` parameter."""
        sym = self._optional_symbol(query)
        if sym is None:
            raise missing_param("symbol")
        return sym

    def _no_data(self, sym: SymbolData, d_ms: int) -> VenueError:
        when = dt.datetime.fromtimestamp(self.clock.to_served(d_ms) / 1000, tz=dt.UTC)
        return invalid_param(f"No recorded data for {sym.symbol} at {when.isoformat()}.")

    # ------------------------------------------------------------------ general

    def ping(self, query: Query) -> str:
        """``GET /api/v3/ping``: ``{}``."""
        return "{}"

    def time(self, query: Query) -> str:
        """``GET /api/v3/time``: the wall clock (served time), ``{"serverTime": ms}``."""
        return _dumps({"serverTime": self.clock.now_ms()})

    def exchange_info(self, query: Query) -> str:
        """``GET /api/v3/exchangeInfo[?symbol=X | ?symbols=X,Y]``: the recorded pairs."""
        names: list[str] | None = None
        if query.get("symbol"):
            names = [query["symbol"]]
        elif query.get("symbols"):
            names = [s for s in query["symbols"].split(",") if s]
        if names is None:
            chosen = list(self.data.symbols.values())
        else:
            if any(n not in self.data.symbols for n in names):
                raise invalid_symbol()
            chosen = [self.data.symbols[n] for n in names]
        return _dumps(
            {
                "timezone": "CST",
                "serverTime": self.clock.now_ms(),
                "rateLimits": [],
                "exchangeFilters": [],
                "symbols": [self._symbol_info(s) for s in chosen],
            }
        )

    def _symbol_info(self, sym: SymbolData) -> dict[str, object]:
        pd_, ad = sym.price_decimals, sym.amount_decimals
        return {
            "symbol": sym.symbol,
            "status": "1",
            "baseAsset": sym.base,
            "baseAssetPrecision": ad,
            "quoteAsset": sym.quote,
            "quotePrecision": pd_,
            "quoteAssetPrecision": pd_,
            "baseCommissionPrecision": ad,
            "quoteCommissionPrecision": pd_,
            "orderTypes": ["LIMIT", "MARKET", "LIMIT_MAKER"],
            "isSpotTradingAllowed": self.rules.api_tradable(sym.symbol),
            "isMarginTradingAllowed": False,
            "quoteAmountPrecision": MIN_NOTIONAL,
            "baseSizePrecision": _fmt(sym.lot, ad),
            "permissions": ["SPOT"],
            "filters": [],
            "maxQuoteAmount": MAX_QUOTE_AMOUNT,
            "makerCommission": fee_text(self.rules.maker_fee),
            "takerCommission": fee_text(self.rules.taker_fee),
            "quoteAmountPrecisionMarket": MIN_NOTIONAL,
            "maxQuoteAmountMarket": MAX_QUOTE_AMOUNT,
            "fullName": sym.base,
            "tradeSideType": 1,
        }

    def default_symbols(self, query: Query) -> str:
        """``GET /api/v3/defaultSymbols``: the symbols the API may trade (MEXC's shape)."""
        names = [s for s in self.data.symbols if self.rules.api_tradable(s)]
        return _dumps({"code": 200, "data": names, "msg": None})

    # ------------------------------------------------------------------ signed

    def trade_fee(self, query: Query) -> str:
        """``GET /api/v3/tradeFee?symbol=X`` (SIGNED): the account's fee ratios for X."""
        self._symbol(query)
        data = {
            "makerCommission": float(self.rules.maker_fee),
            "takerCommission": float(self.rules.taker_fee),
        }
        return _dumps({"data": data, "code": 0, "msg": "success", "timestamp": self.clock.now_ms()})

    def currencies(self, query: Query) -> str:
        """``GET /api/v3/capital/config/getall`` (SIGNED): the assets of the served pairs.

        ccxt asks for it in ``load_markets`` when keys are set. The venue has no wallets, so
        every coin lists no deposit or withdrawal network.
        """
        coins = sorted({a for s in self.data.symbols.values() for a in (s.base, s.quote)})
        return _dumps([{"coin": c, "name": c, "networkList": []} for c in coins])

    def _checked_order(self, query: Query) -> None:
        sym = self._symbol(query)
        if not self.rules.api_tradable(sym.symbol):
            raise symbol_not_api_tradable()
        parse_order(query)

    def order(self, query: Query) -> str:
        """``POST /api/v3/order`` (SIGNED): checked like MEXC, never placed (no accounts)."""
        self._checked_order(query)
        raise orders_not_placed()

    def order_test(self, query: Query) -> str:
        """``POST /api/v3/order/test`` (SIGNED): ``{}`` for a valid order MEXC would take."""
        self._checked_order(query)
        return "{}"

    # ------------------------------------------------------------------ klines

    def klines(self, query: Query) -> str:
        """``GET /api/v3/klines``: closed recorded candles plus the forming one (replay)."""
        sym = self._symbol(query)
        interval = query.get("interval")
        if not interval:
            raise missing_param("interval")
        timeframe = MEXC_TO_TIMEFRAME.get(interval)
        if timeframe is None:
            raise invalid_param(
                f"Invalid interval. {interval[:20]!r} is not one of {', '.join(MEXC_TO_TIMEFRAME)}."
            )
        c = sym.candles.get(timeframe)
        if c is None:
            served = ", ".join(TIMEFRAME_TO_MEXC[tf] for tf in sym.timeframes_fine_to_coarse)
            raise invalid_param(
                f"Interval {interval} is not recorded for {sym.symbol} in this venue "
                f"(recorded: {served})."
            )
        start = int_param(query, "startTime", 0)
        end = int_param(query, "endTime", 0)
        limit = limit_param(query, KLINES_DEFAULT_LIMIT, KLINES_MAX_LIMIT)
        d = self.dataset_time("klines")
        n_closed = c.closed_count(d)
        forming = market_view.forming_candle(sym, timeframe, d) if n_closed < len(c) else None
        n_available = n_closed + (1 if forming is not None else 0)
        i_start = None if start is None else c.count_before(self.clock.to_dataset(start))
        i_end = None if end is None else c.count_before(self.clock.to_dataset(end))
        i0, i1 = market_view.kline_range(n_available, i_start, i_end, limit)
        rows = self._kline_rows(sym, c, i0, min(i1, n_closed))
        if forming is not None and i0 <= n_closed < i1:
            rows.append(self._forming_row(sym, c, forming))
        return "[" + ",".join(rows) + "]"

    def _kline_rows(self, sym: SymbolData, c: Candles, i0: int, i1: int) -> list[str]:
        """Rendered closed candles ``[i0, i1)``, cached per (symbol, timeframe)."""
        if i1 <= i0:
            return []
        cache = self._rows.get((sym.symbol, c.timeframe))
        if cache is None:
            cache = [None] * len(c)
            self._rows[(sym.symbol, c.timeframe)] = cache
        pd_, ad = sym.price_decimals, sym.amount_decimals
        off, step = self.clock.offset_ms, c.step_ms
        out: list[str] = []
        for i in range(i0, i1):
            row = cache[i]
            if row is None:
                o, h, lo, cl, v = c.open[i], c.high[i], c.low[i], c.close[i], c.volume[i]
                t = int(c.open_time[i]) + off
                qv = v * (h + lo + cl) / 3.0
                row = (
                    f'[{t},"{o:.{pd_}f}","{h:.{pd_}f}","{lo:.{pd_}f}","{cl:.{pd_}f}",'
                    f'"{v:.{ad}f}",{t + step},"{qv:.{pd_}f}"]'
                )
                cache[i] = row
            out.append(row)
        return out

    def _forming_row(self, sym: SymbolData, c: Candles, f: market_view.FormingCandle) -> str:
        pd_, ad = sym.price_decimals, sym.amount_decimals
        t = self.clock.to_served(f.open_time)
        qv = f.volume * (f.high + f.low + f.close) / 3.0
        return (
            f'[{t},"{f.open:.{pd_}f}","{f.high:.{pd_}f}","{f.low:.{pd_}f}","{f.close:.{pd_}f}",'
            f'"{f.volume:.{ad}f}",{t + c.step_ms},"{qv:.{pd_}f}"]'
        )

    # ------------------------------------------------------------------ book

    def _book_key(self, sym: SymbolData, d: int, levels: int) -> tuple:
        """What the modelled book at D depends on: symbol, source candles, price, levels."""
        try:
            price, src = market_view.latest_information(sym, d)
        except market_view.NoDataAt:
            raise self._no_data(sym, d) from None
        return (sym.symbol, src.timeframe, src.closed_count(d), price, levels)

    def book(self, sym: SymbolData, d: int, levels: int) -> tuple[Book, int]:
        """Modelled book of ``levels`` levels a side at D, and its update id (cached)."""
        key = self._book_key(sym, d, levels)
        _, timeframe, b, price, _ = key
        src = sym.candles[timeframe]
        hit = self._books.get(key)
        if hit is not None:
            self._books.move_to_end(key)
            return hit
        sl = slice(max(0, b - self.book_params.lookback), b)
        flow = book_model.recent_flow(
            src.high[sl], src.low[sl], src.close[sl], src.volume[sl], src.step_ms
        )
        book = book_model.model_book(price, flow, sym.tick, sym.lot, levels, self.book_params)
        update_id = self.clock.to_served(floor_time(d, src.step_ms))
        self._books[key] = (book, update_id)
        if len(self._books) > 256:
            self._books.popitem(last=False)
        return book, update_id

    def _faulted_book(self, sym: SymbolData, book: Book, endpoint: str) -> Book:
        active = self.faults.active(endpoint)
        if "empty_book" in active:
            return book_model.empty_book()
        if "crossed_book" in active:
            return book_model.crossed_book(book, sym.tick)
        return book

    def depth(self, query: Query) -> str:
        """``GET /api/v3/depth``: the modelled book (see :mod:`trading_agent.venue.book_model`)."""
        sym = self._symbol(query)
        limit = limit_param(query, DEPTH_DEFAULT_LIMIT, DEPTH_MAX_LIMIT)
        d = self.dataset_time("depth")
        faulted = bool(self.faults.active("depth").keys() & {"empty_book", "crossed_book"})
        key = self._book_key(sym, d, limit)
        levels_text = None if faulted else self._depth_text.get(key)
        book, update_id = self.book(sym, d, limit)
        if levels_text is None:
            book = self._faulted_book(sym, book, "depth")
            pd_, ad = sym.price_decimals, sym.amount_decimals
            bids = ",".join(
                f'["{p:.{pd_}f}","{q:.{ad}f}"]'
                for p, q in zip(book.bid_price.tolist(), book.bid_qty.tolist(), strict=True)
            )
            asks = ",".join(
                f'["{p:.{pd_}f}","{q:.{ad}f}"]'
                for p, q in zip(book.ask_price.tolist(), book.ask_qty.tolist(), strict=True)
            )
            levels_text = f'"bids":[{bids}],"asks":[{asks}]'
            if not faulted:
                self._depth_text[key] = levels_text
                if len(self._depth_text) > 256:
                    self._depth_text.popitem(last=False)
        return f'{{"lastUpdateId":{update_id},{levels_text},"timestamp":{self.clock.to_served(d)}}}'

    def _top(self, sym: SymbolData, d: int, endpoint: str) -> dict[str, str | None]:
        book, _ = self.book(sym, d, 1)
        book = self._faulted_book(sym, book, endpoint)
        pd_, ad = sym.price_decimals, sym.amount_decimals
        if book.best_bid is None or book.best_ask is None:
            return {"bidPrice": None, "bidQty": None, "askPrice": None, "askQty": None}
        return {
            "bidPrice": _fmt(book.best_bid, pd_),
            "bidQty": _fmt(float(book.bid_qty[0]), ad),
            "askPrice": _fmt(book.best_ask, pd_),
            "askQty": _fmt(float(book.ask_qty[0]), ad),
        }

    def book_ticker(self, query: Query) -> str:
        """``GET /api/v3/ticker/bookTicker[?symbol=X]``: best bid/ask of the modelled book."""
        sym = self._optional_symbol(query)
        d = self.dataset_time("ticker/bookTicker")
        chosen = [sym] if sym is not None else list(self.data.symbols.values())
        out = [{"symbol": s.symbol, **self._top(s, d, "ticker/bookTicker")} for s in chosen]
        return _dumps(out[0] if sym is not None else out)

    # ------------------------------------------------------------------ tickers

    def _price(self, sym: SymbolData, d: int) -> float:
        try:
            return market_view.current_price(sym, d)
        except market_view.NoDataAt:
            raise self._no_data(sym, d) from None

    def _ticker(self, sym: SymbolData, d: int) -> dict[str, object]:
        self._price(sym, d)
        st = market_view.rolling_stats(sym, d, DAY_MS)
        pd_, ad = sym.price_decimals, sym.amount_decimals
        change = st.last - st.open
        pct = change / st.open if st.open else 0.0
        return {
            "symbol": sym.symbol,
            "priceChange": _fmt(change, pd_),
            "priceChangePercent": _fmt(pct, 8),
            "prevClosePrice": _fmt(st.prev_close, pd_),
            "lastPrice": _fmt(st.last, pd_),
            "lastQty": "",
            **self._top(sym, d, "ticker/24hr"),
            "openPrice": _fmt(st.open, pd_),
            "highPrice": _fmt(st.high, pd_),
            "lowPrice": _fmt(st.low, pd_),
            "volume": _fmt(st.volume, ad),
            "quoteVolume": _fmt(st.quote_volume, pd_),
            "openTime": self.clock.to_served(st.open_time),
            "closeTime": self.clock.to_served(d),
            "count": None,
        }

    def ticker_24hr(self, query: Query) -> str:
        """``GET /api/v3/ticker/24hr[?symbol=X]``: rolling 24h statistics as of D."""
        sym = self._optional_symbol(query)
        d = self.dataset_time("ticker/24hr")
        if sym is not None:
            return _dumps(self._ticker(sym, d))
        return _dumps([self._ticker(s, d) for s in self.data.symbols.values()])

    def ticker_price(self, query: Query) -> str:
        """``GET /api/v3/ticker/price[?symbol=X]``: the last price as of D."""
        sym = self._optional_symbol(query)
        d = self.dataset_time("ticker/price")
        chosen = [sym] if sym is not None else list(self.data.symbols.values())
        out = [
            {"symbol": s.symbol, "price": _fmt(self._price(s, d), s.price_decimals)} for s in chosen
        ]
        return _dumps(out[0] if sym is not None else out)

    def avg_price(self, query: Query) -> str:
        """``GET /api/v3/avgPrice``: volume-weighted price of the last 5 minutes as of D."""
        sym = self._symbol(query)
        d = self.dataset_time("avgPrice")
        price = self._price(sym, d)
        st = market_view.rolling_stats(sym, d, AVG_PRICE_MINUTES * 60_000)
        avg = st.quote_volume / st.volume if st.volume > 0 else price
        return _dumps({"mins": AVG_PRICE_MINUTES, "price": _fmt(avg, sym.price_decimals)})

    # ------------------------------------------------------------------ trades

    def tape(
        self, sym: SymbolData, d: int, limit: int, start: int | None = None, end: int | None = None
    ) -> trade_model.Tape:
        """Modelled prints known at D (see :mod:`trading_agent.venue.trade_model`), dataset times.

        Without ``start``: the last ``limit`` prints up to ``end`` (or D). With ``start``: the
        first ``limit`` prints from ``start`` on, up to ``end`` (or D), inclusive.
        """
        try:
            src = market_view.price_source(sym, d)
        except market_view.NoDataAt:
            raise self._no_data(sym, d) from None
        upto = d if end is None else min(d, end)
        b = src.closed_count(d)
        need = math.ceil(limit / trade_model.PRINTS_PER_CANDLE) + 2
        if start is None:
            hi = min(b, src.count_before(upto + 1))
            lo = max(0, hi - need)
        else:
            lo = max(0, src.count_before(start) - 1)
            hi = min(b, lo + need)
        forming = None
        f_open = floor_time(d, src.step_ms)
        i = src.index_of(f_open)
        if i is not None and hi == b and f_open <= upto:
            prev_vol = float(src.volume[i - 1]) if i > 0 else 0.0
            forming = (f_open, float(src.open[i]), prev_vol / trade_model.PRINTS_PER_CANDLE)
        sl = slice(lo, hi)
        tape = trade_model.model_tape(
            src.open_time[sl],
            src.open[sl],
            src.high[sl],
            src.low[sl],
            src.close[sl],
            src.volume[sl],
            src.step_ms,
            sym.lot,
            prev_close=float(src.close[lo - 1]) if lo > 0 else None,
            forming=forming,
        )
        t = tape.time
        mask = t <= upto
        if start is not None:
            mask &= t >= start
        idx = np.flatnonzero(mask)
        idx = idx[:limit] if start is not None else idx[-limit:]
        return trade_model.Tape(t[idx], tape.price[idx], tape.qty[idx], tape.buyer_maker[idx])

    def trades(self, query: Query) -> str:
        """``GET /api/v3/trades``: the last ``limit`` modelled prints as of D."""
        sym = self._symbol(query)
        limit = limit_param(query, TRADES_DEFAULT_LIMIT, TRADES_MAX_LIMIT)
        d = self.dataset_time("trades")
        tape = self.tape(sym, d, limit)
        pd_, ad, off = sym.price_decimals, sym.amount_decimals, self.clock.offset_ms
        out = [
            {
                "id": None,
                "price": f"{p:.{pd_}f}",
                "qty": f"{q:.{ad}f}",
                "quoteQty": f"{p * q:.{pd_}f}",
                "time": t + off,
                "isBuyerMaker": m,
                "isBestMatch": True,
                "tradeType": "ASK" if m else "BID",
            }
            for t, p, q, m in zip(
                tape.time.tolist(),
                tape.price.tolist(),
                tape.qty.tolist(),
                tape.buyer_maker.tolist(),
                strict=True,
            )
        ]
        return _dumps(out)

    def agg_trades(self, query: Query) -> str:
        """``GET /api/v3/aggTrades``: modelled prints, optionally in ``[startTime, endTime]``."""
        sym = self._symbol(query)
        start = int_param(query, "startTime", 0)
        end = int_param(query, "endTime", 0)
        limit = limit_param(query, TRADES_DEFAULT_LIMIT, TRADES_MAX_LIMIT)
        d = self.dataset_time("aggTrades")
        tape = self.tape(
            sym,
            d,
            limit,
            None if start is None else self.clock.to_dataset(start),
            None if end is None else self.clock.to_dataset(end),
        )
        pd_, ad, off = sym.price_decimals, sym.amount_decimals, self.clock.offset_ms
        out = [
            {
                "a": None,
                "f": None,
                "l": None,
                "p": f"{p:.{pd_}f}",
                "q": f"{q:.{ad}f}",
                "T": t + off,
                "m": m,
                "M": True,
            }
            for t, p, q, m in zip(
                tape.time.tolist(),
                tape.price.tolist(),
                tape.qty.tolist(),
                tape.buyer_maker.tolist(),
                strict=True,
            )
        ]
        return _dumps(out)

    # ------------------------------------------------------------------ contract

    def contract_detail(self, query: Query) -> str:
        """``GET /api/v1/contract/detail``: the venue lists no contracts."""
        if query.get("symbol"):
            return _dumps({"success": False, "code": 1001, "message": "contract not exists"})
        return _dumps({"success": True, "code": 0, "data": []})

    def contract_ping(self, query: Query) -> str:
        """``GET /api/v1/contract/ping``: the wall clock in MEXC's contract shape."""
        return _dumps({"success": True, "code": 0, "data": self.clock.now_ms()})

    # ------------------------------------------------------------------ state

    def state(self) -> dict[str, object]:
        """What ``GET /_venue/state`` answers: mode, clock, recording, rules, faults, model."""
        d = self.dataset_time()
        symbols = {}
        for s in self.data.symbols.values():
            symbols[s.symbol] = {
                "base": s.base,
                "quote": s.quote,
                "price_decimals": s.price_decimals,
                "amount_decimals": s.amount_decimals,
                "intervals": {
                    TIMEFRAME_TO_MEXC[tf]: {
                        "timeframe": tf,
                        "first_open_ms": s.candles[tf].first_open,
                        "last_open_ms": s.candles[tf].last_open,
                        "count": len(s.candles[tf]),
                    }
                    for tf in s.timeframes_fine_to_coarse
                },
            }

        def iso(ms: int) -> str:
            return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).isoformat()

        return {
            "mode": "replay" if self.clock.replay else "static",
            "offset_ms": self.clock.offset_ms,
            "offset_days": self.clock.offset_ms // DAY_MS,
            "replay_start": self.replay_start.isoformat() if self.replay_start else None,
            "dataset_time_ms": d,
            "dataset_time": iso(d),
            "served_time_ms": self.clock.to_served(d),
            "server_time_ms": self.clock.now_ms(),
            "dataset_first_ms": self.data.first_ms,
            "dataset_end_ms": self.data.end_ms,
            "exhausted": d >= self.data.end_ms,
            "symbols": symbols,
            "api_disabled": sorted(self.rules.api_disabled),
            "fees": {
                "maker": fee_text(self.rules.maker_fee),
                "taker": fee_text(self.rules.taker_fee),
            },
            "faults": self.faults.describe(),
            "book_model": asdict(self.book_params),
        }
