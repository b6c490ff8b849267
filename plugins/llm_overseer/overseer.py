"""The overseer: decides what is due each bot loop, runs model calls in the background, and
answers the advice callbacks. Freqtrade-independent; :mod:`.plugin` is the hook layer over it.

Bot thread, per loop: each pair's latest closed candle (:mod:`.market`), the portfolio state
(:mod:`.portfolio`), what is due (:mod:`.triggers`); then the rules policy (:mod:`.rules`) at
once, or a job for the worker. The advice methods only read the decision store
(:mod:`.store`). Worker thread, per job: the features and prompt (:mod:`.prompts`), the call
(:mod:`.calls`), and its proposals (or the rules' after a failure) into the store.

Decisions live on the bot's clock (``current_time``: the candle time in backtests); a model's
decision takes effect at the bot time of its submission plus the wall time the call took.
The budget's day is the wall clock's UTC day (models are only called live).
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from freqtrade.exchange import timeframe_to_seconds

from plugins.llm_overseer.calls import Answered, CallRequest, Failed, ModelCaller
from plugins.llm_overseer.client import ModelClient
from plugins.llm_overseer.decisions import Proposal, bound_proposal
from plugins.llm_overseer.journal import DecisionJournal
from plugins.llm_overseer.ledger import SpendLedger, day_of
from plugins.llm_overseer.market import (
    MarketNow,
    PairFeatures,
    latest_closed,
    market_now,
    pair_features,
)
from plugins.llm_overseer.portfolio import PortfolioState, TradeHistory
from plugins.llm_overseer.prompts import Prompt, build_prompt
from plugins.llm_overseer.rules import rules_proposals
from plugins.llm_overseer.settings import Settings
from plugins.llm_overseer.store import DecisionStore, Effective
from plugins.llm_overseer.triggers import DueCall, Scheduler
from plugins.llm_overseer.worker import Worker
from trading_agent import LIVE_RUNMODES, EntryVerdict, RiskAdvice, TradeSnapshot
from trading_agent.candles import AnalyzedCandles, as_candles, ticks_of
from trading_agent.safe_text import clean

logger = logging.getLogger(__name__)

EXIT_REASON = "llm_overseer_exit"
SHADOW_STOP_REASON = "llm_overseer_stop"
#: Longest message the overseer logs or sends (a decision with a full model reason fits).
MESSAGE_LIMIT = 600

Clock = Callable[[], datetime]
Notify = Callable[..., None]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)


def strategy_stop_distance(config: Mapping[str, Any]) -> float | None:
    """The strategy's own stop distance: the tighter of ``stoploss`` and the hard limit.

    Freqtrade puts the strategy's ``stoploss`` into the config; ``trading_agent.risk.stoploss``
    is the project's hard limit. ``None`` when neither is known.
    """
    candidates = [config.get("stoploss")]
    agent = config.get("trading_agent")
    if isinstance(agent, Mapping) and isinstance(agent.get("risk"), Mapping):
        candidates.append(agent["risk"].get("stoploss"))
    found = [
        abs(float(v))
        for v in candidates
        if isinstance(v, int | float) and not isinstance(v, bool) and v and math.isfinite(v)
    ]
    return min(found) if found else None


@dataclass(frozen=True, slots=True)
class _Job:
    """A model call handed to the worker, with everything known at submission.

    The prompt's features are read on the worker from ``market``'s row, so the bot's thread
    never pays for them and a skipped submission costs nothing.
    """

    due: DueCall
    market: MarketNow
    portfolio: PortfolioState
    active: dict[str, Any]
    bot_ts: datetime
    wall_start: float


@dataclass(slots=True)
class _Seen:
    """The last frame read for a pair: its open times, and the market of its closed rows."""

    frame: pd.DataFrame
    open_times: np.ndarray
    rows: int = -1
    market: MarketNow | None = None


class ReplayFeed:
    """Applies recorded decisions to a store at their recorded times, never earlier."""

    def __init__(self, journal_path: str, store: DecisionStore) -> None:
        path = Path(journal_path)
        if not path.is_file():
            raise ValueError(f"replay_journal {journal_path!r} does not exist")
        journal = DecisionJournal(path)
        try:
            self.decisions = [(_aware(ts), p) for ts, p in journal.decisions()]
        finally:
            journal.close()
        self.store = store
        self._cursor = 0
        self._last: datetime | None = None

    def advance(self, now: datetime) -> None:
        """Apply every recorded decision with a timestamp at or before ``now``."""
        if self._last is not None and now < self._last:
            self.store.clear()
            self._cursor = 0
        self._last = now
        while self._cursor < len(self.decisions):
            ts, proposal = self.decisions[self._cursor]
            if ts > now:
                break
            self.store.apply(proposal, ts)
            self._cursor += 1


class Overseer:
    """Everything the ``llm_overseer`` plugin does, without Freqtrade."""

    def __init__(
        self,
        settings: Settings,
        *,
        config: Mapping[str, Any] | None = None,
        runmode: str = "dry_run",
        notify: Notify | None = None,
        clock: Clock = _utcnow,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.settings = settings
        self.config = dict(config or {})
        self.runmode = str(runmode)
        self._notify_fn = notify
        self.clock = clock
        env = os.environ if environ is None else environ
        self.live = self.runmode in LIVE_RUNMODES
        self.shadow = settings.shadow and self.live
        self.strategy_stop = strategy_stop_distance(self.config)
        capital = settings.capital_quote or self.config.get("dry_run_wallet") or 1000.0
        if isinstance(capital, Mapping):
            capital = sum(float(v) for v in capital.values()) or 1000.0
        self.history = TradeHistory(float(capital))
        self.store = DecisionStore(settings.authority, settings.decisions)
        self.scheduler = Scheduler(settings)
        self.journal: DecisionJournal | None = None
        self.ledger: SpendLedger | None = None
        self.client: ModelClient | None = None
        self.worker: Worker | None = None
        self.caller: ModelCaller | None = None
        self.replay: ReplayFeed | None = None
        self._budget_day: str | None = None
        self._aliases: dict[str, str] = {}
        self._unusable: set[str] = set()  # pairs whose frames lack the overseer's columns
        self._seen: dict[str, _Seen] = {}  # per pair: the last frame read
        # Escalation requests from the worker, drained by the bot thread (deque is atomic).
        self._escalations: deque[tuple[str, str]] = deque()
        self._peaks: dict[int, float] = {}
        self.mode = self._resolve_mode(env)
        self.timeframe = self._timeframe()
        self._open_resources(env)

    # ------------------------------------------------------------------ set-up
    def _resolve_mode(self, env: Mapping[str, str]) -> str:
        mode = self.settings.mode
        if mode == "llm" and not self.live:
            logger.info("llm_overseer: runmode %s never calls a model: rules policy", self.runmode)
            return "rules"
        if mode == "llm" and not env.get(self.settings.api_key_env):
            self.notify(
                f"llm_overseer: environment variable {self.settings.api_key_env} is not set; "
                "using the deterministic rules policy instead of the LLM",
                key="llm_overseer:no_key",
            )
            return "rules"
        return mode

    def _timeframe(self) -> timedelta | None:
        """The candle length, which says when a candle has closed (``rules`` and ``llm``)."""
        timeframe = self.config.get("timeframe")
        if timeframe:
            return timedelta(seconds=timeframe_to_seconds(timeframe))
        if self.mode in ("rules", "llm"):
            raise ValueError(
                "llm_overseer needs the strategy's timeframe (config 'timeframe') to know "
                "which candles have closed"
            )
        return None

    def _open_resources(self, env: Mapping[str, str]) -> None:
        s = self.settings
        if self.mode == "replay":
            assert s.replay_journal is not None
            self.replay = ReplayFeed(s.replay_journal, self.store)
            return
        if self.mode == "off":
            return
        if self.live:
            self.journal = DecisionJournal(s.journal_path)
        if self.mode == "llm":
            self.ledger = SpendLedger(s.journal_path, s.budget)
            self.client = ModelClient(s.base_url, env[s.api_key_env])
            self.worker = Worker(maxsize=s.queue_size)
            self.caller = ModelCaller(
                s,
                self.client,
                self.ledger,
                self.journal,
                self.clock,
                self.strategy_stop,
                self.worker.stop_event,
            )
            if self.ledger.exhausted_notice(self.clock()):
                self._budget_day = day_of(self.clock())

    def notify(self, message: str, key: str) -> None:
        """Log ``message`` as one safe line and send it to the user (never raises).

        It may hold model or provider text, so it is cleaned here
        (:func:`trading_agent.safe_text.clean`); the strategy's ``notify`` escapes Markdown.
        """
        text = clean(message, limit=MESSAGE_LIMIT)
        logger.info(text)
        if self._notify_fn is None:
            return
        try:
            self._notify_fn(text, key=key)
        except Exception:  # a broken notifier must not break the bot
            logger.exception("llm_overseer: notification failed")

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the worker and close the journal and ledger."""
        if self.worker is not None and not self.worker.stop(timeout):
            # A call is still hanging: leave its connections and the SQLite handles open
            # (every write is already committed); the daemon thread ends with the process.
            logger.warning("llm_overseer: a model call is still running at shutdown")
            return
        if self.client is not None:
            self.client.close()
        if self.ledger is not None:
            self.ledger.close()
        if self.journal is not None:
            self.journal.close()

    # ------------------------------------------------------------------ the loop
    def on_loop(
        self,
        now: datetime,
        analyzed: Mapping[str, AnalyzedCandles | pd.DataFrame],
        open_trades: Sequence[TradeSnapshot],
    ) -> None:
        """Read each pair's latest closed candle and start what is due; returns at once.

        ``analyzed`` holds each pair's known candles (a dataframe counts as wholly known).
        """
        now = _aware(now)
        if self.mode == "off":
            return
        if self.replay is not None:
            self.replay.advance(now)
            return
        while self._escalations:
            self.scheduler.request_escalation(*self._escalations.popleft())
        markets: dict[str, MarketNow] = {}
        for pair, candles in analyzed.items():
            if pair not in self._aliases:
                self._aliases[pair] = f"asset_{len(self._aliases) + 1}"
            market = self._market(pair, as_candles(candles), now)
            if market is not None:
                markets[pair] = market
        portfolio = self.history.state(now, open_trades, markets)
        for market in markets.values():
            due = self.scheduler.due(market, portfolio, now)
            if due is None:
                continue
            if self.mode == "llm" and not self._budget_spent_today():
                if due.tier == 3:
                    # Emergencies get the rules' protection at once; the model refines it.
                    self.apply(rules_proposals(market, portfolio, self.settings), now)
                self._submit(due, market, portfolio, now)
            else:
                if due.tier >= 2:
                    self._announce_escalation(due, "rules")
                self.apply(rules_proposals(market, portfolio, self.settings), now)

    def _market(self, pair: str, candles: AnalyzedCandles, now: datetime) -> MarketNow | None:
        """The pair's per-candle values at ``now``, ``None`` while they are unknown.

        A frame's open times are taken once, and its latest closed row read again only when
        it moves (live, the frame repeats between candles).
        """
        assert self.timeframe is not None  # required in the modes that read candles
        frame = candles.source_frame()
        seen = self._seen.get(pair)
        new_frame = seen is None or seen.frame is not frame
        if new_frame:
            if "date" not in frame.columns:
                return None if frame.empty else self._unusable_frame(pair, "date")
            seen = self._seen[pair] = _Seen(frame, ticks_of(frame["date"]))
        rows, row = latest_closed(candles, seen.open_times, now, self.timeframe, new_frame)
        if rows != seen.rows:
            try:
                ratio = self.settings.escalation.high_vol_ratio
                seen.market = market_now(pair, row, frame.columns, ratio)
            except KeyError as missing:
                return self._unusable_frame(pair, str(missing))
            seen.rows = rows
        return seen.market

    def _unusable_frame(self, pair: str, column: str) -> None:
        if pair not in self._unusable:
            self._unusable.add(pair)
            logger.warning(
                "llm_overseer: the candles of %s lack the column %s: does the strategy join "
                "the plugins' add_indicators?",
                pair,
                column,
            )

    def _budget_spent_today(self) -> bool:
        return self._budget_day is not None and self._budget_day == day_of(self.clock())

    def _announce_escalation(self, due: DueCall, by: str) -> None:
        if self.live:
            self.notify(
                f"llm_overseer: tier {due.tier} review of {due.pair} ({by}): "
                f"{', '.join(due.reasons)}",
                key=f"llm_overseer:escalation:{due.pair}",
            )

    def _submit(
        self, due: DueCall, market: MarketNow, portfolio: PortfolioState, now: datetime
    ) -> None:
        assert self.worker is not None
        key = f"{due.pair}:tier{due.tier}"
        if due.tier >= 2:
            self._announce_escalation(due, "model")
        if self.worker.pending(key):  # e.g. the model still thinking: no job to build
            logger.debug("llm_overseer: %s still pending; skipped", key)
            return
        eff = self.store.effective(due.pair, now)  # the risk in force (part of the context)
        active = {
            "stake_multiplier": round(eff.stake_multiplier, 2),
            "entries_paused": eff.pause_entries,
            "stop_distance": eff.stop_distance,
            "strategy_stop": self.strategy_stop,
        }
        job = _Job(due, market, portfolio, active, now, time.monotonic())
        if not self.worker.submit(key, 4 - due.tier, lambda: self._run_job(job)):
            # Not journalled here: the bot thread does no disk writes for the model path.
            logger.info("llm_overseer: %s already pending or queue full; skipped", key)

    # ------------------------------------------------------------------ worker side
    def job_context(self, job: _Job) -> tuple[PairFeatures, Prompt]:
        """The features and the prompt of a job (on the worker; same as at submission time)."""
        features = pair_features(job.market, self.settings.indicator_columns)
        prompt = build_prompt(
            job.due.tier,
            features,
            job.portfolio,
            job.active,
            self.settings.authority,
            reasons=job.due.reasons if job.due.tier > 1 else (),
            anonymise=self.settings.anonymise,
            aliases=self._aliases,
        )
        return features, prompt

    def _bot_time(self, job: _Job) -> datetime:
        return job.bot_ts + timedelta(seconds=time.monotonic() - job.wall_start)

    def _run_job(self, job: _Job) -> None:
        """Worker thread: the call, then its proposals or the rules policy in the store."""
        assert self.caller is not None
        due = job.due
        try:
            _, prompt = self.job_context(job)
            outcome = self.caller.call(
                CallRequest(due.pair, due.tier, due.reasons, prompt, lambda: self._bot_time(job))
            )
        except Exception as exc:  # a bug must still leave the rules' decision in force
            logger.exception("llm_overseer: tier %s call for %s failed", due.tier, due.pair)
            outcome = Failed(f"internal error: {exc}")
        if isinstance(outcome, Answered):
            self.apply(outcome.proposals, self._bot_time(job), outcome.call_id)
            asked = outcome.proposals[0].escalate and due.tier == 1
            if asked and self.settings.escalation.honour_model_escalation:
                self._escalations.append((due.pair, "tier 1 asked for escalation"))
        elif isinstance(outcome, Failed):
            if outcome.budget:
                self._budget_exhausted(outcome.why)
            else:
                self.notify(
                    f"llm_overseer: tier {due.tier} call for {due.pair} failed ({outcome.why}); "
                    "rules policy applied",
                    key="llm_overseer:failure",
                )
            fallback = rules_proposals(job.market, job.portfolio, self.settings, source="fallback")
            self.apply(fallback, self._bot_time(job))

    def _budget_exhausted(self, why: str) -> None:
        now = self.clock()
        self._budget_day = day_of(now)
        assert self.ledger is not None
        if self.ledger.mark_notified(now, why):
            self.notify(
                f"llm_overseer: daily LLM budget exhausted ({why}); rules policy until 00:00 UTC",
                key="llm_overseer:budget",
            )

    # ------------------------------------------------------------------ decisions
    def apply(
        self, proposals: Sequence[Proposal], now: datetime, call_id: int | None = None
    ) -> None:
        """Bound, store and journal ``proposals`` at ``now``; announce what they changed."""
        for raw in proposals:
            p = bound_proposal(raw, self.settings.authority, self.strategy_stop)
            outcome = self.store.apply(p, now)
            if self.journal is not None:
                self.journal.record_decision(now, p, outcome, call_id=call_id, shadow=self.shadow)
            if outcome.applied and set(outcome.changed) - {"refreshed"} and self.live:
                self.notify(
                    _describe(p, outcome.changed, self.shadow),
                    key=f"llm_overseer:decision:{p.scope}",
                )

    # ------------------------------------------------------------------ advice
    def effective(self, pair: str, now: datetime) -> Effective:
        """The advice in force for ``pair`` at ``now`` (replay advanced first)."""
        now = _aware(now)
        if self.replay is not None:
            self.replay.advance(now)
        return self.store.effective(pair, now)

    def entry_verdict(self, pair: str, now: datetime) -> EntryVerdict | None:
        """Veto when entries are paused for the pair or for all pairs."""
        if self.mode == "off" or self.shadow:
            return None
        eff = self.effective(pair, now)
        if eff.pause_entries:
            return EntryVerdict(False, f"llm_overseer: entries paused ({eff.reason})")
        return None

    def risk(self, pair: str, now: datetime) -> RiskAdvice | None:
        """Stake multiplier and stop from the decision in force (``None`` when neutral)."""
        if self.mode == "off" or self.shadow:
            return None
        eff = self.effective(pair, now)
        if not eff.source:
            return None
        auth = self.settings.authority
        mult = min(max(eff.stake_multiplier, auth.stake_multiplier_min), auth.stake_multiplier_max)
        stop = None
        if eff.stop_distance is not None and math.isfinite(eff.stop_distance):
            stop = -min(max(eff.stop_distance, auth.min_stop_distance), auth.max_stop_distance)
        return RiskAdvice(
            stake_multiplier=mult, stoploss=stop, reason=f"llm_overseer: {eff.reason}"
        )

    def exit_reason(self, trade: TradeSnapshot, now: datetime, current_profit: float) -> str | None:
        """An exit request for a trade opened before the request, else ``None``."""
        if self.mode == "off":
            return None
        now = _aware(now)
        eff = self.effective(trade.pair, now)
        wanted = (
            eff.exit_requested
            and eff.exit_since is not None
            and _aware(trade.open_date) <= eff.exit_since
        )
        if self.shadow:
            self._shadow_exit_check(trade, now, current_profit, eff, wanted)
            return None
        return EXIT_REASON if wanted else None

    def _shadow_exit_check(
        self, trade: TradeSnapshot, now: datetime, profit: float, eff: Effective, wanted: bool
    ) -> None:
        if self.journal is None:
            return
        peak = max(self._peaks.get(trade.trade_id, profit), profit)
        self._peaks[trade.trade_id] = peak
        if wanted:
            self.journal.record_shadow_exit(trade.trade_id, now, EXIT_REASON, profit)
        elif eff.stop_distance is not None:
            level = (1 + peak) * (1 - eff.stop_distance) - 1
            if profit <= level:
                self.journal.record_shadow_exit(trade.trade_id, now, SHADOW_STOP_REASON, profit)

    def on_filled(self, trade: TradeSnapshot, order_side: str, now: datetime) -> None:
        """Shadow mode: remember the overseer's advice at a trade's entry fill."""
        is_entry = (order_side.lower() == "buy") != trade.is_short
        if self.shadow and self.journal is not None and is_entry:
            self.journal.record_shadow_entry(
                trade.trade_id, trade.pair, _aware(now), self.effective(trade.pair, now)
            )

    def on_closed(self, trade: TradeSnapshot) -> None:
        """Feed a closed trade into the portfolio state (and the journal, live)."""
        self.history.add_closed(trade)
        self._peaks.pop(trade.trade_id, None)
        if self.journal is not None:
            self.journal.record_trade(trade)


def _describe(p: Proposal, changed: Sequence[str], shadow: bool) -> str:
    scope = "all pairs" if p.scope == "*" else p.scope
    parts = [f"stake x{p.stake_multiplier:.2f}"]
    if p.pause_entries:
        parts.append("entries paused")
    if p.stop_distance is not None:
        parts.append(f"stop {p.stop_distance:.2%}")
    if p.exit_position:
        parts.append("exit requested")
    head = "llm_overseer (shadow, not applied)" if shadow else "llm_overseer"
    tier = f" tier {p.tier}" if p.tier else ""
    return (
        f"{head}{tier} [{p.source}] {scope}: {', '.join(parts)} "
        f"(changed: {', '.join(changed)}) - {p.reason}"
    )
