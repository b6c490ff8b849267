"""How far to move a position towards its target: the rebalancing rule, within hard caps.

Pure functions on account figures in the stake currency; nothing here knows Freqtrade. A
strategy that allocates on account equity (``RegimeStrategy``) asks :func:`rebalance_order`
on every candle for every open position and sizes new positions with
:func:`entry_stake`. The band keeps it from trading on every small change of its target:
turnover pays fees.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: A position counts as over a cap only when it passes it by more than this share of
#: equity: rounding in the account figures must not sell dust.
CAP_TOLERANCE = 1e-9


@dataclass(frozen=True, slots=True)
class Caps:
    """Hard limits as shares of account equity (the config's ``trading_agent.risk``)."""

    per_pair: float
    total: float

    def __post_init__(self) -> None:
        for name, value in (("per_pair", self.per_pair), ("total", self.total)):
            if not (math.isfinite(value) and 0 < value <= 1):
                raise ValueError(f"cap {name} must be in (0, 1], got {value!r}")


def _check(**values: float) -> None:
    for name, value in values.items():
        if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be finite and >= 0, got {value!r}")


def headroom(equity: float, position: float, exposure: float, caps: Caps) -> float:
    """Most that may be added to a position worth ``position`` while all open positions
    are worth ``exposure``: neither the pair's nor the total cap may be passed."""
    _check(equity=equity, position=position, exposure=exposure)
    return max(0.0, min(caps.per_pair * equity - position, caps.total * equity - exposure))


def entry_stake(
    target: float,
    equity: float,
    exposure: float,
    caps: Caps,
    min_stake: float | None,
    max_stake: float,
) -> float:
    """Stake for a new position whose target value is ``target``: the target within the
    caps and Freqtrade's ``max_stake``, or 0 (no entry) below the exchange's minimum."""
    _check(target=target, max_stake=max_stake)
    stake = min(target, headroom(equity, 0.0, exposure, caps), max_stake)
    if stake <= 0 or (min_stake is not None and stake < min_stake):
        return 0.0
    return stake


def rebalance_order(
    position: float,
    target: float,
    add_target: float,
    band: float,
    equity: float,
    exposure: float,
    caps: Caps,
    min_stake: float | None,
    max_stake: float,
) -> float:
    """Stake to trade for an open position worth ``position``: positive buys, negative
    sells, 0 leaves it alone.

    - Above ``target * (1 + band)``, or above a cap, it sells down to the target (and below
      every cap): risk is always cut, whatever the band.
    - Below ``add_target * (1 - band)`` it buys up to ``add_target`` (``add_target`` is at
      most ``target``: e.g. the target scaled by a session's size factor), within the caps
      and ``max_stake``; never to more than ``target * (1 + band)``.
    - A trade below the exchange minimum (``min_stake``) is not made, except a sale that a
      cap requires.
    """
    _check(
        position=position,
        target=target,
        add_target=add_target,
        band=band,
        equity=equity,
        exposure=exposure,
        max_stake=max_stake,
    )
    if band >= 1:
        raise ValueError(f"band must be below 1, got {band!r}")
    add_target = min(add_target, target)
    ceiling = min(caps.per_pair * equity, position + caps.total * equity - exposure)
    over_cap = position > ceiling + CAP_TOLERANCE * equity
    if position > target * (1 + band) or over_cap:
        sell = position - min(target, max(ceiling, 0.0))
        if sell <= 0 or (min_stake is not None and sell < min_stake and not over_cap):
            return 0.0
        return -min(sell, position)
    if position < add_target * (1 - band):
        buy = min(add_target - position, headroom(equity, position, exposure, caps), max_stake)
        if buy <= 0 or (min_stake is not None and buy < min_stake):
            return 0.0
        return buy
    return 0.0
