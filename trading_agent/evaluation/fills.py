"""Fills: every executed order as one row, the input of the equity reconstruction.

A fills frame has the columns of :data:`FILL_COLUMNS`, sorted by time:

- ``time``: when the order filled (UTC);
- ``pair``: e.g. ``BTC/USDT``;
- ``amount``: base currency bought (positive) or sold (negative);
- ``price``: the fill price in quote currency;
- ``fee``: the fee paid, in quote currency;
- ``opens_trade``: the first fill of a trade (counts trades in any slice of time).

Freqtrade's exported trades (``--export trades``) carry their orders; with position adjustment a
trade has several entries and partial exits, so the account is rebuilt from orders, not trades.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

FILL_COLUMNS = ["time", "pair", "amount", "price", "fee", "opens_trade"]


def empty_fills() -> pd.DataFrame:
    """A fills frame with no rows (a strategy that never traded)."""
    return pd.DataFrame(
        {
            "time": pd.Series([], dtype="datetime64[ns, UTC]"),
            "pair": pd.Series([], dtype=object),
            "amount": pd.Series([], dtype=np.float64),
            "price": pd.Series([], dtype=np.float64),
            "fee": pd.Series([], dtype=np.float64),
            "opens_trade": pd.Series([], dtype=bool),
        }
    )


def sort_fills(fills: pd.DataFrame) -> pd.DataFrame:
    """``fills`` in time order (stable: orders filled at the same time keep their order)."""
    return fills.sort_values("time", kind="mergesort").reset_index(drop=True)


def fills_from_trades(trades: pd.DataFrame | Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """Freqtrade's exported backtest trades, each with its ``orders``, as a fills frame.

    Long-only spot: an entry order (``ft_is_entry``) adds its amount, any other order removes
    it. Freqtrade charges ``fee_open`` on every entry and ``fee_close`` on every exit, on amount
    x price; the orders' ``cost`` field is not used (in backtests it adds the fee on both sides).
    Orders without a fill time never filled and are left out. Raises ``ValueError`` naming the
    trade for a short or leveraged trade, or a trade without orders.
    """
    records = trades.to_dict("records") if isinstance(trades, pd.DataFrame) else list(trades)
    if not records:
        return empty_fills()
    for number, trade in enumerate(records):
        where = f"trade {number} ({trade.get('pair')!r}, opened {trade.get('open_date')})"
        if trade.get("is_short"):
            raise ValueError(f"{where} is short: the equity reconstruction is long-only spot")
        if float(trade.get("leverage") or 1.0) != 1.0:
            raise ValueError(f"{where} has leverage {trade.get('leverage')}: spot only")
        if not trade.get("orders"):
            raise ValueError(f"{where} has no orders: export trades with their orders")
    numbered = [{**trade, "trade_number": n} for n, trade in enumerate(records)]
    orders = pd.json_normalize(
        numbered, record_path="orders", meta=["trade_number", "pair", "fee_open", "fee_close"]
    )
    orders = orders[orders["order_filled_timestamp"].notna()].reset_index(drop=True)
    if orders.empty:
        return empty_fills()
    entry = orders["ft_is_entry"].astype(bool).to_numpy()
    amount = orders["amount"].to_numpy(dtype=np.float64)
    price = orders["safe_price"].to_numpy(dtype=np.float64)
    fee_rate = np.where(
        entry,
        orders["fee_open"].to_numpy(dtype=np.float64),
        orders["fee_close"].to_numpy(dtype=np.float64),
    )
    fills = pd.DataFrame(
        {
            "time": pd.to_datetime(
                orders["order_filled_timestamp"].astype(np.int64), unit="ms", utc=True
            ),
            "pair": orders["pair"].astype(object),
            "amount": np.where(entry, amount, -amount),
            "price": price,
            "fee": amount * price * fee_rate,
            "opens_trade": orders.groupby("trade_number").cumcount().to_numpy() == 0,
        }
    )
    return sort_fills(fills)
