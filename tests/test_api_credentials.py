"""A dry-run start with an empty REST API login stops before the API server ever answers.

Freqtrade starts its API server while it builds the bot; the strategy's credential check
used to run later, in ``bot_start``, and for about 0.6 s ``show_config`` answered 200 to an
empty basic-auth login. The check now runs when Freqtrade builds the strategy, which comes
before the API server. Polled here on the API port for the whole start: never a connection.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.freqtrade_harness import BASE_CONFIGS, FREQTRADE, REPO, free_port
from trading_agent.launch.offline import write_offline_overlay
from trading_agent.launch.processes import running_venue_process, stop_process

pytestmark = pytest.mark.slow

SECRETS = (
    "FREQTRADE__API_SERVER__USERNAME",
    "FREQTRADE__API_SERVER__PASSWORD",
    "FREQTRADE__API_SERVER__JWT_SECRET_KEY",
)


def answers(port: int) -> bool:
    """True when something accepts a TCP connection on the port."""
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.parametrize("strategy", ["FlashStrategy", "RegimeStrategy"])
def test_no_api_answer_before_the_credential_check_stops_the_bot(
    strategy: str, tmp_path: Path, binance_dir: Path, committed_strategies: Path
) -> None:
    api_port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in SECRETS}
    env["FREQTRADE__API_SERVER__LISTEN_PORT"] = str(api_port)
    with running_venue_process(binance_dir, free_port(), replay=True) as venue_url:
        overlay = write_offline_overlay(tmp_path / "offline.json", venue_url)
        log = tmp_path / "bot.log"
        with log.open("w") as out:
            proc = subprocess.Popen(
                [
                    FREQTRADE,
                    "trade",
                    "--dry-run",
                    *BASE_CONFIGS,
                    "-c",
                    str(overlay),
                    "--strategy",
                    strategy,
                    "--strategy-path",
                    str(committed_strategies),
                    "--db-url",
                    f"sqlite:///{tmp_path / 'trades.sqlite'}",
                ],
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
            polls = 0
            try:
                deadline = time.monotonic() + 120
                while proc.poll() is None and time.monotonic() < deadline:
                    assert not answers(api_port), "the API answered before the check"
                    polls += 1
                    time.sleep(0.02)
            finally:
                code = proc.poll()
                if code is None:
                    code = stop_process(proc, grace=10)
    text = log.read_text()
    assert code not in (0, None), text[-2000:]
    assert polls > 10, "the start was too quick to have been polled"
    assert "the REST API is enabled but its credentials are not set" in text, text[-2000:]
    assert "FREQTRADE__API_SERVER__PASSWORD" in text
