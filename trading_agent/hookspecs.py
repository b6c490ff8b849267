"""The whole contract between Trading-Agent strategies and plugins, and the run modes.

Every hook is called with keyword arguments only. A plugin implements any subset of them
with ``@hookimpl`` and leaves the rest out. Each spec says how the answers of several plugins
are combined and what happens when one raises; :class:`trading_agent.manager.AgentPlugins`
applies those rules, never the strategies, so every strategy combines answers the same way.

Plugins must be causal: nothing they add to a candle may depend on a later candle.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import pluggy
from freqtrade.enums import RunMode
from pandas import DataFrame

from trading_agent.candles import AnalyzedCandles
from trading_agent.payloads import EntryVerdict, Notifier, RiskAdvice, TradeSnapshot

PROJECT_NAME = "trading_agent"
ENTRY_POINT_GROUP = "trading_agent.plugins"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

# The run modes hooks are told about (``runmode``: Freqtrade's ``RunMode`` values).
#: Run modes that trade against an exchange, live or simulated: live order books and
#: wall-clock time exist here only (Freqtrade's ``TRADE_MODES``).
LIVE_RUNMODES = frozenset({RunMode.LIVE.value, RunMode.DRY_RUN.value})
#: Run modes that replay one analysed frame per pair over a whole period.
BACKTEST_RUNMODES = frozenset({RunMode.BACKTEST.value, RunMode.HYPEROPT.value})


@hookspec
def bot_start(config: Mapping[str, Any], runmode: str, notify: Notifier) -> None:
    """Start up: build clients, threads and caches (never at import or ``__init__``).

    Called once per bot process by the strategy's ``bot_start``, after settings
    were validated. ``config`` is Freqtrade's whole (read-only) configuration,
    ``runmode`` Freqtrade's run mode value (``"dry_run"``, ``"live"``,
    ``"backtest"``, ``"hyperopt"``, ``"util_no_exchange"`` ...). ``notify(message,
    key=...)`` sends a rate-limited user notification.
    Combining: every implementation is called; an exception stops the bot start.
    """


@hookspec
def bot_loop(
    current_time: datetime,
    analyzed: Mapping[str, AnalyzedCandles],
    open_trades: Sequence[TradeSnapshot],
) -> None:
    """Run once at the start of every bot iteration (Freqtrade's ``bot_loop_start``).

    ``analyzed`` maps each whitelisted pair to its analysed candles known at
    ``current_time`` (:class:`trading_agent.candles.AnalyzedCandles`: ``frame()``,
    ``column(name)``, ``last()``; may hold no rows early on). In backtests it wraps one
    frame for the whole run and only its bound moves, so a plugin can keep per-frame
    arrays (``source_frame()``) and read one row per candle. Implementations must return
    quickly: slow work belongs on a background worker started in :func:`bot_start`.
    Combining: every implementation is called; an exception is logged and the
    loop goes on.
    """


@hookspec
def bot_stop() -> None:
    """Shut down: stop workers, flush journals, close connections.

    Combining: every implementation is called; exceptions are logged.
    """


@hookspec
def add_indicators(
    dataframe: DataFrame, pair: str, timeframe: str, runmode: str
) -> DataFrame | None:
    """Return new indicator columns for a candle dataframe, or ``None``.

    ``dataframe`` holds ``date, open, high, low, close, volume`` (plus columns
    added earlier) and must not be modified. The returned frame has the same
    index and only new columns; each value must be known at its candle's close.
    Combining: every answer is joined onto the dataframe; two plugins adding the
    same column name is an error.
    """


@hookspec
def approve_entry(
    pair: str,
    side: str,
    rate: float,
    amount: float,
    current_time: datetime,
    candle: Mapping[str, Any],
    orderbook: Mapping[str, Any] | None,
    runmode: str,
) -> EntryVerdict | None:
    """Approve or veto one entry about to be placed.

    ``candle`` is the last analysed candle of the pair; ``orderbook`` the live
    ccxt order book (``None`` in backtests). Return ``None`` for no opinion.
    Combining: any veto wins, and every veto's reason is reported. A plugin that
    raises counts as a veto (fail closed).
    """


@hookspec
def risk_advice(
    pair: str,
    side: str,
    current_time: datetime,
    current_rate: float,
    candle: Mapping[str, Any],
    trade: TradeSnapshot | None,
) -> RiskAdvice | None:
    """Advise on stake size and stop-loss for a pair (``trade`` is ``None`` before entry).

    Combining: the smallest ``stake_multiplier`` wins; the tightest stop-loss
    (closest to zero) wins; the strategy then clamps both to the hard limits in
    the config. A plugin that raises counts as ``stake_multiplier=0`` (no new
    risk) and no stop-loss view.
    """


@hookspec
def exit_advice(
    trade: TradeSnapshot, current_time: datetime, current_rate: float, current_profit: float
) -> str | None:
    """Ask for an open trade to be exited now; return the exit reason, or ``None``.

    Combining: any request wins; the first reason (in call order) is used.
    A plugin that raises is logged and counts as no request: exits are never
    blocked and never forced by an error.
    """


@hookspec
def trade_filled(
    trade: TradeSnapshot,
    order_side: str,
    order_type: str,
    filled_amount: float,
    fill_price: float,
    current_time: datetime,
) -> None:
    """Be told that an order of ``trade`` was filled (entry or exit).

    Combining: every implementation is called; exceptions are logged.
    """


@hookspec
def trade_closed(trade: TradeSnapshot, current_time: datetime) -> None:
    """Be told that ``trade`` is closed, with its final profit.

    Combining: every implementation is called; exceptions are logged.
    """
