"""Fault injection for end-to-end tests: make the venue misbehave on purpose, for a while.

A fault is set with ``POST /_venue/faults`` (JSON body validated by :class:`FaultSpec`) and
lasts ``duration_s`` seconds, or until cleared with ``DELETE /_venue/faults[?kind=...]``.
Setting a kind again replaces the active fault of that kind. Kinds:

- ``http_error``: answer the affected endpoints with HTTP ``status`` (default 500) and a plain
  text body, as a failing gateway does (ccxt raises ``ExchangeNotAvailable`` for 5xx);
- ``delay``: wait ``delay_s`` seconds before answering (a client timeout shorter than that sees
  ``RequestTimeout``);
- ``empty_book``: ``depth`` answers with no levels; ``bookTicker``/``ticker/24hr`` bid and ask
  are null;
- ``crossed_book``: bids are lifted so the best bid is one tick above the best ask;
- ``stale``: dataset time D freezes at the moment the fault is set; klines, tickers, book and
  trades stop moving (``/api/v3/time`` keeps the real clock, as a stuck feed would).

``endpoints`` limits a fault to some endpoints (names as in :data:`ENDPOINTS`); the control
paths under ``/_venue/`` are never affected.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

FaultKind = Literal["http_error", "delay", "empty_book", "crossed_book", "stale"]
EndpointName = Literal[
    "ping",
    "time",
    "exchangeInfo",
    "defaultSymbols",
    "klines",
    "depth",
    "trades",
    "aggTrades",
    "ticker/24hr",
    "ticker/price",
    "ticker/bookTicker",
    "avgPrice",
    "contract/detail",
    "tradeFee",
    "capital/config/getall",
    "order",
    "order/test",
]
FAULT_KINDS: tuple[str, ...] = get_args(FaultKind)
ENDPOINTS: tuple[str, ...] = get_args(EndpointName)


class FaultSpec(BaseModel):
    """One fault to inject (the JSON body of ``POST /_venue/faults``)."""

    model_config = ConfigDict(extra="forbid")

    kind: FaultKind
    duration_s: float | None = Field(default=None, gt=0, le=7 * 86400)
    status: int = Field(default=500, ge=400, le=599)
    delay_s: float = Field(default=5.0, gt=0, le=600)
    endpoints: list[EndpointName] | None = None


@dataclass(frozen=True)
class ActiveFault:
    """A fault in force: its spec, when it ends (monotonic seconds) and, for ``stale``, D."""

    spec: FaultSpec
    started: float
    expires: float | None
    frozen_dataset_ms: int | None

    def applies_to(self, endpoint: str) -> bool:
        """True when the fault covers ``endpoint``."""
        return self.spec.endpoints is None or endpoint in self.spec.endpoints

    def describe(self, now: float) -> dict[str, object]:
        """JSON-friendly view for ``GET /_venue/state``."""
        out: dict[str, object] = self.spec.model_dump()
        out["remaining_s"] = None if self.expires is None else round(self.expires - now, 3)
        if self.frozen_dataset_ms is not None:
            out["frozen_dataset_ms"] = self.frozen_dataset_ms
        return out


class FaultBoard:
    """The active faults, safe to use from several threads."""

    def __init__(self, monotonic=time.monotonic) -> None:
        self._faults: dict[str, ActiveFault] = {}
        self._lock = threading.Lock()
        self._monotonic = monotonic

    def set(self, spec: FaultSpec, dataset_ms: int) -> ActiveFault:
        """Activate ``spec`` (replacing an active fault of the same kind).

        ``dataset_ms`` is the dataset time D when the fault is set (frozen by ``stale``).
        """
        now = self._monotonic()
        with self._lock:
            previous = self._live(now).get(spec.kind)
            frozen = None
            if spec.kind == "stale":
                frozen = previous.frozen_dataset_ms if previous is not None else dataset_ms
            fault = ActiveFault(
                spec=spec,
                started=now,
                expires=None if spec.duration_s is None else now + spec.duration_s,
                frozen_dataset_ms=frozen,
            )
            self._faults[spec.kind] = fault
            return fault

    def clear(self, kind: str | None = None) -> int:
        """Clear one kind (or all when ``kind`` is None); returns how many were cleared."""
        if kind is not None and kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r} (known: {', '.join(FAULT_KINDS)})")
        with self._lock:
            if kind is None:
                n = len(self._faults)
                self._faults.clear()
                return n
            return 1 if self._faults.pop(kind, None) is not None else 0

    def active(self, endpoint: str | None = None) -> dict[str, ActiveFault]:
        """Faults in force now, by kind (only those covering ``endpoint`` when given)."""
        if not self._faults:
            return {}
        with self._lock:
            live = self._live(self._monotonic())
        if endpoint is None:
            return live
        return {k: f for k, f in live.items() if f.applies_to(endpoint)}

    def describe(self) -> list[dict[str, object]]:
        """JSON-friendly list of the faults in force."""
        now = self._monotonic()
        with self._lock:
            return [f.describe(now) for f in self._live(now).values()]

    def _live(self, now: float) -> dict[str, ActiveFault]:
        expired = [k for k, f in self._faults.items() if f.expires is not None and f.expires <= now]
        for k in expired:
            del self._faults[k]
        return dict(self._faults)
