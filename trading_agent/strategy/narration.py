"""What a dry-run or live bot says it is doing: start-up lines and one line per new candle.

A bot that says nothing for minutes looks broken, and one that says only "heartbeat" leaves
its user guessing why it does not trade. The strategy kit logs, in dry-run and live only,

- at start-up: the strategy, its pairs and timeframe, the plugins (with their mode where they
  have one), where the REST API listens and how to force an entry;
- for each pair and each new candle (rate-limited by the strategy): the signal, the session,
  the risk level or target weight, the position, the plugins' combined advice and, when there
  is no entry, which of the strategy's entry conditions failed.

Everything here is a pure function of its arguments (a candle is a mapping of column to
value, as :meth:`trading_agent.candles.AnalyzedCandles.last` gives it); the strategy decides
when to call them (:meth:`trading_agent.strategy.base.AgentStrategy.narrate`). A strategy
states its entry conditions as :class:`Check`, :class:`Flag`, :class:`AllOf` and
:class:`AtLeast` rules, so that the line names the condition that held the entry back. Text
from outside (pairs, tags, session names, plugins' reasons) goes through
:func:`trading_agent.safe_text.clean`.
"""

from __future__ import annotations

import json
import math
import operator
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trading_agent.safe_text import clean

if TYPE_CHECKING:
    from trading_agent.manager import CombinedRisk

#: The comparisons a :class:`Check` may make.
OPERATORS: Mapping[str, Callable[[float, float], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
}
#: Longest piece of outside text (a tag, a session, one plugin's reason) on a line.
PIECE_LIMIT = 120


def number(value: Any) -> float:
    """``value`` as a float, NaN for anything that is not a finite number (None, text)."""
    if isinstance(value, bool):
        return float(value)
    try:
        out = float(value)
    except (TypeError, ValueError):
        return math.nan
    return out if math.isfinite(out) else math.nan


def show(value: float) -> str:
    """A number as a person reads it: ``2512.30``, ``0.153``, ``0.0042``, ``n/a`` for NaN."""
    if math.isnan(value):
        return "n/a"
    if value == int(value) and abs(value) < 1e6:
        return str(int(value))
    if abs(value) >= 1000:
        return f"{value:.2f}"
    if abs(value) >= 1:
        return f"{value:.3f}".rstrip("0").rstrip(".")
    return f"{value:.3g}"


def percent(share: float) -> str:
    """A share (0.235) as a percentage (``23.5%``)."""
    return "n/a" if math.isnan(share) else f"{100.0 * share:.1f}%"


@dataclass(frozen=True, slots=True)
class Check:
    """Entry condition ``candle[column] <op> threshold``.

    ``threshold`` is a number or the name of another column of the same candle; ``label``
    names the value on the line (default: the column), ``versus`` the threshold when it is a
    column (e.g. ``VWAP``; default: nothing, only its value).
    """

    column: str
    op: str
    threshold: float | str
    label: str = ""
    versus: str = ""

    def __post_init__(self) -> None:
        if self.op not in OPERATORS:
            raise ValueError(f"unknown comparison {self.op!r} (use one of {sorted(OPERATORS)})")


@dataclass(frozen=True, slots=True)
class Flag:
    """Entry condition: ``candle[column]`` equals ``want``; ``failure`` says what it means
    when it does not (e.g. ``"no 1h/4h up-trend"``)."""

    column: str
    failure: str
    want: float = 1


@dataclass(frozen=True, slots=True)
class AllOf:
    """Entry condition: every one of ``rules`` holds (e.g. a breakout *and* high volatility)."""

    label: str
    rules: tuple[Rule, ...]


@dataclass(frozen=True, slots=True)
class AtLeast:
    """Entry condition: at least ``needed`` of ``rules`` hold (e.g. two of three signals)."""

    label: str
    needed: int
    rules: tuple[Rule, ...]

    def __post_init__(self) -> None:
        if isinstance(self.needed, bool) or not 1 <= int(self.needed) <= len(self.rules):
            raise ValueError(
                f"{self.label}: needed must be 1..{len(self.rules)}, got {self.needed!r}"
            )


Rule = Check | Flag | AllOf | AtLeast


def evaluate(rule: Rule, candle: Mapping[str, Any]) -> tuple[bool, str]:
    """Whether ``rule`` holds on ``candle``, and what failed when it does not ("" if it holds).

    A missing or non-finite value fails its condition and is shown as ``n/a``, as the
    strategies' vectorised rules treat NaN (a comparison with NaN is false).
    """
    if isinstance(rule, Check):
        label = rule.label or rule.column
        value = number(candle.get(rule.column))
        if isinstance(rule.threshold, str):
            limit = number(candle.get(rule.threshold))
            named = f"{rule.versus} " if rule.versus else ""
        else:
            limit, named = float(rule.threshold), ""
        holds = not (math.isnan(value) or math.isnan(limit)) and OPERATORS[rule.op](value, limit)
        return (
            holds,
            "" if holds else f"{label} {show(value)} (needs {rule.op} {named}{show(limit)})",
        )
    if isinstance(rule, Flag):
        holds = number(candle.get(rule.column)) == rule.want
        return holds, "" if holds else rule.failure
    results = [evaluate(part, candle) for part in rule.rules]
    failures = [why for held, why in results if not held]
    if isinstance(rule, AllOf):
        return not failures, "" if not failures else f"{rule.label}: {', '.join(failures)}"
    count = sum(held for held, _ in results)
    if count >= rule.needed:
        return True, ""
    return False, (
        f"{rule.label} {count} of {len(rule.rules)} (needs {rule.needed}): {', '.join(failures)}"
    )


def unmet(candle: Mapping[str, Any], rules: Sequence[Rule]) -> list[str]:
    """What each failing rule of ``rules`` says about ``candle`` (empty: all of them hold)."""
    return [why for held, why in (evaluate(rule, candle) for rule in rules) if not held]


def _when(candle: Mapping[str, Any]) -> str:
    date = candle.get("date")
    if date is None or not hasattr(date, "strftime"):
        return ""
    try:
        return f" {date.strftime('%Y-%m-%d %H:%M')}"
    except ValueError:  # NaT
        return ""


def _signal(candle: Mapping[str, Any]) -> tuple[bool, str]:
    if number(candle.get("enter_long")) == 1:
        tag = candle.get("enter_tag")
        return True, "entry signal" + (f" ({clean(tag, PIECE_LIMIT)})" if tag else "")
    if number(candle.get("exit_long")) == 1:
        tag = candle.get("exit_tag")
        return False, "exit signal" + (f" ({clean(tag, PIECE_LIMIT)})" if tag else "")
    return False, "no signal"


def _session(candle: Mapping[str, Any]) -> str | None:
    session = candle.get("session")
    if session is None or (isinstance(session, float) and math.isnan(session)):
        return None
    overlap = " (overlap)" if number(candle.get("session_overlap")) == 1 else ""
    return f"session {clean(session, PIECE_LIMIT)}{overlap}"


def _sizing(
    candle: Mapping[str, Any], position_share: float | None, target_column: str | None
) -> str | None:
    held = None if position_share is None else f"holding {percent(position_share)} of equity"
    if target_column is not None:
        target = f"target {percent(number(candle.get(target_column)))} of equity"
        return target if held is None else f"{target}, {held}"
    parts = []
    if "risk_level" in candle:
        parts.append(f"risk level {show(number(candle.get('risk_level')))}")
    if position_share is not None:
        parts.append(held if position_share > 0 else "no position")
    return ", ".join(parts) or None


def _unprefixed(reason: str, name: str) -> str:
    """``reason`` without a leading ``"<name>: "`` (the line names the plugin once)."""
    return reason.removeprefix(f"{name}:").lstrip() if reason.startswith(f"{name}:") else reason


def _advice(advice: CombinedRisk | None) -> str | None:
    if advice is None:
        return None
    text = f"plugins: stake x{show(float(advice.stake_multiplier))}"
    reasons = "; ".join(
        f"{clean(name, 40)}: {clean(_unprefixed(why, name), PIECE_LIMIT)}"
        for name, why in advice.reasons
    )
    return f"{text} ({reasons})" if reasons else text


def candle_line(
    pair: str,
    candle: Mapping[str, Any],
    advice: CombinedRisk | None = None,
    *,
    rules: Sequence[Rule] = (),
    shown: Sequence[tuple[str, str]] = (),
    position_share: float | None = None,
    target_column: str | None = None,
    held_back: Sequence[str] = (),
) -> str:
    """One line on ``pair``'s last analysed ``candle``.

    ``advice`` is the plugins' combined risk advice for the pair, ``rules`` the strategy's
    entry conditions (the unmet ones are named when there is no entry), ``shown`` extra
    ``(label, column)`` values to show (e.g. regime columns), ``position_share`` the pair's
    open position as a share of account equity (``None``: not known), ``target_column`` the
    column with the share of equity an allocation strategy aims to hold (shown instead of the
    risk level), ``held_back`` reasons outside the candle that stop an entry (a position
    already open, the daily loss limit).
    """
    entering, signal = _signal(candle)
    close = number(candle.get("close"))
    head = f"{clean(pair, 40)}{_when(candle)}" + (
        "" if math.isnan(close) else f" close {show(close)}"
    )
    parts = [head, signal]
    for part in (_session(candle), _sizing(candle, position_share, target_column)):
        if part:
            parts.append(part)
    values = [f"{label} {show(number(candle.get(column)))}" for label, column in shown]
    if values:
        parts.append(", ".join(values))
    plugins = _advice(advice)
    if plugins:
        parts.append(plugins)
    reasons = [clean(reason, PIECE_LIMIT) for reason in held_back]
    if entering:
        if reasons:
            parts.append("held back: " + "; ".join(reasons))
    else:
        reasons += unmet(candle, rules)
        if reasons:
            parts.append("no entry: " + "; ".join(reasons))
        elif rules:
            parts.append("no entry: the conditions hold, but no new signal on this candle")
    return " | ".join(parts)


def api_url(api_server: Mapping[str, Any]) -> str:
    """The URL a browser on this machine opens for Freqtrade's ``api_server`` block."""
    host = str(api_server.get("listen_ip_address") or "127.0.0.1")
    if host in ("0.0.0.0", "::"):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{api_server.get('listen_port', 8080)}"


def force_entry_command(url: str, user: str, password: str, pair: str) -> str:
    """The ``curl`` command that forces a long entry on ``pair`` through the REST API at ``url``.

    Every argument is shell-quoted, so the line can be pasted as it is.
    """
    body = json.dumps({"pair": pair, "side": "long"})
    return " ".join(
        [
            "curl -X POST",
            "-u",
            shlex.quote(f"{user}:{password}"),
            "-H 'Content-Type: application/json'",
            "-d",
            shlex.quote(body),
            shlex.quote(f"{url.rstrip('/')}/api/v1/forceenter"),
        ]
    )


def startup_lines(
    strategy: str,
    timeframe: str,
    runmode: str,
    pairs: Sequence[str],
    plugins: Sequence[tuple[str, str | None]],
    api_server: Mapping[str, Any] | None,
    force_entry: bool,
    interval_s: float,
) -> list[str]:
    """What a bot says once at start-up: what runs, where to watch it, how to force an entry.

    ``plugins`` are ``(name, mode or None)``. The API login's password is never shown (the
    force-entry command holds a placeholder for it).
    """
    names = ", ".join(clean(p, 40) for p in pairs) or "no pairs"
    shown_plugins = ", ".join(
        clean(name, 40) + (f" (mode {clean(mode, 40)})" if mode else "") for name, mode in plugins
    )
    lines = [
        f"{clean(strategy, 60)} on {names} ({clean(timeframe, 10)} candles), {clean(runmode, 20)}",
        f"plugins: {shown_plugins or 'none'}",
    ]
    if api_server and api_server.get("enabled"):
        url = api_url(api_server)
        user = clean(api_server.get("username") or "?", 60)
        lines.append(f"REST API and FreqUI: {url} (user {user})")
        if force_entry and pairs:
            lines.append(
                "force an entry: "
                + force_entry_command(url, user, "<password>", clean(pairs[0], 40))
                + " (or FreqUI: Trade, then Force entry)"
            )
    lines.append(
        f"one line per new candle and pair follows (at most one a pair every {interval_s:g} s)"
    )
    return lines
