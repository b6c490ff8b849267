"""Trades shaped like Freqtrade's backtest export (``--export trades``), built for tests."""

from __future__ import annotations

from typing import Any

import pandas as pd


def exported_trade(
    pair: str,
    opened: pd.Timestamp,
    orders: list[tuple[bool, float, float, pd.Timestamp | None]],
    fee_open: float = 0.0,
    fee_close: float = 0.0,
) -> dict[str, Any]:
    """One long spot trade; ``orders`` are (is entry, amount, price, fill time or None)."""
    return {
        "pair": pair,
        "open_date": opened,
        "fee_open": fee_open,
        "fee_close": fee_close,
        "is_short": False,
        "leverage": 1.0,
        "orders": [
            {
                "amount": amount,
                "safe_price": price,
                "ft_is_entry": entry,
                "order_filled_timestamp": None if at is None else int(at.timestamp() * 1000),
            }
            for entry, amount, price, at in orders
        ],
    }
