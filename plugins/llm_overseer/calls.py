"""One model call of one job: cache, budget, attempts with retries, usage, the answer.

Runs on the worker thread. :meth:`ModelCaller.call` returns a valid answer's bounded proposals
(:class:`Answered`) or why there are none (:class:`Failed`: the overseer then applies the rules
policy). Each attempt is one journal row, and one spend-ledger row once it reached the model:

1. budget: the day's spend plus this call's estimate (prompt characters / 4 + the tier's
   ``max_tokens``) must fit, else models are done for the day;
2. request: HTTP 429 and 5xx are retried ``http_retries`` times (``Retry-After`` honoured up
   to ``max_retry_after_s``); any other error falls back at once;
3. usage: as reported; estimated (prompt and answer characters / 4) when missing or not
   counts; capped at what the request could use (its UTF-8 bytes, as a token covers at least
   one, and ``max_tokens``) when more; the journal row's ``error`` says which;
4. answer: an invalid one (or a 200 that is no chat completion) is re-asked
   ``invalid_output_retries`` times (with its validation error), then the fallback.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from plugins.llm_overseer.client import ModelCallError, ModelClient, ModelReply
from plugins.llm_overseer.decisions import (
    SCHEMA_NAMES,
    InvalidAnswer,
    Proposal,
    answer_schema,
    answer_to_proposals,
    parse_answer,
)
from plugins.llm_overseer.journal import CallRecord, DecisionJournal
from plugins.llm_overseer.ledger import SpendLedger, call_cost
from plugins.llm_overseer.prompts import Prompt, estimate_tokens
from plugins.llm_overseer.settings import Settings, TierSettings


@dataclass(frozen=True, slots=True)
class CallRequest:
    """What one call is about; ``bot_time()`` is the bot's time now (for the journal)."""

    pair: str
    tier: int
    reasons: tuple[str, ...]
    prompt: Prompt
    bot_time: Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class Answered:
    """A valid answer (or a cached one) as bounded proposals."""

    proposals: list[Proposal]
    call_id: int | None


@dataclass(frozen=True, slots=True)
class Failed:
    """No usable answer, and why; ``budget`` when the day's budget is spent."""

    why: str
    budget: bool = False


class ModelCaller:
    """Makes the overseer's model calls (see the module docstring); keeps the answer cache."""

    def __init__(
        self,
        settings: Settings,
        client: ModelClient,
        ledger: SpendLedger,
        journal: DecisionJournal | None,
        clock: Callable[[], datetime],
        strategy_stop: float | None,
        stopping: threading.Event,
    ) -> None:
        self.settings = settings
        self.client = client
        self.ledger = ledger
        self.journal = journal
        self.clock = clock
        self.strategy_stop = strategy_stop
        self.stopping = stopping
        self._cache: dict[tuple[int, str, str], tuple[float, list[Proposal]]] = {}

    def call(self, req: CallRequest) -> Answered | Failed | None:
        """The answer to ``req``, or why there is none; ``None`` when stopped during a wait."""
        s = self.settings
        tier = s.tiers.by_number(req.tier)
        key = (req.tier, tier.model, req.prompt.digest)
        hit = self._cache.get(key)
        if hit is not None and time.monotonic() - hit[0] <= s.cache_ttl_s:
            call_id = self._journal(req, tier, 0, "cache_hit")
            return Answered([replace(p, source="cache") for p in hit[1]], call_id)
        schema = answer_schema(req.tier, s.authority, s.decisions.max_ttl_minutes)
        messages = [dict(m) for m in req.prompt.messages]
        http_left, invalid_left = s.http_retries, s.invalid_output_retries
        for attempt in itertools.count(1):
            refusal = self._over_budget(tier, messages)
            if refusal is not None:
                self._journal(req, tier, attempt, "budget", error=refusal)
                return Failed(f"budget: {refusal}", budget=True)
            try:
                reply = self.client.complete(tier, messages, SCHEMA_NAMES[req.tier], schema)
            except ModelCallError as exc:
                wait = self._retry_in(exc, http_left)
                retry = f" (retry in {wait:.1f} s)" if wait is not None else ""
                self._journal(req, tier, attempt, exc.kind, error=f"{exc}{retry}")
                if wait is None:
                    return Failed(f"{exc.kind}: {exc}")
                http_left -= 1
                if self.stopping.wait(wait):
                    return None
                continue
            charged, note = self._charge(req.tier, tier, messages, schema, reply)
            try:
                if reply.problem is not None:  # not a chat completion: an invalid answer
                    raise InvalidAnswer(f"malformed response: {reply.problem}")
                answer = parse_answer(req.tier, reply.text)
            except InvalidAnswer as exc:
                error = "; ".join(filter(None, (str(exc)[:500], note)))
                self._journal(req, tier, attempt, "invalid", error=error, **charged)
                if invalid_left <= 0:
                    return Failed(f"invalid answer: {exc}")
                invalid_left -= 1
                messages = _reask(req.prompt, reply, exc)
                continue
            call_id = self._journal(req, tier, attempt, "ok", error=note, **charged)
            proposals = answer_to_proposals(
                answer, req.tier, req.pair, s.authority, s.decisions, self.strategy_stop
            )
            self._cache[key] = (time.monotonic(), proposals)
            return Answered(proposals, call_id)
        raise AssertionError("unreachable")  # pragma: no cover

    def _over_budget(self, tier: TierSettings, messages: list[dict[str, str]]) -> str | None:
        """Why this attempt would break the daily budget, or ``None`` when it fits."""
        prompt = estimate_tokens(sum(len(m["content"]) for m in messages))
        usd = call_cost(self.settings.prices[tier.model], prompt, tier.max_tokens)
        ok, why = self.ledger.allows(self.clock(), usd, prompt + tier.max_tokens)
        return None if ok else why

    def _retry_in(self, exc: ModelCallError, http_left: int) -> float | None:
        """Seconds to wait before retrying after ``exc``, or ``None`` for no retry."""
        s = self.settings
        if http_left <= 0:
            return None
        if exc.kind == "http_429":
            wait = exc.retry_after if exc.retry_after is not None else 1.0
            return wait if wait <= s.max_retry_after_s else None
        if exc.kind.startswith("http_5"):
            if exc.retry_after is not None and exc.retry_after <= s.max_retry_after_s:
                return exc.retry_after
            return min(0.5 * 2 ** (s.http_retries - http_left), 8.0)
        return None

    def _charge(
        self,
        tier_no: int,
        tier: TierSettings,
        messages: list[dict[str, str]],
        schema: dict[str, Any],
        reply: ModelReply,
    ) -> tuple[dict[str, Any], str | None]:
        """Record what the attempt cost; the journal fields and a note on corrected usage."""
        answer = reply.text if reply.problem is None else reply.body
        limit = (len(json.dumps([messages, schema]).encode()), tier.max_tokens)
        note = None
        if reply.usage is None:
            prompt = estimate_tokens(sum(len(m["content"]) for m in messages))
            used = (prompt, min(estimate_tokens(len(answer or "")), tier.max_tokens))
            note = f"usage estimated as {used[0]}/{used[1]} tokens ({reply.usage_note})"
        elif reply.usage[0] > limit[0] or reply.usage[1] > limit[1]:
            used = (min(reply.usage[0], limit[0]), min(reply.usage[1], limit[1]))
            note = (
                f"usage capped at {used[0]}/{used[1]} tokens: {reply.usage[0]}/"
                f"{reply.usage[1]} reported, the request could use at most {limit[0]}/{limit[1]}"
            )
        else:
            used = reply.usage
        cost = call_cost(self.settings.prices[tier.model], *used)
        self.ledger.record(self.clock(), tier_no, tier.model, *used, cost)
        fields = {
            "prompt_tokens": used[0],
            "completion_tokens": used[1],
            "cost_usd": cost,
            "latency_s": reply.latency_s,
            "response_format": reply.response_format,
            "raw_answer": (answer or "")[:4000],
        }
        return fields, note

    def _journal(
        self, req: CallRequest, tier: TierSettings, attempt: int, outcome: str, **fields: Any
    ) -> int | None:
        """One journal row for an attempt (dry-run and live only); its id."""
        if self.journal is None:
            return None
        return self.journal.record_call(
            CallRecord(
                wall_ts=self.clock(),
                bot_ts=req.bot_time(),
                pair=req.pair,
                tier=req.tier,
                model=tier.model,
                prompt_version=req.prompt.version,
                prompt_hash=req.prompt.digest,
                attempt=attempt,
                outcome=outcome,
                triggers=req.reasons,
                **fields,
            )
        )


def _reask(prompt: Prompt, reply: ModelReply, exc: InvalidAnswer) -> list[dict[str, str]]:
    """The messages of the next attempt after an invalid answer (or a malformed response)."""
    messages = [dict(m) for m in prompt.messages]
    if reply.problem is not None:  # nothing the model said to correct: ask again
        return messages
    return [
        *messages,
        {"role": "assistant", "content": (reply.text or "")[:2000]},
        {
            "role": "user",
            "content": f"That answer was invalid ({str(exc)[:300]}). Reply with one JSON object "
            "with exactly the schema's fields.",
        },
    ]
