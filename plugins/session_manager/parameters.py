"""Per-session signal and risk parameters, their defaults, overrides and hyperopt ranges.

The parameter table has one row per session label (asia, europe, us, off). Defaults for the
three sessions are the seed's; the off-hours row is documented in ``docs/sessions.md``.
Overrides (from a strategy's hyperopt parameters, say) are applied by :func:`apply_overrides`
with dotted names such as ``"us.momentum_threshold"`` and are range-checked like the config.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from plugins.session_manager.schedule import OFF_HOURS, SESSION_LABELS, SESSION_NAMES

#: Row names of a parameter table, in session-code order (off, asia, europe, us).
TABLE_ROWS: tuple[str, ...] = SESSION_LABELS


class SessionParameters(BaseModel):
    """The parameters that apply while one session governs.

    The three thresholds are passed unchanged to the strategy that uses them (the seed gives
    them as fractions: order-book imbalance, volatility and momentum). ``position_size_factor``
    multiplies the strategy's stake; take-profit and stop-loss are in basis points of price.
    """

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    imbalance_threshold: float = Field(ge=0.0, le=1.0)
    volatility_threshold: float = Field(ge=0.0, le=1.0)
    momentum_threshold: float = Field(ge=0.0, le=1.0)
    position_size_factor: float = Field(ge=0.0, le=2.0)
    take_profit_bps: float = Field(gt=0.0, le=1000.0)
    stop_loss_bps: float = Field(gt=0.0, le=1000.0)


#: The parameter names, in column order.
PARAMETER_NAMES: tuple[str, ...] = tuple(SessionParameters.model_fields)


class ParameterTable(BaseModel):
    """One :class:`SessionParameters` per session label (asia, europe, us and off hours)."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    off: SessionParameters
    asia: SessionParameters
    europe: SessionParameters
    us: SessionParameters

    def row(self, label: str) -> SessionParameters:
        """The parameters of one session label; ``ValueError`` for an unknown label."""
        if label not in TABLE_ROWS:
            raise ValueError(f"unknown session {label!r} (sessions: {', '.join(TABLE_ROWS)})")
        return getattr(self, label)

    def as_matrix(self) -> np.ndarray:
        """Float array of shape (4, n_parameters), rows in session-code order."""
        return np.array(
            [[getattr(self.row(label), name) for name in PARAMETER_NAMES] for label in TABLE_ROWS],
            dtype=np.float64,
        )


#: The seed's per-session values (asia / europe / us) and the off-hours row.
#: Off hours (21:00-24:00 UTC by default) are the thinnest hours of the day, like the Asian
#: session (see docs/sessions.md for the measurement), so they take the Asian thresholds and
#: targets, with a smaller position-size factor because no major market is open.
DEFAULT_PARAMETER_VALUES: Mapping[str, Mapping[str, float]] = {
    "asia": {
        "imbalance_threshold": 0.15,
        "volatility_threshold": 0.12,
        "momentum_threshold": 0.04,
        "position_size_factor": 0.8,
        "take_profit_bps": 25.0,
        "stop_loss_bps": 15.0,
    },
    "europe": {
        "imbalance_threshold": 0.20,
        "volatility_threshold": 0.10,
        "momentum_threshold": 0.05,
        "position_size_factor": 1.0,
        "take_profit_bps": 20.0,
        "stop_loss_bps": 10.0,
    },
    "us": {
        "imbalance_threshold": 0.25,
        "volatility_threshold": 0.08,
        "momentum_threshold": 0.06,
        "position_size_factor": 1.2,
        "take_profit_bps": 15.0,
        "stop_loss_bps": 8.0,
    },
    OFF_HOURS: {
        "imbalance_threshold": 0.15,
        "volatility_threshold": 0.12,
        "momentum_threshold": 0.04,
        "position_size_factor": 0.5,
        "take_profit_bps": 25.0,
        "stop_loss_bps": 15.0,
    },
}

DEFAULT_PARAMETERS = ParameterTable.model_validate(
    {label: dict(values) for label, values in DEFAULT_PARAMETER_VALUES.items()}
)


class HyperoptRange(NamedTuple):
    """A sensible search range for one parameter (for Freqtrade's ``DecimalParameter``)."""

    low: float
    high: float
    decimals: int


#: Search ranges per parameter name, the same for every session. Each contains every
#: session's default and lies inside the validated range of the parameter.
HYPEROPT_RANGES: Mapping[str, HyperoptRange] = {
    "imbalance_threshold": HyperoptRange(0.05, 0.40, 2),
    "volatility_threshold": HyperoptRange(0.02, 0.30, 3),
    "momentum_threshold": HyperoptRange(0.01, 0.15, 3),
    "position_size_factor": HyperoptRange(0.5, 1.5, 2),
    "take_profit_bps": HyperoptRange(5.0, 60.0, 0),
    "stop_loss_bps": HyperoptRange(3.0, 40.0, 0),
}


def hyperopt_parameter_names(sessions: tuple[str, ...] = SESSION_NAMES) -> list[str]:
    """Dotted override names (``"asia.imbalance_threshold"`` ...) for the given sessions."""
    return [f"{session}.{name}" for session in sessions for name in PARAMETER_NAMES]


def _override_value(key: str, value: Any) -> float:
    # Freqtrade's DecimalParameter/IntParameter expose the current value as ``.value``.
    raw = getattr(value, "value", value)
    if isinstance(raw, bool) or not isinstance(raw, int | float | np.integer | np.floating):
        raise ValueError(f"override {key!r}: value {raw!r} is not a number")
    return float(raw)


def apply_overrides(table: ParameterTable, overrides: Mapping[str, Any]) -> ParameterTable:
    """Return a copy of ``table`` with dotted overrides applied and range-checked.

    ``overrides`` maps ``"<session>.<parameter>"`` (session one of asia, europe, us, off) to a
    number or to an object with a numeric ``.value`` (a Freqtrade hyperopt parameter), e.g.
    ``{"us.momentum_threshold": 0.055}``. Unknown names, non-numbers and out-of-range values
    raise ``ValueError`` naming the key. The input table is not changed.
    """
    updates: dict[str, dict[str, float]] = {}
    for key, value in overrides.items():
        if not isinstance(key, str) or key.count(".") != 1:
            raise ValueError(f"override name {key!r} is not '<session>.<parameter>'")
        session, name = key.split(".")
        if session not in TABLE_ROWS:
            raise ValueError(
                f"override {key!r}: unknown session {session!r} (sessions: {', '.join(TABLE_ROWS)})"
            )
        if name not in PARAMETER_NAMES:
            raise ValueError(
                f"override {key!r}: unknown parameter {name!r} "
                f"(parameters: {', '.join(PARAMETER_NAMES)})"
            )
        updates.setdefault(session, {})[name] = _override_value(key, value)
    if not updates:
        return table
    merged = table.model_dump()
    for session, values in updates.items():
        merged[session].update(values)
    try:
        return ParameterTable.model_validate(merged)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc'])}={error.get('input')!r}: {error['msg']}"
            for error in exc.errors()
        )
        raise ValueError(f"override out of range: {problems}") from exc


def parameter_columns(code: np.ndarray, table: ParameterTable) -> dict[str, np.ndarray]:
    """Each parameter of the governing session, per timestamp, from session codes.

    ``code`` holds session codes (0 off, 1 asia, 2 europe, 3 us); the result maps
    ``session_<parameter>`` to a float array of the same length.
    """
    code = np.asarray(code)
    if code.dtype.kind == "f" and np.array_equal(code, np.round(code)):
        code = code.astype(np.int64)
    if code.dtype.kind not in "iu":
        raise ValueError(f"session codes must be integers, got dtype {code.dtype}")
    if code.size and (code.min() < 0 or code.max() >= len(TABLE_ROWS)):
        raise ValueError(f"session codes must be in 0..{len(TABLE_ROWS) - 1}")
    matrix = table.as_matrix()
    return {f"session_{name}": matrix[code, column] for column, name in enumerate(PARAMETER_NAMES)}
