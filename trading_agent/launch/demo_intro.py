"""What ``make demo`` says before Freqtrade starts: the data it replays and from which date,
the strategy, where FreqUI and the REST API listen with which login, and how to force an entry.

The replay's facts (pairs, recorded span, replay date, the venue's clock) come from the running
venue itself (``GET /_venue/state``), so the lines say what the venue does, not what it was
asked to do; the data folder is the one the demo handed it (the venue never tells its paths).
The plugins and the overseer's mode follow in Freqtrade's own log, from the strategy
(``trading_agent.narration``), which knows the configuration it runs with.
"""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from trading_agent.launch.offline import OFFLINE_OVERLAY
from trading_agent.safe_text import clean
from trading_agent.strategy.narration import force_entry_command


def venue_state(venue_url: str, timeout: float = 5.0) -> dict[str, Any]:
    """The venue's ``/_venue/state`` answer, or an empty dict when it does not give one."""
    try:
        with urllib.request.urlopen(f"{venue_url}/_venue/state", timeout=timeout) as resp:
            state = json.loads(resp.read())
    except (urllib.error.URLError, OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def offline_pairs(overlay: Path = OFFLINE_OVERLAY) -> list[str]:
    """The pairs of the offline overlay's whitelist (empty when it names none)."""
    whitelist = json.loads(overlay.read_text()).get("exchange", {}).get("pair_whitelist", [])
    return [str(pair) for pair in whitelist]


def _day(ms: Any) -> str:
    if not isinstance(ms, int | float):
        return "?"
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d")


def replay_line(state: Mapping[str, Any], venue_url: str, datadir: str) -> str:
    """What the venue replays: which pairs of which span, from ``datadir``, from which date."""
    if not state:
        return f"demo: the venue on {venue_url} did not say what it replays (/_venue/state)"
    symbols = state.get("symbols") or {}
    pairs = ", ".join(
        f"{clean(s.get('base', '?'), 20)}/{clean(s.get('quote', '?'), 20)}"
        for s in symbols.values()
        if isinstance(s, Mapping)
    )
    recorded = f"{_day(state.get('dataset_first_ms'))} to {_day(state.get('dataset_end_ms'))}"
    now = clean(str(state.get("dataset_time", "?")).replace("T", " ")[:16], 40)
    return (
        f"demo: the venue ({venue_url}) replays {pairs or 'no pairs'} recorded "
        f"{recorded} in {clean(datadir, 200)}, from "
        f"{clean(state.get('replay_start') or '?', 20)} mapped onto today: its clock reads "
        f"{now} UTC of the recording and a new candle closes as each one did then"
    )


def intro_lines(
    state: Mapping[str, Any],
    venue_url: str,
    datadir: str,
    strategy: str,
    api_url: str,
    user: str,
    password: str | None,
    pairs: list[str],
) -> list[str]:
    """Every line the demo prints before Freqtrade starts.

    ``password`` is the login's password when the demo made it for this session (it is then
    shown, as the user has no other way to learn it), ``None`` when it comes from the
    environment (then neither it nor its variable's value is printed).
    """
    shown = password if password is not None else "(from FREQTRADE__API_SERVER__PASSWORD)"
    pair = pairs[0] if pairs else "BTC/USDT"
    secret = password if password is not None else "<your FREQTRADE__API_SERVER__PASSWORD>"
    return [
        replay_line(state, venue_url, datadir),
        f"demo: freqtrade trade --dry-run with {clean(strategy, 60)} on "
        f"{', '.join(pairs) or 'the overlay pairs'}; the plugins, the overseer's mode and one "
        "line per new candle and pair follow in its log (trading_agent.narration)",
        f"demo: FreqUI / REST API: {api_url}  user: {user}  password: {shown}",
        "demo: force an entry (force_entry_enable is on in the offline overlay): "
        + force_entry_command(api_url, user, secret, pair),
        "demo: or in FreqUI: log in, open Trade, then Force entry; Ctrl-C stops Freqtrade and "
        "the venue",
    ]
