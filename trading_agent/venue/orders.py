"""Order requests (``POST /api/v3/order`` and ``/order/test``) checked as MEXC checks them.

The venue holds no accounts, so it never places an order: it checks the request (mandatory
parameters by order type, plain positive decimals, known side and type) and answers
``order/test`` with ``{}`` as MEXC does, and ``order`` with an "unsupported operation" error.
Before any of that, a symbol the API may not trade is refused with code 10007, as MEXC does.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from trading_agent.venue.errors import invalid_param, missing_param
from trading_agent.venue.params import Query, positive_decimal, required

ORDER_SIDES = ("BUY", "SELL")
ORDER_TYPES = ("LIMIT", "MARKET", "LIMIT_MAKER", "IMMEDIATE_OR_CANCEL", "FILL_OR_KILL")


@dataclass(frozen=True)
class OrderRequest:
    """A checked order request (symbol checked by the caller)."""

    symbol: str
    side: str
    type: str
    quantity: Decimal | None
    quote_order_qty: Decimal | None
    price: Decimal | None


def parse_order(query: Query) -> OrderRequest:
    """The order in ``query``; VenueError names the first missing or bad parameter."""
    symbol = required(query, "symbol")
    side = required(query, "side")
    if side not in ORDER_SIDES:
        raise invalid_param(f"Parameter 'side' must be BUY or SELL, got {side[:20]!r}.")
    kind = required(query, "type")
    if kind not in ORDER_TYPES:
        raise invalid_param(
            f"Parameter 'type' must be one of {', '.join(ORDER_TYPES)}, got {kind[:30]!r}."
        )
    quantity = positive_decimal(query, "quantity")
    quote_qty = positive_decimal(query, "quoteOrderQty")
    price = positive_decimal(query, "price")
    if kind == "MARKET":
        if quantity is None and quote_qty is None:
            raise invalid_param("A MARKET order needs 'quantity' or 'quoteOrderQty'.")
    else:
        if quantity is None:
            raise missing_param("quantity")
        if price is None:
            raise missing_param("price")
    return OrderRequest(symbol, side, kind, quantity, quote_qty, price)
