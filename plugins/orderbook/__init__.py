"""Order-book analytics (pure functions), a Binance capture rebuilder and an entry gate.

See docs/orderbook.md for definitions and the plugin's veto rules.
"""

from plugins.orderbook.analytics import (
    BookAnalysis,
    Depth,
    Fill,
    analyse_book,
    book_age_seconds,
    depth_within_bps,
    fill_by_base,
    fill_by_quote,
    imbalance,
    imbalance_from_volumes,
    imbalance_within_bps,
    mid_price,
    spread_bps,
    spread_bps_from_prices,
)
from plugins.orderbook.validation import validate_book

__all__ = [
    "BookAnalysis",
    "Depth",
    "Fill",
    "analyse_book",
    "book_age_seconds",
    "depth_within_bps",
    "fill_by_base",
    "fill_by_quote",
    "imbalance",
    "imbalance_from_volumes",
    "imbalance_within_bps",
    "mid_price",
    "spread_bps",
    "spread_bps_from_prices",
    "validate_book",
]
