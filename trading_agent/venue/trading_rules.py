"""What the venue says a client may trade through the API.

MEXC has marked major pairs as not tradable through the API for long stretches: such a symbol
keeps ``status "1"`` in ``exchangeInfo`` but has ``isSpotTradingAllowed: false``, is missing
from ``GET /api/v3/defaultSymbols``, and orders for it are refused with code 10007
``symbol not support api``. :class:`TradingRules` holds the venue's answer, set with
``ta-venue --api-disabled SYMBOL[,SYMBOL...]``, so that a bot's start-up checks can be tested
against both outcomes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


def parse_symbols(text: str) -> frozenset[str]:
    """``"BTCUSDT,ETH/USDT"`` as MEXC symbol names (``/`` dropped); ValueError when empty."""
    names = [part.strip().replace("/", "") for part in text.split(",")]
    if not all(names):
        raise ValueError(f"--api-disabled {text!r} holds an empty symbol name")
    return frozenset(names)


@dataclass(frozen=True)
class TradingRules:
    """Which symbols the API may trade."""

    api_disabled: frozenset[str] = frozenset()

    def check_symbols(self, served: Iterable[str]) -> None:
        """Raise ValueError naming any API-disabled symbol the venue does not serve."""
        known = set(served)
        unknown = sorted(self.api_disabled - known)
        if unknown:
            raise ValueError(
                f"--api-disabled names {', '.join(unknown)}, not served here "
                f"(served: {', '.join(sorted(known))})"
            )

    def api_tradable(self, symbol: str) -> bool:
        """True when orders for ``symbol`` are accepted through the API."""
        return symbol not in self.api_disabled
