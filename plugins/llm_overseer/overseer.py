"""The overseer: schedules decisions, runs models in the background, and answers callbacks.

Freqtrade-independent; :mod:`plugins.llm_overseer.plugin` is the thin hook layer over it.

Threads: ``on_loop`` and the advice methods run on the bot's thread and only read the decision
store (or hand a job to the worker); model calls, retries, parsing, the ledger and the journal
writes for calls run on the worker thread.

Clocks: decisions live on the bot's clock (``current_time``; candle time in backtests). A
model's decision takes effect at the bot time of its submission plus the wall time it took.
The budget's day is the wall clock's UTC day (models are only called live).
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from plugins.llm_overseer.client import ModelCallError, ModelClient
from plugins.llm_overseer.columns import vol_ratio_column
from plugins.llm_overseer.context import (
    CoreArrays,
    CoreFeatures,
    LayoutCache,
    PairFeatures,
    PortfolioState,
    TradeHistory,
    build_features,
    closed_in,
    closed_span,
    core_arrays,
    core_features,
    core_from_arrays,
    epoch_ns,
)
from plugins.llm_overseer.decisions import (
    SCHEMA_NAMES,
    InvalidAnswer,
    Proposal,
    answer_schema,
    answer_to_proposals,
    bound_proposal,
    parse_answer,
)
from plugins.llm_overseer.journal import CallRecord, DecisionJournal
from plugins.llm_overseer.ledger import SpendLedger, call_cost, day_of
from plugins.llm_overseer.prompts import Prompt, build_prompt, estimate_tokens
from plugins.llm_overseer.rules import rules_proposals
from plugins.llm_overseer.settings import Settings
from plugins.llm_overseer.store import DecisionStore, Effective
from plugins.llm_overseer.triggers import DueCall, Scheduler
from plugins.llm_overseer.worker import Worker
from trading_agent import LIVE_RUNMODES, EntryVerdict, RiskAdvice, TradeSnapshot
from trading_agent.candles import AnalyzedCandles, as_candles

logger = logging.getLogger(__name__)

EXIT_REASON = "llm_overseer_exit"
SHADOW_STOP_REASON = "llm_overseer_stop"

Clock = Callable[[], datetime]
Notify = Callable[..., None]


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _aware(ts: datetime) -> datetime:
    return ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)


def parse_timeframe(tf: str | None) -> timedelta | None:
    """``"5m"`` -> 5 minutes (``m``, ``h``, ``d``, ``w``); ``None`` when unknown."""
    if not tf:
        return None
    units = {"m": 1, "h": 60, "d": 1440, "w": 10080}
    try:
        return timedelta(minutes=int(tf[:-1]) * units[tf[-1]])
    except (KeyError, ValueError):
        return None


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

    The prompt's features are built on the worker from ``frame`` (the pair's analysed frame,
    only read) and ``core.n_closed``, so the bot's thread never pays for them and a skipped
    submission costs nothing.
    """

    due: DueCall
    core: CoreFeatures
    frame: pd.DataFrame
    portfolio: PortfolioState
    active: dict[str, Any]
    bot_ts: datetime
    wall_start: float


class ReplayFeed:
    """Applies recorded decisions to a store at their recorded times, never earlier."""

    def __init__(self, journal_path: str, store: DecisionStore) -> None:
        path = Path(journal_path)
        if not path.is_file():
            raise ValueError(f"replay_journal {journal_path!r} does not exist")
        journal = DecisionJournal(path)
        try:
            self.decisions = journal.decisions()
        finally:
            journal.close()
        self.store = store
        self._cursor = 0
        self._last: datetime | None = None

    def advance(self, now: datetime) -> int:
        """Apply every recorded decision with a timestamp at or before ``now``."""
        now = _aware(now)
        if self._last is not None and now < self._last:
            self.store.clear()
            self._cursor = 0
        self._last = now
        n = 0
        while self._cursor < len(self.decisions) and _aware(self.decisions[self._cursor].ts) <= now:
            rec = self.decisions[self._cursor]
            self.store.apply(rec.proposal, _aware(rec.ts))
            self._cursor += 1
            n += 1
        return n


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
        self.timeframe = parse_timeframe(self.config.get("timeframe"))
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
        self.replay: ReplayFeed | None = None
        self._cache: dict[tuple[int, str, str], tuple[float, list[Proposal]]] = {}
        self._budget_day: str | None = None
        self._aliases: dict[str, str] = {}
        # Per pair: column positions, and the core features of the last frame seen (reused
        # while the frame and its closed candles are unchanged, e.g. between candles live).
        self._layouts: dict[str, LayoutCache] = {}
        self._arrays: dict[str, CoreArrays] = {}
        self._core_cache: dict[str, tuple[CoreArrays, int, CoreFeatures]] = {}
        # The precomputed column exists in backtests only (see the plugin's add_indicators).
        self._vol_ratio_column = None if self.live else vol_ratio_column(settings.context_candles)
        self.skipped_submissions = 0
        # Escalation requests from the worker, drained by the bot thread (deque is atomic).
        self._escalations: deque[tuple[str, str]] = deque()
        self._peaks: dict[int, float] = {}
        self.mode = self._resolve_mode(env)
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
            if self.ledger.exhausted_notice(self.clock()):
                self._budget_day = day_of(self.clock())

    def notify(self, message: str, key: str) -> None:
        """Send a user notification (never raises) and log it."""
        logger.info(message)
        if self._notify_fn is None:
            return
        try:
            self._notify_fn(message, key=key)
        except Exception:  # a broken notifier must not break the bot
            logger.exception("llm_overseer: notification failed")

    def stop(self, timeout: float = 2.0) -> None:
        """Stop the worker and close the journal and ledger."""
        if self.worker is not None:
            self.worker.stop(timeout)
            if self.worker.alive:
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
        """Update the context and start whatever decisions are due; returns at once.

        ``analyzed`` holds each pair's known candles (a plain dataframe counts as wholly
        known).
        """
        now = _aware(now)
        if self.mode == "off":
            return
        if self.mode == "replay":
            assert self.replay is not None
            self.replay.advance(now)
            return
        while self._escalations:
            self.scheduler.request_escalation(*self._escalations.popleft())
        now_ns = epoch_ns(now)
        cores: dict[str, CoreFeatures] = {}
        candles: dict[str, AnalyzedCandles] = {}
        for pair, value in analyzed.items():
            if pair not in self._aliases:
                self._aliases[pair] = f"asset_{len(self._aliases) + 1}"
            candles[pair] = known = as_candles(value)
            core = self._core(pair, known, now, now_ns)
            if core is not None:
                cores[pair] = core
        portfolio = self.history.state(now, open_trades, cores)
        for pair, core in cores.items():
            due = self.scheduler.due(core, portfolio, now)
            if due is None:
                continue
            if self.mode == "llm" and not self._budget_spent_today():
                if due.tier == 3:
                    # Emergencies get the rules' protection at once; the model refines it.
                    self._apply_all(rules_proposals(core, portfolio, self.settings), now, None)
                self._submit(due, core, candles[pair].frame(), portfolio, now)
            else:
                if due.tier >= 2:
                    self._announce_escalation(due, "rules")
                self._apply_all(rules_proposals(core, portfolio, self.settings), now, None)

    def _layout_cache(self, pair: str) -> LayoutCache:
        cache = self._layouts.get(pair)
        if cache is None:
            s = self.settings
            cache = LayoutCache(s.indicator_columns, s.pattern_prefixes, s.pattern_exclude_suffixes)
            self._layouts[pair] = cache
        return cache

    def _core_arrays(self, pair: str, candles: AnalyzedCandles) -> CoreArrays | None:
        """The pair's column arrays, taken once per frame object (once per backtest)."""
        frame = candles.source_frame()
        arrays = self._arrays.get(pair)
        if arrays is None or arrays.frame is not frame:
            date, close = self._layout_cache(pair).price_positions(frame.columns)
            arrays = core_arrays(frame, date, close, self._vol_ratio_column)
            if arrays is None:
                return None
            self._arrays[pair] = arrays
        return arrays

    def _core(
        self, pair: str, candles: AnalyzedCandles, now: datetime, now_ns: int
    ) -> CoreFeatures | None:
        """The pair's per-candle features at ``now`` (cached while its closed rows repeat)."""
        if len(candles) == 0:
            return None
        arrays = self._core_arrays(pair, candles)
        if arrays is None:
            return None
        if self.timeframe is None:
            n = closed_span(candles.frame(), now, None)[0]
        else:
            n = closed_in(arrays, candles.end, now_ns, self.timeframe)
        if n == 0:
            return None
        cached = self._core_cache.get(pair)
        if cached is not None and cached[0] is arrays:
            if cached[1] == n:
                return cached[2]
            arrays.moving = True  # one frame, a later row: a backtest
        esc = self.settings.escalation
        args = {
            "context_candles": self.settings.context_candles,
            "high_vol_ratio": esc.high_vol_ratio,
            "flash_window": esc.flash_window_candles,
        }
        layouts = self._layout_cache(pair)
        # Backtests: cells of the column precomputed in add_indicators; else the window.
        core = core_from_arrays(pair, arrays, n, layouts, timeframe=self.timeframe, **args)
        if core is None:
            core = core_features(pair, arrays.frame, n, layouts, arrays=arrays, **args)
        if core is not None:
            self._core_cache[pair] = (arrays, n, core)
        return core

    def _full_features(
        self, pair: str, df: pd.DataFrame, now: datetime, n_closed: int
    ) -> PairFeatures:
        """Everything a prompt carries about ``pair`` (same frame and rows as its core)."""
        s = self.settings
        f = build_features(
            pair,
            df,
            now,
            timeframe=self.timeframe,
            context_candles=s.context_candles,
            high_vol_ratio=s.escalation.high_vol_ratio,
            flash_window=s.escalation.flash_window_candles,
            indicator_columns=s.indicator_columns,
            pattern_prefixes=s.pattern_prefixes,
            pattern_exclude_suffixes=s.pattern_exclude_suffixes,
            n_closed=n_closed,
            layout=self._layout_cache(pair).get(df.columns),
        )
        if f is None:  # impossible: the core features of the same rows exist
            raise RuntimeError(f"llm_overseer: no features for {pair} at {now}")
        return f

    def _budget_spent_today(self) -> bool:
        return self._budget_day is not None and self._budget_day == day_of(self.clock())

    def _announce_escalation(self, due: DueCall, by: str) -> None:
        if not self.live:
            return
        self.notify(
            f"llm_overseer: tier {due.tier} review of {due.pair} ({by}): {', '.join(due.reasons)}",
            key=f"llm_overseer:escalation:{due.pair}",
        )

    def active_summary(self, pair: str, now: datetime) -> dict[str, Any]:
        """The risk settings in force for ``pair`` (part of the context)."""
        eff = self.store.effective(pair, now)
        return {
            "stake_multiplier": round(eff.stake_multiplier, 2),
            "entries_paused": eff.pause_entries,
            "stop_distance": eff.stop_distance,
            "strategy_stop": self.strategy_stop,
        }

    def _submit(
        self,
        due: DueCall,
        core: CoreFeatures,
        frame: pd.DataFrame,
        portfolio: PortfolioState,
        now: datetime,
    ) -> None:
        assert self.worker is not None
        key = f"{due.pair}:tier{due.tier}"
        if due.tier >= 2:
            self._announce_escalation(due, "model")
        if self.worker.pending(key):  # e.g. the model still thinking: no job to build
            self.skipped_submissions += 1
            logger.debug("llm_overseer: %s still pending; skipped", key)
            return
        active = self.active_summary(core.pair, now)
        job = _Job(due, core, frame, portfolio, active, now, time.monotonic())
        if not self.worker.submit(key, 4 - due.tier, lambda: self._run_job(job)):
            # Not journalled here: the bot thread does no disk writes for the model path.
            self.skipped_submissions += 1
            logger.info("llm_overseer: %s already pending or queue full; skipped", key)

    # ------------------------------------------------------------------ worker side
    def job_context(self, job: _Job) -> tuple[PairFeatures, Prompt]:
        """The features and the prompt of a job (on the worker; same as at submission time)."""
        features = self._full_features(job.due.pair, job.frame, job.bot_ts, job.core.n_closed)
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

    def _journal_call(
        self, job: _Job, prompt: Prompt, attempt: int, outcome: str, **kw: Any
    ) -> int | None:
        if self.journal is None:
            return None
        tier = self.settings.tiers.by_number(job.due.tier)
        return self.journal.record_call(
            CallRecord(
                wall_ts=self.clock(),
                bot_ts=self._bot_time(job),
                pair=job.due.pair,
                tier=job.due.tier,
                model=tier.model,
                prompt_version=prompt.version,
                prompt_hash=prompt.digest,
                attempt=attempt,
                outcome=outcome,
                triggers=job.due.reasons,
                **kw,
            )
        )

    def _run_job(self, job: _Job) -> None:
        """Worker thread: context, cache, budget, call with retries, parse, clamp, apply."""
        try:
            _, prompt = self.job_context(job)
        except Exception as exc:  # cannot happen for a frame that gave core features
            logger.exception("llm_overseer: no context for %s", job.due.pair)
            self._fallback(job, f"context: {exc}")
            return
        self._call_model(job, prompt)

    def _call_model(self, job: _Job, prompt: Prompt) -> None:
        s = self.settings
        assert self.client is not None and self.ledger is not None and self.worker is not None
        tier_no = job.due.tier
        tier = s.tiers.by_number(tier_no)
        cache_key = (tier_no, tier.model, prompt.digest)
        hit = self._cache.get(cache_key)
        if hit is not None and time.monotonic() - hit[0] <= s.cache_ttl_s:
            call_id = self._journal_call(job, prompt, 0, "cache_hit")
            cached = [replace(p, source="cache") for p in hit[1]]
            self._apply_all(cached, self._bot_time(job), call_id)
            return
        price = s.price_for(tier.model)
        assert price is not None  # guaranteed by Settings validation
        messages = [dict(m) for m in prompt.messages]
        schema = answer_schema(tier_no, s.authority, s.decisions.max_ttl_minutes)
        invalid_left = s.invalid_output_retries
        http_left = s.http_retries
        attempt = 0
        while True:
            attempt += 1
            est_tokens = estimate_tokens(sum(len(m["content"]) for m in messages)) + tier.max_tokens
            est_usd = call_cost(price, est_tokens - tier.max_tokens, tier.max_tokens)
            ok, why = self.ledger.allows(self.clock(), est_usd, est_tokens)
            if not ok:
                self._journal_call(job, prompt, attempt, "budget", error=why)
                self._budget_exhausted(why)
                self._fallback(job, f"budget: {why}", announce=False)
                return
            try:
                reply = self.client.complete(tier, messages, SCHEMA_NAMES[tier_no], schema)
            except ModelCallError as exc:
                retry_in: float | None = None
                if exc.kind == "http_429" and http_left > 0:
                    wait = exc.retry_after if exc.retry_after is not None else 1.0
                    if wait <= s.max_retry_after_s:
                        retry_in = wait
                elif exc.kind.startswith("http_5") and http_left > 0:
                    retry_in = min(0.5 * 2 ** (s.http_retries - http_left), 8.0)
                    if exc.retry_after is not None and exc.retry_after <= s.max_retry_after_s:
                        retry_in = exc.retry_after
                self._journal_call(
                    job,
                    prompt,
                    attempt,
                    exc.kind,
                    error=f"{exc}{f' (retry in {retry_in:.1f} s)' if retry_in is not None else ''}",
                )
                if retry_in is None:
                    self._fallback(job, f"{exc.kind}: {exc}")
                    return
                http_left -= 1
                if self.worker.stop_event.wait(retry_in):
                    return
                continue
            cost = call_cost(price, reply.prompt_tokens, reply.completion_tokens)
            self.ledger.record(
                self.clock(),
                tier_no,
                tier.model,
                reply.prompt_tokens,
                reply.completion_tokens,
                cost,
            )
            try:
                answer = parse_answer(tier_no, reply.text)
            except InvalidAnswer as exc:
                self._journal_call(
                    job,
                    prompt,
                    attempt,
                    "invalid",
                    error=str(exc)[:500],
                    prompt_tokens=reply.prompt_tokens,
                    completion_tokens=reply.completion_tokens,
                    cost_usd=cost,
                    latency_s=reply.latency_s,
                    response_format=reply.response_format,
                    raw_answer=(reply.text or "")[:4000],
                )
                if invalid_left <= 0:
                    self._fallback(job, f"invalid answer: {exc}")
                    return
                invalid_left -= 1
                messages = [
                    *[dict(m) for m in prompt.messages],
                    {"role": "assistant", "content": (reply.text or "")[:2000]},
                    {
                        "role": "user",
                        "content": f"That answer was invalid ({str(exc)[:300]}). Reply with "
                        "one JSON object with exactly the schema's fields.",
                    },
                ]
                continue
            call_id = self._journal_call(
                job,
                prompt,
                attempt,
                "ok",
                prompt_tokens=reply.prompt_tokens,
                completion_tokens=reply.completion_tokens,
                cost_usd=cost,
                latency_s=reply.latency_s,
                response_format=reply.response_format,
                raw_answer=(reply.text or "")[:4000],
            )
            proposals = answer_to_proposals(
                answer, tier_no, job.due.pair, s.authority, s.decisions, self.strategy_stop
            )
            self._cache[cache_key] = (time.monotonic(), proposals)
            self._apply_all(proposals, self._bot_time(job), call_id)
            if proposals[0].escalate and tier_no == 1 and s.escalation.honour_model_escalation:
                self._escalations.append((job.due.pair, "tier 1 asked for escalation"))
            return

    def _budget_exhausted(self, why: str) -> None:
        now = self.clock()
        self._budget_day = day_of(now)
        assert self.ledger is not None
        if self.ledger.mark_notified(now, why):
            self.notify(
                f"llm_overseer: daily LLM budget exhausted ({why}); rules policy until 00:00 UTC",
                key="llm_overseer:budget",
            )

    def _fallback(self, job: _Job, why: str, announce: bool = True) -> None:
        if announce:
            self.notify(
                f"llm_overseer: tier {job.due.tier} call for {job.due.pair} failed ({why}); "
                "rules policy applied",
                key="llm_overseer:failure",
            )
        props = rules_proposals(job.core, job.portfolio, self.settings, source="fallback")
        self._apply_all(props, self._bot_time(job), None)

    # ------------------------------------------------------------------ decisions
    def _apply_all(self, proposals: Sequence[Proposal], now: datetime, call_id: int | None) -> None:
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

    def ingest_answer(self, tier: int, pair: str, text: str | None, now: datetime) -> bool:
        """Parse, bound and apply one model answer synchronously (tests and tools).

        Returns False (and applies nothing) when the answer is invalid.
        """
        try:
            answer = parse_answer(tier, text)
        except InvalidAnswer:
            return False
        props = answer_to_proposals(
            answer,
            tier,
            pair,
            self.settings.authority,
            self.settings.decisions,
            self.strategy_stop,
        )
        self._apply_all(props, _aware(now), None)
        return True

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
        """Feed a closed trade into the context (and the journal, live)."""
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
