"""What the venue says a client may trade through the API, and what it costs.

MEXC has marked major pairs as not tradable through the API for long stretches: such a symbol
keeps ``status "1"`` in ``exchangeInfo`` but has ``isSpotTradingAllowed: false``, is missing
from ``GET /api/v3/defaultSymbols``, and orders for it are refused with code 10007
``symbol not support api``. Its fees change too. :class:`TradingRules` holds the venue's answer
to both questions, set with ``ta-venue --api-disabled SYMBOL[,SYMBOL...] --fee MAKER,TAKER``, so
that a bot's start-up checks can be tested against both outcomes.

The default fees are MEXC's documented spot fees as of 2025 (0 % maker, 0.05 % taker on most
pairs; see docs/venue.md for the source). They change: check them before relying on them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

#: MEXC's documented default spot maker fee (2025), a ratio.
DEFAULT_MAKER_FEE = Decimal("0")
#: MEXC's documented default spot taker fee (2025), a ratio: 0.05 %.
DEFAULT_TAKER_FEE = Decimal("0.0005")
#: Highest fee ratio accepted (1 %): a larger figure is almost surely a percentage typed as a
#: ratio (``0.05`` meaning 0.05 %).
MAX_FEE = Decimal("0.01")


def fee_text(fee: Decimal) -> str:
    """A fee ratio as MEXC writes it in ``exchangeInfo`` (``"0"``, ``"0.0005"``; no exponent)."""
    text = format(fee.normalize(), "f")
    return "0" if Decimal(text) == 0 else text


def parse_fee_ratio(text: str, what: str) -> Decimal:
    """One fee ratio in ``[0, MAX_FEE]``; ValueError names ``what`` and the bad text."""
    try:
        fee = Decimal(text.strip())
    except InvalidOperation:
        raise ValueError(
            f"{what} {text!r} is not a number (fees are ratios: 0.0005 = 0.05 %)"
        ) from None
    if not fee.is_finite() or not DEFAULT_MAKER_FEE <= fee <= MAX_FEE:
        raise ValueError(
            f"{what} {text!r} is not a ratio between 0 and {MAX_FEE} (0.0005 = 0.05 %)"
        )
    return fee


def parse_fees(text: str) -> tuple[Decimal, Decimal]:
    """``"MAKER,TAKER"`` (ratios, e.g. ``"0,0.0005"``) as two Decimals; ValueError names it."""
    parts = text.split(",")
    if len(parts) != 2:
        raise ValueError(f"--fee {text!r} is not MAKER,TAKER (two ratios, e.g. 0,0.0005)")
    return parse_fee_ratio(parts[0], "maker fee"), parse_fee_ratio(parts[1], "taker fee")


def parse_symbols(text: str) -> frozenset[str]:
    """``"BTCUSDT,ETH/USDT"`` as MEXC symbol names (``/`` dropped); ValueError when empty."""
    names = [part.strip().replace("/", "") for part in text.split(",")]
    if not all(names):
        raise ValueError(f"--api-disabled {text!r} holds an empty symbol name")
    return frozenset(names)


@dataclass(frozen=True)
class TradingRules:
    """Which symbols the API may trade and the fees charged (the same for every symbol)."""

    api_disabled: frozenset[str] = frozenset()
    maker_fee: Decimal = DEFAULT_MAKER_FEE
    taker_fee: Decimal = DEFAULT_TAKER_FEE

    def __post_init__(self) -> None:
        parse_fee_ratio(str(self.maker_fee), "maker fee")
        parse_fee_ratio(str(self.taker_fee), "taker fee")

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
