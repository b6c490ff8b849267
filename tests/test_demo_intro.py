"""What ``make demo`` prints before Freqtrade starts, from a real replay venue."""

from __future__ import annotations

import shlex
from pathlib import Path

from tests.freqtrade_harness import free_port
from trading_agent.launch.demo_intro import intro_lines, offline_pairs, replay_line, venue_state
from trading_agent.launch.processes import running_venue_process

API = "http://127.0.0.1:8080"


def test_the_intro_says_what_the_running_venue_replays(binance_dir: Path) -> None:
    with running_venue_process(
        binance_dir, free_port(), replay=True, replay_start="2024-04-01"
    ) as url:
        state = venue_state(url)
    line = replay_line(state, url, str(binance_dir))
    assert line.startswith(f"demo: the venue ({url}) replays BTC/USDT, ETH/USDT")
    assert f"in {binance_dir}, from 2024-04-01 mapped onto today" in line
    assert "its clock reads 2024-04-01 " in line


def test_a_venue_that_does_not_answer_is_said_so() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    assert venue_state(url, timeout=1.0) == {}
    assert replay_line({}, url, "data") == (
        f"demo: the venue on {url} did not say what it replays (/_venue/state)"
    )


def test_a_generated_login_is_shown_with_a_curl_command_that_uses_it() -> None:
    pairs = offline_pairs()
    assert pairs == ["BTC/USDT", "ETH/USDT"]
    lines = intro_lines(
        {}, "http://127.0.0.1:8090", "data", "FlashStrategy", API, "freqtrader", "pw1", pairs
    )
    assert "with FlashStrategy on BTC/USDT, ETH/USDT" in lines[1]
    assert lines[2] == f"demo: FreqUI / REST API: {API}  user: freqtrader  password: pw1"
    command = shlex.split(lines[3].split(": ", 2)[2])
    assert command[command.index("-u") + 1] == "freqtrader:pw1"
    assert command[-1] == f"{API}/api/v1/forceenter"
    assert "Force entry" in lines[4]


def test_a_password_from_the_environment_is_never_printed() -> None:
    lines = intro_lines({}, "http://127.0.0.1:8090", "data", "S", API, "me", None, ["ETH/USDT"])
    text = "\n".join(lines)
    assert "password: (from FREQTRADE__API_SERVER__PASSWORD)" in text
    assert "me:<your FREQTRADE__API_SERVER__PASSWORD>" in text
