"""Buy-and-hold as fills: equal parts of the account bought at a window's first open.

Each pair gets ``balance / n`` (fee included) at the open of its first candle in the window and
is sold at the close of its last one, with the fee charged on both sides. Run through
:func:`trading_agent.evaluation.equity.reconstruct_equity`, it is measured exactly as the
strategies are.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from trading_agent.evaluation.equity import timeframe_delta
from trading_agent.evaluation.fills import sort_fills


def buy_and_hold_fills(
    candles: Mapping[str, pd.DataFrame],
    start: pd.Timestamp,
    end: pd.Timestamp,
    timeframe: str,
    balance: float,
    fee: float,
) -> pd.DataFrame:
    """The two fills per pair of an equal-weight buy-and-hold over ``[start, end)``.

    ``candles`` maps each pair to frames with ``date``, ``open`` and ``close``. Raises
    ``ValueError`` naming the pair when it has no candle in the window, or for a fee outside
    ``[0, 1)``.
    """
    if not (np.isfinite(fee) and 0 <= fee < 1):
        raise ValueError(f"fee must be in [0, 1), got {fee}")
    if not candles:
        raise ValueError("buy-and-hold needs at least one pair")
    step = timeframe_delta(timeframe)
    share = balance / len(candles)
    rows = []
    for pair, frame in candles.items():
        window = frame[(frame["date"] >= start) & (frame["date"] < end)].sort_values("date")
        if window.empty:
            raise ValueError(f"no {pair} candle between {start} and {end}")
        first, last = window.iloc[0], window.iloc[-1]
        bought = share / (float(first["open"]) * (1 + fee))
        sold_at = float(last["close"])
        rows.append(
            (first["date"], pair, bought, float(first["open"]), bought * first["open"] * fee, True)
        )
        rows.append((last["date"] + step, pair, -bought, sold_at, bought * sold_at * fee, False))
    fills = pd.DataFrame(rows, columns=["time", "pair", "amount", "price", "fee", "opens_trade"])
    fills["time"] = pd.to_datetime(fills["time"], utc=True)
    fills["fee"] = fills["fee"].astype(np.float64)
    return sort_fills(fills)
