"""The model client: one chat completion with structured output over any OpenAI-compatible API.

OpenRouter by default; Ollama, vLLM or any other OpenAI-compatible server by changing
``base_url``. The ``openai`` client's own retries are switched off (``max_retries=0``): the
overseer retries itself so that each attempt is journalled and costed.

Structured output: ``response_format={"type": "json_schema", ...}`` (strict). With
``structured_output: auto``, a provider that rejects JSON schemas with HTTP 400 is asked again
in JSON mode (``{"type": "json_object"}``, with the schema in the system message), and that
model stays in JSON mode for the rest of the process.

A 200 answer is read from its raw body, strictly: a body that is not a chat completion (an
HTML proxy page, JSON without choices, content that is not text) becomes a reply with a
``problem`` and no text, and token counts that are not non-negative integers (missing,
negative, ``"50"``, ``true``) are not taken as usage. The caller decides what either costs.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from plugins.llm_overseer.settings import TierSettings


class ModelCallError(Exception):
    """A call that produced no answer. ``kind`` is a short journal outcome."""

    def __init__(self, kind: str, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class ModelReply:
    """One 200 answer, read strictly (module docstring); ``usage`` is (prompt, completion)."""

    text: str | None
    body: str
    usage: tuple[int, int] | None
    usage_note: str | None
    problem: str | None
    latency_s: float
    response_format: str


def read_reply(body: str, latency_s: float, response_format: str) -> ModelReply:
    """The answer in a 200 body, read strictly (see the module docstring)."""
    text, problem = None, None
    try:
        data = json.loads(body)
    except ValueError:
        data, problem = None, "the body is not JSON"
    if not isinstance(data, dict):
        problem = problem or f"the body is a JSON {type(data).__name__}, not an object"
        data = {}
    choices = data.get("choices")
    first = choices[0] if isinstance(choices, list) and choices else None
    message = first.get("message") if isinstance(first, dict) else None
    if not isinstance(message, dict):
        problem = problem or "the body holds no choices[0].message"
    elif isinstance(message.get("content"), str | None):
        text = message.get("content")
    else:
        problem = f"the message content is a {type(message['content']).__name__}, not text"
    usage, note = _usage(data.get("usage"))
    return ModelReply(text, body, usage, note, problem, latency_s, response_format)


def _usage(raw: object) -> tuple[tuple[int, int] | None, str | None]:
    """``(prompt, completion)`` tokens of a ``usage`` object, or ``None`` and why not."""
    if raw is None:
        return None, "no usage reported"
    if not isinstance(raw, dict):
        return None, f"usage is a {type(raw).__name__}, not an object"
    counts = []
    for key in ("prompt_tokens", "completion_tokens"):
        value = raw.get(key)
        if type(value) is not int or value < 0:  # bool is not int here; "50" is a string
            return None, f"usage {key} is {json.dumps(value)[:40]}, not a count"
        counts.append(value)
    return (counts[0], counts[1]), None


def parse_retry_after(headers: Any) -> float | None:
    """Seconds to wait from ``retry-after-ms`` / ``retry-after`` (seconds or HTTP date)."""
    if headers is None:
        return None
    raw_ms = headers.get("retry-after-ms")
    if raw_ms:
        try:
            return max(float(raw_ms) / 1000.0, 0.0)
        except ValueError:
            pass
    raw = headers.get("retry-after")
    if not raw:
        return None
    try:
        return max(float(raw), 0.0)
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max((when - datetime.now(when.tzinfo)).total_seconds(), 0.0)


class ModelClient:
    """Thin wrapper around ``openai.OpenAI`` for the overseer's calls (thread: the worker)."""

    def __init__(self, base_url: str, api_key: str) -> None:
        if not api_key:
            raise ValueError("api_key must not be empty")
        import openai  # here: only llm mode needs it, so a backtest never pays for the import

        self._openai = openai
        self._client = self._openai.OpenAI(base_url=base_url, api_key=api_key, max_retries=0)
        self._json_mode_models: set[str] = set()

    def complete(
        self,
        tier: TierSettings,
        messages: list[dict[str, str]],
        schema_name: str,
        schema: dict[str, Any],
    ) -> ModelReply:
        """One chat completion; raise :class:`ModelCallError` when no answer came back."""
        use_json_mode = tier.structured_output == "json_object" or (
            tier.model in self._json_mode_models
        )
        if not use_json_mode:
            try:
                return self._create(tier, messages, schema_name, schema, "json_schema")
            except ModelCallError as exc:
                if not (tier.structured_output == "auto" and exc.kind == "unsupported_format"):
                    raise
                self._json_mode_models.add(tier.model)
        return self._create(tier, messages, schema_name, schema, "json_object")

    def _create(
        self,
        tier: TierSettings,
        messages: list[dict[str, str]],
        schema_name: str,
        schema: dict[str, Any],
        fmt: str,
    ) -> ModelReply:
        if fmt == "json_schema":
            response_format: dict[str, Any] = {
                "type": "json_schema",
                "json_schema": {"name": schema_name, "strict": True, "schema": schema},
            }
            msgs = messages
        else:
            response_format = {"type": "json_object"}
            msgs = [dict(m) for m in messages]
            msgs[0]["content"] += " JSON schema of the answer: " + json.dumps(
                schema, separators=(",", ":")
            )
        openai = self._openai
        start = time.perf_counter()
        try:
            raw = self._client.chat.completions.with_raw_response.create(
                model=tier.model,
                messages=msgs,  # type: ignore[arg-type]
                max_tokens=tier.max_tokens,
                temperature=tier.temperature,
                response_format=response_format,  # type: ignore[arg-type]
                timeout=tier.timeout_s,
            )
            body = raw.text
        except openai.APITimeoutError as exc:
            raise ModelCallError("timeout", f"no answer within {tier.timeout_s} s") from exc
        except openai.RateLimitError as exc:
            raise ModelCallError(
                "http_429", f"rate limited: {exc.message}", parse_retry_after(exc.response.headers)
            ) from exc
        except openai.BadRequestError as exc:
            text = str(exc.message).lower()
            if fmt == "json_schema" and ("response_format" in text or "json_schema" in text):
                raise ModelCallError("unsupported_format", str(exc.message)) from exc
            raise ModelCallError("http_400", str(exc.message)) from exc
        except openai.APIStatusError as exc:
            raise ModelCallError(
                f"http_{exc.status_code}",
                str(exc.message),
                parse_retry_after(exc.response.headers),
            ) from exc
        except openai.APIConnectionError as exc:
            raise ModelCallError("connection", str(exc)) from exc
        except openai.OpenAIError as exc:
            raise ModelCallError("error", str(exc)) from exc
        return read_reply(body, time.perf_counter() - start, fmt)

    def close(self) -> None:
        """Close the HTTP connection pool."""
        with contextlib.suppress(Exception):  # closing must never fail the bot
            self._client.close()
