"""The thin adapter from Freqtrade's strategy callbacks to the plugin hooks.

:class:`AgentStrategy` is the base of every Trading-Agent strategy. It owns no trading
logic of its own beyond enforcing the hard risk limits; it builds the plugin manager
lazily (hyperopt pickles strategies), forwards each callback to the hooks, and makes the
failure policy explicit: Freqtrade's callback wrapper would approve an entry or keep the
proposed stake when a callback raises, so every callback here catches its own errors and
fails closed (no entry, no stake) or neutral (stop-loss and exits unchanged).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from freqtrade.exchange import timeframe_to_seconds
from freqtrade.persistence import Trade
from freqtrade.strategy import IStrategy, stoploss_from_absolute
from pandas import DataFrame

from trading_agent.candles import AnalyzedCandles, closed_rows, ticks_of
from trading_agent.hookspecs import BACKTEST_RUNMODES, LIVE_RUNMODES
from trading_agent.manager import AgentPlugins, CombinedRisk, with_plugin_defaults
from trading_agent.payloads import TradeSnapshot
from trading_agent.safe_text import clean, markdown_escape
from trading_agent.strategy.exchange_check import check_exchange
from trading_agent.strategy.freshness import Change, FreshnessWatch
from trading_agent.strategy.narration import Rule, candle_line, startup_lines
from trading_agent.strategy.risk import (
    RiskLimits,
    atr_stop_rate,
    clamp_stake,
    daily_loss_exceeded,
    load_risk_limits,
    tighten_stop_rate,
)

logger = logging.getLogger(__name__)
#: The logger of the start-up and per-candle lines (dry-run and live), to filter them by name.
narration_logger = logging.getLogger("trading_agent.narration")

#: Reason of the pair locks held while a pair's market data is stale.
STALE_LOCK_REASON = "trading_agent: market data stale"
#: Longest notification text (longer ones are cut, see :func:`trading_agent.safe_text.clean`).
NOTIFY_LIMIT = 1000
#: JWT secrets that ship in Freqtrade's templates and schema: anyone could forge a login.
PUBLIC_JWT_SECRETS = frozenset(
    {"super-secret", "somethingrandom", "somethingRandomSomethingRandom123"}
)


def check_api_secrets(config: Mapping[str, Any]) -> None:
    """Refuse to run a REST API whose login is empty or whose JWT secret is public.

    Freqtrade only warns; a bot trading real money must not. The error names the
    environment variables to set (secrets never live in the config files).
    """
    api = config.get("api_server") or {}
    if not api.get("enabled"):
        return
    missing = []
    if not api.get("username"):
        missing.append("FREQTRADE__API_SERVER__USERNAME")
    if not api.get("password"):
        missing.append("FREQTRADE__API_SERVER__PASSWORD")
    if api.get("jwt_secret_key", "super-secret") in PUBLIC_JWT_SECRETS:
        missing.append("FREQTRADE__API_SERVER__JWT_SECRET_KEY")
    if missing:
        raise ValueError(
            "the REST API is enabled but its credentials are not set: set "
            + ", ".join(missing)
            + " (or disable api_server)"
        )


def own_limits(limits: RiskLimits, max_position_share: float | None) -> RiskLimits:
    """``limits`` with the position cap lowered to ``max_position_share`` (never raised)."""
    if max_position_share is None or max_position_share >= limits.max_position_ratio:
        return limits
    if not (math.isfinite(max_position_share) and max_position_share > 0):
        raise ValueError(f"max_position_share must be in (0, 1], got {max_position_share!r}")
    return limits.model_copy(update={"max_position_ratio": float(max_position_share)})


def stored_trades(**filters: Any) -> list[Any]:
    """Freqtrade's trades matching ``filters``, or none where no trade store exists.

    ``plot-dataframe`` and other analysis commands run the strategy without opening
    the trade database; there are no trades there, not an error.
    """
    if Trade.use_db and not hasattr(Trade, "session"):
        return []
    return Trade.get_trades_proxy(**filters)


def current_stop(trade: Any) -> float | None:
    """The stop price Freqtrade holds for ``trade`` (``None`` before it sets one).

    Freqtrade keeps it on the trade (in the database in dry-run and live) and only moves
    it up for a long, so it is the memory that keeps a stop from loosening. Reading it
    costs nothing, where Freqtrade's backtest custom-data store scans every record ever
    written on each read.
    """
    value = trade.stop_loss
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) and value > 0 else None


def trade_snapshot(trade: Any, close_rate: float | None = None) -> TradeSnapshot:
    """A Freqtrade ``Trade``/``LocalTrade`` as a plain :class:`TradeSnapshot`.

    ``close_rate`` gives the profit of a trade whose exit just filled but whose
    close fields are not yet set (backtesting fills before it closes the trade).
    """
    profit_ratio = trade.close_profit
    profit_abs = trade.close_profit_abs
    if close_rate is not None and profit_ratio is None:
        profit_ratio = trade.calc_profit_ratio(close_rate)
        profit_abs = trade.calc_profit(close_rate)
    return TradeSnapshot(
        trade_id=int(trade.id or 0),
        pair=trade.pair,
        is_short=bool(trade.is_short),
        is_open=bool(trade.is_open) and close_rate is None,
        open_date=trade.open_date_utc,
        open_rate=float(trade.open_rate),
        amount=float(trade.amount),
        stake_amount=float(trade.stake_amount),
        close_date=trade.close_date_utc if trade.close_date else None,
        close_rate=close_rate if close_rate is not None else trade.close_rate,
        profit_ratio=profit_ratio,
        profit_abs=profit_abs,
        enter_tag=trade.enter_tag,
        exit_reason=trade.exit_reason,
    )


class AgentStrategy(IStrategy):
    """Base strategy: Freqtrade callbacks mapped onto the Trading-Agent plugin hooks."""

    INTERFACE_VERSION = 3
    can_short = False
    timeframe = "5m"
    process_only_new_candles = True
    use_custom_stoploss = True
    # Seed defaults (overridden by the risk limits at bot start): 2 % stop, 5 % take-profit.
    stoploss = -0.02
    minimal_roi = {"0": 0.05}
    trailing_stop = False
    #: Levels of the live order book fetched for the entry check (live and dry-run only).
    orderbook_depth = 50
    #: Smallest interval between two notifications with the same key.
    notify_interval = timedelta(minutes=5)
    #: Defaults for plugin settings that suit this strategy (e.g. the overseer's drawdown
    #: tiers for a strategy that holds most of the account); the config's values win. The
    #: hard risk limits come from the config only.
    plugin_defaults: ClassVar[dict[str, dict[str, Any]]] = {}
    #: The largest share of account equity one position of this strategy may take, within
    #: the config's ``max_position_ratio`` (``None``: the config's).
    max_position_share: ClassVar[float | None] = None
    #: Smallest interval between two narration lines of one pair (dry-run and live).
    narration_interval = timedelta(seconds=60)
    #: Extra ``(label, column)`` values each narration line shows.
    narration_columns: ClassVar[tuple[tuple[str, str], ...]] = ()
    #: The column with the share of equity the strategy aims to hold (allocation strategies),
    #: shown on the narration line instead of the risk level.
    narration_target: ClassVar[str | None] = None

    _agent: AgentPlugins | None = None
    _risk: RiskLimits | None = None

    # -- lifecycle -----------------------------------------------------------------------

    def __init__(self, config: dict[str, Any]) -> None:
        """Refuse a dry-run or live start whose REST API login is unset, before anything runs.

        Freqtrade builds the strategy before it starts its API server, so this check comes
        before the server could answer a single request (see :func:`check_api_secrets`).
        """
        super().__init__(config)
        if self.runmode in LIVE_RUNMODES:
            check_api_secrets(self.config)

    def __getstate__(self) -> dict[str, Any]:
        """Drop the plugin manager (threads, clients) when hyperopt pickles the strategy."""
        state = self.__dict__.copy()
        state.pop("_agent", None)
        state.pop("_notified", None)
        state.pop("_notify_lock", None)
        state.pop("_candles", None)
        state.pop("_kept_frames", None)
        state.pop("_freshness", None)
        return state

    @property
    def runmode(self) -> str:
        """Freqtrade's run mode value (``dry_run``, ``backtest``, ...)."""
        mode = self.config.get("runmode")
        if mode is None and getattr(self, "dp", None) is not None:
            mode = self.dp.runmode
        return getattr(mode, "value", mode) or "other"

    @property
    def risk_limits(self) -> RiskLimits:
        """The validated ``trading_agent.risk`` block, tightened to the strategy's own
        ``max_position_share`` where it sets one (never widened)."""
        if self._risk is None:
            self._risk = own_limits(load_risk_limits(self.config), self.max_position_share)
        return self._risk

    @property
    def agent(self) -> AgentPlugins:
        """The loaded plugins; built and started on first use (e.g. in a hyperopt worker)."""
        if self._agent is None:
            config = with_plugin_defaults(self.config, self.plugin_defaults)
            agent = AgentPlugins.from_config(config)
            self._risk = own_limits(load_risk_limits(self.config), self.max_position_share)
            agent.bot_start(config, self.runmode, self.notify)
            self._agent = agent
        return self._agent

    def bot_start(self, **kwargs: Any) -> None:
        """Validate plugin settings and start every plugin; a bad config stops the bot.

        In dry-run and live, first check that the exchange's API trades every whitelisted
        pair and log its fee (:func:`trading_agent.strategy.exchange_check.check_exchange`):
        live trading stops on a pair it cannot trade, dry-run warns and notifies.
        """
        if self.runmode in LIVE_RUNMODES:
            check_exchange(self.config, self.runmode, self.notify)
        _ = self.agent
        self.stoploss = max(self.stoploss, self.risk_limits.stoploss)
        logger.info("Trading-Agent plugins: %s", ", ".join(self.agent.names) or "none")
        if self.runmode in LIVE_RUNMODES:
            for line in startup_lines(
                type(self).__name__,
                self.timeframe,
                self.runmode,
                self._whitelist(),
                [(name, plugin_mode(self.agent, name)) for name in self.agent.names],
                self.config.get("api_server"),
                bool(self.config.get("force_entry_enable")),
                self.narration_interval.total_seconds(),
            ):
                narration_logger.info(line)

    def ft_bot_cleanup(self) -> None:
        """Freqtrade's shutdown callback: stop the plugins too."""
        super().ft_bot_cleanup()
        if self._agent is not None:
            self._agent.bot_stop()

    def notify(self, message: str, key: str | None = None) -> None:
        """Send a user notification (Telegram, FreqUI, webhooks), rate-limited per key.

        The text is made safe first (one line, no invisible characters, links neutralised,
        at most :data:`NOTIFY_LIMIT` characters; :func:`trading_agent.safe_text.clean`) and
        Markdown-escaped for Telegram, which Freqtrade sends strategy messages as. Freqtrade
        only delivers strategy messages in dry-run and live. Plugins may call this from their
        own worker threads, so the rate-limit check takes a lock.
        """
        text = clean(message, limit=NOTIFY_LIMIT)
        key = key or text
        lock: threading.Lock = self.__dict__.setdefault("_notify_lock", threading.Lock())
        with lock:
            now = time.monotonic()
            notified: dict[str, float] = self.__dict__.setdefault("_notified", {})
            last = notified.get(key)
            if last is not None and now - last < self.notify_interval.total_seconds():
                return
            notified[key] = now
        logger.info("notify: %s", text)
        if getattr(self, "dp", None) is not None:
            self.dp.send_msg(markdown_escape(text), always_send=True)

    # -- helpers ---------------------------------------------------------------------------

    def add_plugin_indicators(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        """Join every plugin's indicator columns onto ``dataframe``."""
        return self.agent.add_indicators(dataframe, metadata["pair"], self.timeframe, self.runmode)

    def keep_analysed(self, dataframe: DataFrame, metadata: dict) -> DataFrame:
        """Remember the fully analysed frame of a pair for the per-candle work; returns it.

        Call it on the frame ``populate_exit_trend`` returns. In backtests and hyperopt,
        Freqtrade keeps that very frame for the whole run and hands callbacks a fresh slice
        of it on every call; with the frame kept, ``bot_loop`` and the callbacks read the
        rows known at their ``current_time`` instead (see :meth:`analyzed_candles`). Does
        nothing in other run modes.
        """
        if self.runmode in BACKTEST_RUNMODES and "date" in dataframe.columns:
            kept: dict[str, _KeptFrame] = self.__dict__.setdefault("_kept_frames", {})
            kept[metadata["pair"]] = _KeptFrame(
                dataframe,
                ticks_of(dataframe["date"]),
                timedelta(seconds=timeframe_to_seconds(self.timeframe)),
            )
        return dataframe

    def analyzed_candles(self, pair: str, current_time: datetime | None) -> AnalyzedCandles:
        """The analysed candles of ``pair`` known at ``current_time``.

        Backtests with a kept frame (:meth:`keep_analysed`): the frame bounded at the
        candles closed by ``current_time``, once it is confirmed to be the frame Freqtrade
        analyses from (its slices share the frame's memory); otherwise Freqtrade's
        ``dp.get_analyzed_dataframe``.
        """
        kept = self.__dict__.get("_kept_frames", {}).get(pair)
        if kept is not None and current_time is not None and self._confirmed(pair, kept):
            end = closed_rows(kept.ticks, current_time, kept.timeframe)
            return AnalyzedCandles(kept.frame, end, kept.readers)
        dataframe, _ = self.dp.get_analyzed_dataframe(pair, self.timeframe)
        return AnalyzedCandles(dataframe)

    def _confirmed(self, pair: str, kept: _KeptFrame) -> bool:
        """Is ``kept`` the frame behind Freqtrade's slices? Checked once per kept frame."""
        if kept.confirmed is None:
            dataframe, _ = self.dp.get_analyzed_dataframe(pair, self.timeframe)
            if dataframe.empty:
                return False  # nothing sliced yet: ask again next time, read Freqtrade's
            kept.confirmed = "close" in dataframe.columns and np.shares_memory(
                dataframe["close"].to_numpy(), kept.frame["close"].to_numpy()
            )
            if not kept.confirmed:
                logger.warning(
                    "%s: the frame kept by keep_analysed is not the one Freqtrade analyses "
                    "from; reading Freqtrade's slices instead",
                    pair,
                )
        return kept.confirmed

    def last_candle(self, pair: str, current_time: datetime | None = None) -> Mapping[str, Any]:
        """The last analysed candle of ``pair`` as a lazy read-only mapping (empty if none).

        With ``current_time`` the view is reused by the other callbacks of the same pair
        and time (a backtest calls several per open trade and candle); the cache is
        emptied at every bot iteration (``bot_loop_start``), so a new backtest or hyperopt
        epoch never sees an old view.
        """
        cache: dict[str, tuple[datetime, Mapping[str, Any]]] = self.__dict__.setdefault(
            "_candles", {}
        )
        if current_time is not None:
            hit = cache.get(pair)
            if hit is not None and hit[0] == current_time:
                return hit[1]
        view = self.analyzed_candles(pair, current_time).last()
        if current_time is not None:
            cache[pair] = (current_time, view)
        return view

    def _live_orderbook(self, pair: str) -> Mapping[str, Any] | None:
        return self.live_book(pair, self.orderbook_depth)

    def live_book(self, pair: str, depth: int) -> Mapping[str, Any] | None:
        """The pair's live order book in dry-run and live (``None`` elsewhere or on failure).

        Never outside Freqtrade's trade modes: in backtests ``dp.orderbook`` would fetch
        today's book (lookahead). Every fetched book is shown to the freshness watch.
        """
        if self.runmode not in LIVE_RUNMODES:
            return None
        try:
            book = self.dp.orderbook(pair, depth)
        except Exception as exc:
            logger.warning("order book for %s unavailable: %s", pair, clean(exc))
            return None
        self._report(self.freshness.see_book(pair, book))
        return book

    @property
    def freshness(self) -> FreshnessWatch:
        """Per-pair freshness of candles and books (live and dry-run)."""
        watch = self.__dict__.get("_freshness")
        if watch is None:
            limits = self.risk_limits
            watch = FreshnessWatch(limits.stale_candle_timeframes, limits.frozen_book_fetches)
            self.__dict__["_freshness"] = watch
        return watch

    def _watch_candles(self, current_time: datetime) -> None:
        """Show each pair's last closed candle to the freshness watch (live and dry-run)."""
        timeframe = timedelta(seconds=timeframe_to_seconds(self.timeframe))
        for pair in self._whitelist():
            frame, _ = self.dp.get_analyzed_dataframe(pair, self.timeframe)
            last = None
            if len(frame) and "date" in frame.columns:
                last = pd.Timestamp(frame["date"].iloc[-1]).to_pydatetime()
            self._report(self.freshness.see_candles(pair, last, timeframe, current_time))

    def _report(self, change: Change | None) -> None:
        """Warn and notify once when a pair's data turns stale, and when it moves again;
        while stale the pair is locked (visible in FreqUI's and Telegram's lock lists)."""
        if change is None:
            return
        if change.stale:
            logger.warning("%s: market data stale (%s); no new risk", change.pair, change.reason)
            self.notify(
                f"{change.pair}: market data stale ({change.reason}); no new risk until it moves",
                key=f"data:{change.pair}:stale",
            )
        else:
            logger.info("%s: %s", change.pair, change.reason)
            self.unlock_reason(STALE_LOCK_REASON)
            self.notify(f"{change.pair}: {change.reason}", key=f"data:{change.pair}:fresh")

    def _lock_stale_pairs(self, current_time: datetime) -> None:
        """Keep each pair with stale data locked for the next candle (renewed every loop)."""
        until = current_time + timedelta(seconds=timeframe_to_seconds(self.timeframe))
        for pair in self._whitelist():
            if self.freshness.problems(pair):
                self.lock_pair(pair, until, reason=STALE_LOCK_REASON)

    def _whitelist(self) -> list[str]:
        try:
            return list(self.dp.current_whitelist())
        except Exception:
            return list(self.config.get("exchange", {}).get("pair_whitelist", []))

    def last_close(self, pair: str, current_time: datetime | None) -> float | None:
        """The close of the pair's last analysed candle known at ``current_time``."""
        value = finite_or(self.last_candle(pair, current_time).get("close"), default=math.nan)
        return value if value > 0 else None

    def account_equity(
        self, current_time: datetime | None, rates: Mapping[str, float] | None = None
    ) -> tuple[float, dict[str, float]]:
        """Account equity marked to market, and the value of each pair's open position.

        Equity is the free stake currency plus every open position at its current rate:
        ``rates`` where given (the callback's own ``current_rate``), else the pair's last
        closed candle, else the trade's open rate. Risk caps and the daily loss limit are
        shares of this equity, not of stakes paid.
        """
        rates = rates or {}
        values: dict[str, float] = {}
        for trade in stored_trades(is_open=True):
            rate = rates.get(trade.pair) or self.last_close(trade.pair, current_time)
            value = float(trade.amount) * float(rate or trade.open_rate)
            values[trade.pair] = values.get(trade.pair, 0.0) + value
        free = float(self.wallets.get_free(self.config["stake_currency"])) if self.wallets else 0.0
        return free + sum(values.values()), values

    def _day_start_equity(self, current_time: datetime) -> float:
        """Equity at the start of the current UTC day, as first seen that day.

        At the first look of a day it is today's equity less what trades closed earlier
        today made (a bot restarted at noon still counts the morning's realised losses);
        it is then kept until the day changes.
        """
        day = current_time.date()
        kept = self.__dict__.get("_day_start")
        if kept is None or kept[0] != day:
            day_start = current_time.replace(hour=0, minute=0, second=0, microsecond=0)
            closed_today = stored_trades(is_open=False, close_date=day_start)
            realised = sum(float(t.close_profit_abs or 0.0) for t in closed_today)
            kept = (day, self.account_equity(current_time)[0] - realised)
            self.__dict__["_day_start"] = kept
        return kept[1]

    def _daily_loss_exceeded(self, current_time: datetime) -> bool:
        start = self._day_start_equity(current_time)
        equity, _ = self.account_equity(current_time)
        return daily_loss_exceeded(equity - start, start, self.risk_limits)

    # -- Freqtrade callbacks ----------------------------------------------------------------

    def bot_loop_start(self, current_time: datetime, **kwargs: Any) -> None:
        """Hand the latest analysed candles and open trades to the plugins' ``bot_loop``;
        in dry-run and live first check that every pair's candles are fresh, and at the end
        say what each pair's new candle brought (:meth:`narrate`)."""
        self.__dict__["_candles"] = {}
        self._day_start_equity(current_time)
        if self.runmode in LIVE_RUNMODES:
            try:
                self._watch_candles(current_time)
                self._lock_stale_pairs(current_time)
            except Exception:
                logger.exception("freshness check failed")
        agent = self.agent
        if agent.implements("bot_loop"):
            analyzed = {p: self.analyzed_candles(p, current_time) for p in self._whitelist()}
            open_trades = [trade_snapshot(t) for t in stored_trades(is_open=True)]
            agent.bot_loop(current_time, analyzed, open_trades)
        if self.runmode in LIVE_RUNMODES:
            self.narrate(current_time)

    # -- narration (dry-run and live) -------------------------------------------------------

    def narration_rules(self) -> tuple[Rule, ...]:
        """The strategy's entry conditions, for the narration to name the unmet ones.

        The same conditions as ``populate_entry_trend``, stated as rules of
        :mod:`trading_agent.strategy.narration` (none here: the base has no signal).
        """
        return ()

    def candle_risk_advice(
        self, pair: str, candle: Mapping[str, Any], current_time: datetime, trade: Any = None
    ) -> CombinedRisk:
        """The plugins' combined risk advice for a long in ``pair`` at ``candle``'s close
        (``trade``: the pair's open trade, if any)."""
        return self.agent.risk_advice(
            pair=pair,
            side="long",
            current_time=current_time,
            current_rate=finite_or(candle.get("close"), default=0.0),
            candle=candle,
            trade=trade_snapshot(trade) if trade is not None else None,
        )

    def narrate(self, current_time: datetime) -> None:
        """Log one line per pair whose last analysed candle is new since its last line.

        At most one line a pair per :attr:`narration_interval` (a later loop tells a candle
        held back by the limit). Never raises: a failure is logged once and the bot goes on.
        """
        told: dict[str, tuple[Any, float]] = self.__dict__.setdefault("_narrated", {})
        now = time.monotonic()
        interval = self.narration_interval.total_seconds()
        for pair in self._whitelist():
            try:
                candle = self.last_candle(pair, current_time)
                date = candle.get("date")
                last = told.get(pair)
                if date is None or (
                    last is not None and (last[0] == date or now - last[1] < interval)
                ):
                    continue
                told[pair] = (date, now)
                narration_logger.info(self.narration_line(pair, candle, current_time))
            except Exception:
                if not self.__dict__.get("_narration_failed"):
                    self.__dict__["_narration_failed"] = True
                    logger.exception("narration for %s failed (the bot goes on)", pair)

    def narration_line(self, pair: str, candle: Mapping[str, Any], current_time: datetime) -> str:
        """The narration line of ``pair``'s last candle, with the plugins' advice, the pair's
        position share of equity and what stops an entry outside the candle."""
        open_trades = stored_trades(is_open=True, pair=pair)
        advice = self.candle_risk_advice(
            pair, candle, current_time, open_trades[0] if open_trades else None
        )
        equity, values = self.account_equity(current_time)
        share = values.get(pair, 0.0) / equity if equity > 0 else None
        held_back = []
        if open_trades and not self.position_adjustment_enable:
            held_back.append("a position is open")
        held_back += [f"market data: {problem}" for problem in self.freshness.problems(pair)]
        if self._daily_loss_exceeded(current_time):
            held_back.append(
                f"daily loss limit {self.risk_limits.daily_drawdown_limit:.1%} of equity reached"
            )
        return candle_line(
            pair,
            candle,
            advice,
            rules=self.narration_rules(),
            shown=self.narration_columns,
            position_share=share,
            target_column=self.narration_target,
            held_back=held_back,
        )

    def entry_vetoes(
        self, pair: str, side: str, rate: float, amount: float, current_time: datetime
    ) -> tuple[list[tuple[str, str]], str]:
        """Every veto of a proposed entry or addition (plugins, the live order-book check,
        the daily loss limit) and the approvals' summary. Raises if the check itself fails."""
        decision = self.agent.approve_entry(
            pair=pair,
            side=side,
            rate=rate,
            amount=amount,
            current_time=current_time,
            candle=self.last_candle(pair, current_time),
            orderbook=self._live_orderbook(pair),
            runmode=self.runmode,
        )
        vetoes = list(decision.vetoes)
        if self.runmode in LIVE_RUNMODES:
            vetoes.extend(("data", problem) for problem in self.freshness.problems(pair))
        if self._daily_loss_exceeded(current_time):
            limit = self.risk_limits.daily_drawdown_limit
            vetoes.append(("risk", f"daily loss limit {limit:.1%} of equity reached"))
        return vetoes, decision.reason

    def entry_allowed(
        self, pair: str, side: str, rate: float, amount: float, current_time: datetime
    ) -> bool:
        """Run :meth:`entry_vetoes` and report the outcome; fails closed on any error."""
        try:
            vetoes, approvals = self.entry_vetoes(pair, side, rate, amount, current_time)
        except Exception as exc:
            logger.exception("entry check for %s failed; entry vetoed", pair)
            self.notify(f"Entry {pair} vetoed: entry check failed ({exc})", key=f"veto:{pair}")
            return False
        if vetoes:
            reason = "; ".join(f"{name}: {why}" for name, why in vetoes)
            logger.info("entry %s %s at %s vetoed: %s", side, pair, rate, reason)
            self.notify(f"Entry {pair} vetoed: {reason}", key=f"veto:{pair}")
            return False
        logger.info(
            "entry %s %s at %s approved: %s", side, pair, rate, approvals or "no plugin objected"
        )
        return True

    def confirm_trade_entry(
        self,
        pair: str,
        order_type: str,
        amount: float,
        rate: float,
        time_in_force: str,
        current_time: datetime,
        entry_tag: str | None,
        side: str,
        **kwargs: Any,
    ) -> bool:
        """Plugin vetoes, the live order-book check and the daily loss limit; fails closed."""
        return self.entry_allowed(pair, side, rate, amount, current_time)

    def custom_stake_amount(
        self,
        pair: str,
        current_time: datetime,
        current_rate: float,
        proposed_stake: float,
        min_stake: float | None,
        max_stake: float,
        leverage: float,
        entry_tag: str | None,
        side: str,
        **kwargs: Any,
    ) -> float:
        """Signal strength x session factor x plugin multiplier, clamped to the hard limits.

        Returns 0 (no entry) when anything fails, instead of Freqtrade's fail-open default.
        """
        try:
            candle = self.last_candle(pair, current_time)
            strength = finite_or(candle.get("signal_strength"), default=1.0)
            session_factor = finite_or(candle.get("session_position_size_factor"), default=1.0)
            risk = self.agent.risk_advice(
                pair=pair,
                side=side,
                current_time=current_time,
                current_rate=current_rate,
                candle=candle,
                trade=None,
            )
            multiplier = max(0.0, min(strength, 1.0)) * session_factor * risk.stake_multiplier
            equity, values = self.account_equity(current_time, {pair: current_rate})
            stake = clamp_stake(
                proposed_stake,
                multiplier,
                equity,
                sum(values.values()),
                self.risk_limits,
                min_stake,
                max_stake,
            )
        except Exception:
            logger.exception("stake sizing for %s failed; no entry", pair)
            return 0.0
        if risk.stake_multiplier < 1.0:
            self.notify(
                f"{pair}: stake scaled by {risk.stake_multiplier:.2f} "
                f"({'; '.join(f'{n}: {r}' for n, r in risk.reasons)})",
                key=f"risk:{pair}",
            )
        return stake

    def custom_stoploss(
        self,
        pair: str,
        trade: Trade,
        current_time: datetime,
        current_rate: float,
        current_profit: float,
        after_fill: bool,
        **kwargs: Any,
    ) -> float | None:
        """The tightest of: the hard stop, an ATR stop below the current rate, plugin advice.

        The trade's current stop price (Freqtrade's ``trade.stop_loss``, stored with the
        trade and only ever raised by Freqtrade) is a floor, so the stop never moves down.
        """
        try:
            candle = self.last_candle(pair, current_time)
            limits = self.risk_limits
            atr_stop = atr_stop_rate(
                current_rate,
                finite_or(candle.get("atr"), default=math.nan),
                limits.atr_stop_multiplier,
            )
            risk = self.agent.risk_advice(
                pair=pair,
                side="long",
                current_time=current_time,
                current_rate=current_rate,
                candle=candle,
                trade=trade_snapshot(trade),
            )
            plugin_stop = current_rate * (1 + risk.stoploss) if risk.stoploss is not None else None
            hard_stop = trade.open_rate * (1 + limits.stoploss)
            stop_rate = tighten_stop_rate(current_stop(trade), hard_stop, atr_stop, plugin_stop)
            if stop_rate is None:
                return None
            return stoploss_from_absolute(stop_rate, current_rate, is_short=trade.is_short)
        except Exception:
            logger.exception("custom stop-loss for %s failed; stop left unchanged", pair)
            return None

    def custom_exit(
        self,
        pair: str,
        trade: Trade,
        current_time: datetime,
        current_rate: float,
        current_profit: float,
        **kwargs: Any,
    ) -> str | None:
        """Exit when a plugin (e.g. the overseer) asks for it."""
        agent = self.agent
        if not agent.implements("exit_advice"):
            return None
        reason = agent.exit_advice(
            trade=trade_snapshot(trade),
            current_time=current_time,
            current_rate=current_rate,
            current_profit=current_profit,
        )
        if reason:
            self.notify(f"Exit requested for {pair}: {reason}", key=f"exit:{pair}")
            return reason[:100]
        return None

    def order_filled(
        self, pair: str, trade: Trade, order: Any, current_time: datetime, **kwargs: Any
    ) -> None:
        """Tell plugins of the fill, and of the closed trade when an exit closes it."""
        closes = order.ft_order_side == trade.exit_side and (
            not trade.is_open or order.safe_amount >= trade.amount
        )
        snapshot = trade_snapshot(trade, close_rate=order.safe_price if closes else None)
        self.agent.trade_filled(
            trade=snapshot,
            order_side=order.ft_order_side,
            order_type=order.order_type,
            filled_amount=order.safe_filled,
            fill_price=order.safe_price,
            current_time=current_time,
        )
        if closes:
            self.agent.trade_closed(trade=snapshot, current_time=current_time)


class _KeptFrame:
    """An analysed frame kept for a backtest, its open times and candle length, and whether
    it is confirmed."""

    __slots__ = ("confirmed", "frame", "readers", "ticks", "timeframe")

    def __init__(self, frame: DataFrame, ticks: np.ndarray, timeframe: timedelta) -> None:
        self.frame = frame
        self.ticks = ticks
        self.timeframe = timeframe
        self.confirmed: bool | None = None
        self.readers: dict[str, Any] = {}  # column readers shared by every bound


def plugin_mode(agent: AgentPlugins, name: str) -> str | None:
    """The mode plugin ``name`` runs in (its ``mode``, else its settings' ``mode``), if any."""
    plugin = agent.pm.get_plugin(name)
    mode = getattr(plugin, "mode", None) or getattr(getattr(plugin, "settings", None), "mode", None)
    return str(mode) if mode else None


def finite_or(value: Any, default: float) -> float:
    """``value`` as a finite float, or ``default`` for anything else (None, NaN, text)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return number if math.isfinite(number) else default
