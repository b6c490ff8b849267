"""Trading-Agent: plugins and strategies on Freqtrade. This module is the public face.

Plugin authors import everything from here::

    from trading_agent import EntryVerdict, Plugin, hookimpl

The contract is :mod:`trading_agent.hookspecs` (documented in docs/hooks.md), the manager
:mod:`trading_agent.manager`; the Freqtrade-facing kit is :mod:`trading_agent.strategy`.
"""

from trading_agent.candles import AnalyzedCandles
from trading_agent.hookspecs import (
    BACKTEST_RUNMODES,
    ENTRY_POINT_GROUP,
    LIVE_RUNMODES,
    hookimpl,
)
from trading_agent.payloads import EntryVerdict, Notifier, RiskAdvice, TradeSnapshot
from trading_agent.plugin import NoSettings, Plugin

__all__ = [
    "BACKTEST_RUNMODES",
    "ENTRY_POINT_GROUP",
    "LIVE_RUNMODES",
    "AnalyzedCandles",
    "EntryVerdict",
    "NoSettings",
    "Notifier",
    "Plugin",
    "RiskAdvice",
    "TradeSnapshot",
    "hookimpl",
]
