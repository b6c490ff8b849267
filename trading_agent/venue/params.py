"""Query parameters as MEXC reads them: integers, bounded limits, decimals, mandatory names.

Every parser raises :class:`trading_agent.venue.errors.VenueError` naming the parameter and the
bad value (malformed: code 700008; out of range or missing: code 730002).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal

from trading_agent.venue.errors import invalid_param, malformed_param, missing_param

Query = Mapping[str, str]

_INTEGER = re.compile(r"-?[0-9]{1,19}")
_DECIMAL = re.compile(r"[0-9]{1,20}(\.[0-9]{1,20})?")


def int_param(query: Query, name: str, lo: int, hi: int | None = None) -> int | None:
    """Optional integer query parameter (None when absent).

    VenueError names the parameter when it is not an ASCII integer or not in ``[lo, hi]``.
    """
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    if _INTEGER.fullmatch(raw) is None:
        raise malformed_param(name, raw)
    value = int(raw)
    if value < lo or (hi is not None and value > hi):
        bounds = f"between {lo} and {hi}" if hi is not None else f"at least {lo}"
        raise invalid_param(f"Parameter '{name}' must be {bounds}, got {value}.")
    return value


def limit_param(query: Query, default: int, maximum: int) -> int:
    """The ``limit`` parameter in ``[1, maximum]``, ``default`` when absent."""
    value = int_param(query, "limit", 1, maximum)
    return default if value is None else value


def required(query: Query, name: str) -> str:
    """A mandatory parameter's text; VenueError when it is absent or empty."""
    raw = query.get(name)
    if not raw:
        raise missing_param(name)
    return raw


def positive_decimal(query: Query, name: str) -> Decimal | None:
    """Optional plain positive decimal (``0.001``; no sign, exponent or spaces), None if absent."""
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    if _DECIMAL.fullmatch(raw) is None:
        shown = raw if len(raw) <= 40 else raw[:40] + "..."
        raise invalid_param(f"Parameter '{name}' must be a positive decimal, got {shown!r}.")
    value = Decimal(raw)  # the pattern admits only plain decimals
    if value <= 0:
        raise invalid_param(f"Parameter '{name}' must be above 0, got {raw}.")
    return value
