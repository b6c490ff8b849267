"""Trading-Agent plugin framework: hook specs, plugin manager and built-in plugins."""

from plugins.analyzed import AnalyzedCandles
from plugins.hookspecs import (
    ENTRY_POINT_GROUP,
    EntryVerdict,
    RiskAdvice,
    TradeSnapshot,
    hookimpl,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "AnalyzedCandles",
    "EntryVerdict",
    "RiskAdvice",
    "TradeSnapshot",
    "hookimpl",
]
