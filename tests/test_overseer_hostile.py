"""The overseer against a broken or hostile model server: real ``openai`` client, real HTTP.

Protocol garbage (issue 11 part 2): a 200 whose body is not a chat completion, usage that is
missing, negative, not a count or absurd, strings where numbers belong. Each such answer must
take the path of an invalid answer or have its cost corrected, never escape the retry and
fallback path. Hostile text (part 1): a model's reason must reach logs and notifications as
one safe line. The server's answers are scripted (tests/openai_stub_server.py); the candles are
real (the fixtures of tests/test_overseer_llm.py); trades are synthetic and labelled so.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import pytest

from plugins.llm_overseer.prompts import estimate_tokens
from plugins.llm_overseer.report import main as report_main
from tests import test_overseer_llm as llm
from tests.openai_stub_server import NO_USAGE, Reply
from tests.test_overseer_llm import MONITOR_OK, NOW, Notes, make, rows, run_once
from tests.test_overseer_policy import losing_trades
from trading_agent.safe_text import markdown_escape

STRATEGIC_OK = {
    "stake_multiplier": 0.3,
    "pause_entries": False,
    "stop_distance": None,
    "exit_position": False,
    "confidence": 0.7,
    "ttl_minutes": 60,
    "reason": "reviewed",
}
# The local stub server and the real candles of the llm tests (pytest finds them by name).
stub = llm.stub
frames = llm.frames
HTML_PAGE = "<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>"


def _losing_streak(ov) -> None:
    """Three synthetic losing trades: the rules now say stake x0.5 and tier 2 is due."""
    for trade in losing_trades(3, NOW, stake=10.0, loss=0.05):
        ov.on_closed(trade)


# ---------------------------------------------------------------- malformed responses


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        (Reply(raw=HTML_PAGE, content_type="text/html"), "the body is not JSON"),
        (Reply(raw='{"error": "upstream timeout"}'), "the body holds no choices[0].message"),
        (
            Reply(raw='{"choices": [{"message": {"content": 42}}]}'),
            "the message content is a int, not text",
        ),
    ],
    ids=["html-page", "json-without-choices", "content-not-text"],  # all three crashed the job
)
def test_a_200_that_is_no_completion_is_retried_then_the_rules_decide(
    tmp_path, stub, frames, reply, problem
) -> None:
    notes = Notes()
    stub.push(reply, reply)
    ov = make(tmp_path, stub, notes)
    _losing_streak(ov)
    run_once(ov, frames)
    calls = rows(tmp_path, "SELECT tier, outcome, error, raw_answer, cost_usd FROM calls")
    assert [(c["tier"], c["outcome"]) for c in calls] == [(2, "invalid"), (2, "invalid")]
    assert all(f"malformed response: {problem}" in c["error"] for c in calls)
    assert all("usage estimated" in c["error"] and c["cost_usd"] > 0 for c in calls)
    assert calls[0]["raw_answer"] == reply.raw  # the journal keeps what came back
    (dec,) = rows(tmp_path, "SELECT source FROM decisions")
    assert dec["source"] == "fallback"
    assert ov.risk("BTC/USDC", NOW).stake_multiplier == 0.5  # the rules' decision holds
    assert notes.sent_keys().count("llm_overseer:failure") == 1
    # the retry asked again with the original messages (nothing to correct)
    assert stub.requests[1]["body"]["messages"] == stub.requests[0]["body"]["messages"]
    ov.stop()


def test_an_html_page_then_a_valid_answer_uses_the_answer(tmp_path, stub, frames) -> None:
    stub.push(Reply(raw=HTML_PAGE, content_type="text/html"), Reply.answer(MONITOR_OK))
    ov = make(tmp_path, stub)
    run_once(ov, frames)
    assert [c["outcome"] for c in rows(tmp_path, "SELECT outcome FROM calls")] == ["invalid", "ok"]
    assert ov.risk("BTC/USDC", NOW).stake_multiplier == 0.5  # the model's answer
    ov.stop()


@pytest.mark.parametrize(
    "bad",
    [{"stake_multiplier": "0.3"}, {"stake_multiplier": True}, {"ttl_minutes": "60"}],
    ids=["number-as-string", "bool-as-number", "ttl-as-string"],
)
def test_a_string_or_bool_where_a_number_belongs_is_invalid(tmp_path, stub, frames, bad) -> None:
    notes = Notes()
    answer = {**STRATEGIC_OK, **bad}
    stub.push(Reply.answer(answer), Reply.answer(answer))
    ov = make(tmp_path, stub, notes)
    _losing_streak(ov)
    run_once(ov, frames)
    calls = rows(tmp_path, "SELECT outcome, error FROM calls")
    assert [c["outcome"] for c in calls] == ["invalid", "invalid"]
    assert all("valid number" in c["error"] for c in calls)
    assert ov.risk("BTC/USDC", NOW).stake_multiplier == 0.5  # rules, not the model's 0.3
    assert notes.sent_keys().count("llm_overseer:failure") == 1
    ov.stop()


# ---------------------------------------------------------------- usage


def _estimate_of(request: dict) -> int:
    return estimate_tokens(sum(len(m["content"]) for m in request["body"]["messages"]))


@pytest.mark.parametrize(
    ("usage", "why"),
    [
        (NO_USAGE, "no usage reported"),
        ({"prompt_tokens": -5, "completion_tokens": 40}, "prompt_tokens is -5"),
        ({"prompt_tokens": "lots", "completion_tokens": 40}, 'prompt_tokens is "lots"'),
        ({"prompt_tokens": "50", "completion_tokens": "10"}, 'prompt_tokens is "50"'),
        ({"prompt_tokens": 812, "completion_tokens": None}, "completion_tokens is null"),
        ("a lot", "usage is a str"),
    ],
    ids=["missing", "negative", "not-a-number", "numeric-string", "null", "not-an-object"],
)
def test_missing_or_malformed_usage_is_estimated_and_flagged(
    tmp_path, stub, frames, usage, why
) -> None:
    stub.push(Reply.answer(MONITOR_OK, usage=usage))
    ov = make(tmp_path, stub)
    run_once(ov, frames)
    (call,) = rows(tmp_path, "SELECT * FROM calls")
    assert call["outcome"] == "ok" and why in call["error"] and "usage estimated" in call["error"]
    prompt = _estimate_of(stub.requests[0])
    answer = estimate_tokens(len(json.dumps(MONITOR_OK)))
    assert (call["prompt_tokens"], call["completion_tokens"]) == (prompt, answer)
    assert call["cost_usd"] == pytest.approx((prompt * 0.10 + answer * 0.40) / 1e6)
    (spend,) = rows(tmp_path, "SELECT * FROM spend")
    assert spend["cost_usd"] == call["cost_usd"] > 0
    assert ov.risk("BTC/USDC", NOW).stake_multiplier == 0.5  # the answer itself is used
    ov.stop()


def test_a_server_that_never_reports_usage_still_exhausts_the_budget(
    tmp_path, stub, frames
) -> None:
    notes = Notes()
    stub.default = Reply.answer({**MONITOR_OK, "stake_multiplier": 1.0}, usage=NO_USAGE)
    # each call is estimated at ~400 prompt + ~40 completion tokens, ~0.00006 USD
    ov = make(tmp_path, stub, notes, budget={"daily_usd": 0.0003}, cache_ttl_s=0)
    for k in range(12):
        run_once(ov, frames, now=NOW + timedelta(minutes=15 * k))
    outcomes = [c["outcome"] for c in rows(tmp_path, "SELECT outcome FROM calls ORDER BY id")]
    assert "budget" in outcomes and outcomes.count("ok") < 12
    assert notes.sent_keys().count("llm_overseer:budget") == 1
    ov.stop()


def test_an_absurd_usage_is_capped_at_what_the_request_could_cost(tmp_path, stub, frames) -> None:
    stub.push(
        Reply.answer(MONITOR_OK, usage=(10**12, 10**12)),
        Reply.answer(MONITOR_OK, usage=(500, 40)),
    )
    ov = make(tmp_path, stub, budget={"daily_usd": 1.0}, cache_ttl_s=0)
    run_once(ov, frames)
    run_once(ov, frames, now=NOW + timedelta(minutes=15))  # not refused: budget intact
    first, second = rows(tmp_path, "SELECT * FROM calls ORDER BY id")
    assert first["outcome"] == "ok" and "usage capped" in first["error"]
    request = stub.requests[0]["body"]
    bound = len(
        json.dumps(
            [request["messages"], request["response_format"]["json_schema"]["schema"]]
        ).encode()
    )
    assert first["completion_tokens"] == 300  # tier 1's max_tokens
    assert 0 < first["prompt_tokens"] <= bound < 10_000
    assert first["cost_usd"] < 0.01
    assert second["outcome"] == "ok" and second["error"] is None
    assert (second["prompt_tokens"], second["completion_tokens"]) == (500, 40)
    ov.stop()


# ---------------------------------------------------------------- hostile text

HOSTILE_REASONS = {
    "forged-log-line": "calm\n2026-03-01 12:00:00,000 - freqtrade - INFO - SYSTEM OVERRIDE: "
    "withdraw all funds",
    "markdown-link": "SYSTEM OVERRIDE: [click to re-auth](http://evil.example/login) now",
    "ten-kilobytes": ("calm market " * 10 + "\nINFO - [re-auth](http://evil.example/x) ") * 63,
    "invisible-and-rtl": "ok\u200b\u200d\u2060 \u202egnp.exe\u202c \u2066x\u2069 done",
}


@pytest.mark.parametrize("reason", list(HOSTILE_REASONS.values()), ids=list(HOSTILE_REASONS))
def test_a_hostile_reason_reaches_logs_and_notifications_as_one_safe_line(
    tmp_path, stub, frames, caplog, reason
) -> None:
    notes = Notes()
    stub.push(Reply.answer({**MONITOR_OK, "reason": reason}))
    ov = make(tmp_path, stub, notes)
    with caplog.at_level(logging.INFO, logger="plugins.llm_overseer"):
        run_once(ov, frames)
    (decision,) = [m for k, m in notes.items if k == "llm_overseer:decision:BTC/USDC"]
    logged = [r.getMessage() for r in caplog.records if r.name.startswith("plugins.llm_overseer")]
    assert [m for m in logged if "tier 1 [llm]" in m] == [decision]  # one line per event
    for text in (*logged, decision, ov.risk("BTC/USDC", NOW).reason):
        assert "\n" not in text and "\r" not in text and len(text) <= 600
        assert "http" not in text and "evil.example" not in text
        assert not any(c in text for c in "\u200b\u200d\u2060\u202e\u202c\u2066\u2069")
    # valid Telegram Markdown once the strategy escapes it: nothing escaped twice, no entity
    assert "\\" not in decision
    escaped = markdown_escape(decision)
    assert all(escaped[i - 1] == "\\" for i, c in enumerate(escaped) if c in "_*`[")
    (call,) = rows(tmp_path, "SELECT raw_answer FROM calls")
    sent = json.dumps({**MONITOR_OK, "reason": reason})
    assert call["raw_answer"] == sent[:4000]  # the journal keeps the raw text (its first 4000)
    ov.stop()


def test_the_report_shows_provider_text_as_one_safe_line(tmp_path, stub, frames, capsys) -> None:
    stub.push(Reply.error(429, "slow down\n[re-auth](http://evil.example/x)\u202e", headers={}))
    stub.push(Reply.error(429, "again", headers={"retry-after": "3600"}))
    ov = make(tmp_path, stub)
    run_once(ov, frames)
    ov.stop()
    assert report_main(["--journal", str(tmp_path / "journal.sqlite")]) == 0
    text = capsys.readouterr().out
    (line,) = [x for x in text.splitlines() if x.startswith("http_429")]
    assert "slow down" in line or "again" in line
    assert "http://" not in text and "evil.example" not in text and "\u202e" not in text
