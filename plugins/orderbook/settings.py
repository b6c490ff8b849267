"""Settings of the ``orderbook`` plugin: limits an entry's order book must meet."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class OrderBookSettings(BaseModel):
    """Limits for the live order-book entry gate (all checked only in dry-run and live).

    Unknown keys, NaN/infinite numbers and out-of-range values are rejected with an error
    naming the field.
    """

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)

    levels: int = Field(
        default=5, ge=1, le=1000, description="levels a side for the top-N imbalance"
    )
    max_spread_bps: float = Field(
        default=10.0, gt=0, le=10_000, description="veto when the quoted spread is wider"
    )
    max_slippage_bps: float = Field(
        default=10.0,
        gt=0,
        le=10_000,
        description="veto when walking the book with the entry's amount slips more",
    )
    slippage_reference: Literal["best", "mid"] = Field(
        default="best",
        description="measure slippage against the best price on the taken side, or the mid",
    )
    max_staleness_seconds: float | None = Field(
        default=10.0,
        gt=0,
        description="veto when the book's timestamp is older (or further in the future); "
        "null disables the check",
    )
    require_timestamp: bool = Field(
        default=False, description="veto books without a timestamp (their age is unknown)"
    )
    depth_within_bps: float = Field(
        default=10.0, gt=0, le=10_000, description="band around the mid for the depth check"
    )
    min_depth_quote: float = Field(
        default=0.0,
        ge=0,
        description="veto when the taken side holds less quote value within the band; 0 = off",
    )
