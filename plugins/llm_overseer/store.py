"""The decision store: the latest bounded decision per pair (and for all pairs).

Strategy callbacks read it; the background worker (or the rules policy) writes it. Reads and
writes hold a lock only around dictionary reads and writes, so a reader never waits on a model.

Rules of the store:

- A decision expires ``ttl_minutes`` after it was applied and the pair reverts to neutral
  (multiplier at the authority maximum, no pause, no stop view, no exit request).
- Hysteresis, per component: a risk-*reducing* change (lower multiplier, pause, tighter stop,
  exit request) applies at once if it is larger than the band; a risk-*increasing* change
  (higher multiplier, lifting a pause, looser or no stop, withdrawing an exit request) applies
  only once the current value has been in force for ``min_hold_minutes`` and the change is
  larger than the band. A change inside the band keeps the current value and refreshes the
  expiry.
- Effective advice for a pair combines the pair's entry and the all-pairs entry: smallest
  multiplier, any pause, tightest stop, any exit request.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from plugins.llm_overseer.decisions import ALL_PAIRS, Proposal
from plugins.llm_overseer.settings import AuthoritySettings, DecisionSettings

_EPS = 1e-12


@dataclass(frozen=True, slots=True)
class ScopeState:
    """The decision in force for one scope, with when each component was last set."""

    stake_multiplier: float
    multiplier_since: datetime
    pause_entries: bool
    pause_since: datetime
    stop_distance: float | None
    stop_since: datetime
    exit_requested: bool
    exit_since: datetime
    expires_at: datetime
    reason: str
    source: str


@dataclass(frozen=True, slots=True)
class ApplyOutcome:
    """What :meth:`DecisionStore.apply` did with a proposal."""

    changed: tuple[str, ...]
    held: tuple[str, ...]
    expires_at: datetime

    @property
    def applied(self) -> bool:
        """True when at least one component changed."""
        return bool(self.changed)


@dataclass(frozen=True, slots=True)
class Effective:
    """The overseer's current advice for one pair (neutral when nothing is in force)."""

    stake_multiplier: float
    pause_entries: bool
    stop_distance: float | None
    exit_requested: bool
    exit_since: datetime | None
    reason: str
    source: str


class DecisionStore:
    """Thread-safe latest-decision-per-scope store with expiry and hysteresis."""

    def __init__(self, authority: AuthoritySettings, decisions: DecisionSettings) -> None:
        self.authority = authority
        self.decisions = decisions
        self._states: dict[str, ScopeState] = {}
        self._lock = threading.Lock()

    def neutral(self) -> Effective:
        """Advice when no decision is in force."""
        return Effective(self.authority.stake_multiplier_max, False, None, False, None, "", "")

    def apply(self, proposal: Proposal, now: datetime) -> ApplyOutcome:
        """Merge ``proposal`` into its scope at time ``now`` (hysteresis, new expiry)."""
        expires = now + timedelta(minutes=proposal.ttl_minutes)
        with self._lock:
            old = self._states.get(proposal.scope)
            if old is None or old.expires_at <= now:
                state = ScopeState(
                    stake_multiplier=proposal.stake_multiplier,
                    multiplier_since=now,
                    pause_entries=proposal.pause_entries,
                    pause_since=now,
                    stop_distance=proposal.stop_distance,
                    stop_since=now,
                    exit_requested=proposal.exit_position,
                    exit_since=now,
                    expires_at=expires,
                    reason=proposal.reason,
                    source=proposal.source,
                )
                changed = _diff_vs_neutral(proposal, self.neutral()) or ("refreshed",)
                held: tuple[str, ...] = ()
            else:
                merged, changed, held = self._merge(old, proposal, now)
                state = replace(
                    merged, expires_at=expires, reason=proposal.reason, source=proposal.source
                )
            self._states[proposal.scope] = state
            return ApplyOutcome(changed, held, expires)

    def _merge(
        self, old: ScopeState, new: Proposal, now: datetime
    ) -> tuple[ScopeState, tuple[str, ...], tuple[str, ...]]:
        hold = timedelta(minutes=self.decisions.min_hold_minutes)
        band_m = self.decisions.multiplier_band
        band_s = self.decisions.stop_band
        state = old
        changed: list[str] = []
        held: list[str] = []

        # stake multiplier
        diff = new.stake_multiplier - old.stake_multiplier
        if abs(diff) > _EPS:
            reducing = diff < 0
            big = abs(diff) + _EPS >= band_m or (
                reducing and new.stake_multiplier <= self.authority.stake_multiplier_min
            )
            if big and (reducing or now - old.multiplier_since >= hold):
                state = replace(state, stake_multiplier=new.stake_multiplier, multiplier_since=now)
                changed.append("stake_multiplier")
            else:
                held.append("stake_multiplier")

        # pause
        if new.pause_entries != old.pause_entries:
            if new.pause_entries or now - old.pause_since >= hold:
                state = replace(state, pause_entries=new.pause_entries, pause_since=now)
                changed.append("pause_entries")
            else:
                held.append("pause_entries")

        # stop distance (smaller = tighter)
        if new.stop_distance != old.stop_distance:
            if old.stop_distance is None:
                tighter, big = True, True
            elif new.stop_distance is None:
                tighter, big = False, True
            else:
                tighter = new.stop_distance < old.stop_distance
                big = abs(new.stop_distance - old.stop_distance) + _EPS >= band_s
            if big and (tighter or now - old.stop_since >= hold):
                state = replace(state, stop_distance=new.stop_distance, stop_since=now)
                changed.append("stop_distance")
            else:
                held.append("stop_distance")

        # exit request
        if new.exit_position != old.exit_requested:
            if new.exit_position or now - old.exit_since >= hold:
                state = replace(state, exit_requested=new.exit_position, exit_since=now)
                changed.append("exit_position")
            else:
                held.append("exit_position")
        return state, tuple(changed), tuple(held)

    def effective(self, pair: str, now: datetime) -> Effective:
        """Combine the pair's and the all-pairs decision in force at ``now``."""
        with self._lock:
            states = [self._states.get(pair), self._states.get(ALL_PAIRS)]
        live = [s for s in states if s is not None and s.expires_at > now]
        if not live:
            return self.neutral()
        stops = [s.stop_distance for s in live if s.stop_distance is not None]
        exits = [s.exit_since for s in live if s.exit_requested]
        return Effective(
            stake_multiplier=min(s.stake_multiplier for s in live),
            pause_entries=any(s.pause_entries for s in live),
            stop_distance=min(stops) if stops else None,
            exit_requested=bool(exits),
            exit_since=min(exits) if exits else None,
            reason="; ".join(s.reason for s in live if s.reason),
            source="+".join(s.source for s in live),
        )

    def clear(self) -> None:
        """Forget every decision (used when a replay is rewound)."""
        with self._lock:
            self._states.clear()


def _diff_vs_neutral(p: Proposal, neutral: Effective) -> tuple[str, ...]:
    out = []
    if abs(p.stake_multiplier - neutral.stake_multiplier) > _EPS:
        out.append("stake_multiplier")
    if p.pause_entries:
        out.append("pause_entries")
    if p.stop_distance is not None:
        out.append("stop_distance")
    if p.exit_position:
        out.append("exit_position")
    return tuple(out)
