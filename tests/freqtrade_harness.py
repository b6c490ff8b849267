"""Helpers for tests that run the real ``freqtrade`` command against the local venue."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import freqtrade

REPO = Path(__file__).resolve().parents[1]
FREQTRADE = str(Path(sys.executable).parent / "freqtrade")
TEMPLATES = str(Path(freqtrade.__file__).parent / "templates")
BASE_CONFIGS = ["-c", str(REPO / "user_data" / "config.json")]


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_freqtrade(
    args: list[str], timeout: float, env: dict[str, str] | None = None, cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    """Run one bounded ``freqtrade`` command and return its completed process."""
    return subprocess.run(
        [FREQTRADE, *args],
        cwd=cwd,
        env=env or os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def wait_for(predicate, timeout: float, interval: float = 0.5, what: str = "condition"):
    """Poll ``predicate`` until it returns a truthy value; fail the test after ``timeout``."""
    deadline = time.monotonic() + timeout
    last_exc: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except SystemExit as exc:
            raise AssertionError(str(exc)) from None
        except Exception as exc:
            last_exc = exc
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} ({last_exc})")


class Api:
    """A minimal client of Freqtrade's REST API with basic auth."""

    def __init__(self, port: int, user: str, password: str) -> None:
        self.base = f"http://127.0.0.1:{port}/api/v1"
        self.auth = base64.b64encode(f"{user}:{password}".encode()).decode()

    def __call__(self, path: str, method: str = "GET", body: dict | None = None) -> Any:
        """Call one endpoint and return its decoded JSON answer."""
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.base}{path}", data=data, method=method)
        req.add_header("Authorization", f"Basic {self.auth}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(req, timeout=15) as resp:
            return json.loads(resp.read())

    def enter(self, pair: str) -> dict:
        """Force a long entry on ``pair``; returns the trade (``trade_id``, ...)."""
        return self("/forceenter", "POST", {"pair": pair})

    def wait_filled(self, trade_id: int, timeout: float = 60) -> dict:
        """Wait until trade ``trade_id`` is open with no pending order; return it."""
        return wait_for(
            lambda: [
                t for t in self("/status") if t["trade_id"] == trade_id and not t["has_open_orders"]
            ],
            timeout=timeout,
            what=f"trade {trade_id} to fill",
        )[0]

    def wait_closed(self, trade_id: int, timeout: float = 60) -> dict:
        """Wait until trade ``trade_id`` is closed; return it."""
        return wait_for(
            lambda: [
                t
                for t in self("/trades")["trades"]
                if t["trade_id"] == trade_id and not t["is_open"]
            ],
            timeout=timeout,
            what=f"trade {trade_id} to close",
        )[0]


#: The reason of the lock :func:`hold_own_entries` writes (FreqUI and ``/locks`` show it).
HOLD_REASON = "test: only forced entries"


def hold_own_entries(db_url: str, timeframe: str) -> None:
    """Write a global pair lock into the trade database ``db_url`` before the bot starts.

    Freqtrade then opens no trade from the strategy's own signals (which depend on the
    replayed candles, so on the wall clock), while ``/forceenter`` still enters: a test that
    checks a forced entry's stake sees that entry, at any clock. It runs in a subprocess
    (:func:`_write_hold_lock`) so that Freqtrade's database globals stay out of the test
    process.
    """
    done = subprocess.run(
        [sys.executable, "-m", "tests.freqtrade_harness", db_url, timeframe],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def _write_hold_lock(db_url: str, timeframe: str) -> None:
    """In the subprocess of :func:`hold_own_entries`: the lock, with Freqtrade's own API."""
    from freqtrade.persistence import PairLocks, init_db

    init_db(db_url)
    PairLocks.timeframe = timeframe  # a lock ends on a candle boundary of this timeframe
    now = datetime.now(UTC)
    PairLocks.lock_pair("*", now + timedelta(days=3650), HOLD_REASON, now=now, side="*")


def pip_install_into(source: Path, target: Path) -> None:
    """pip-install the package at ``source`` (no dependencies) into the folder ``target``."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "-q",
            "--no-deps",
            "--no-build-isolation",
            "--target",
            str(target),
            str(source),
        ],
        check=True,
        capture_output=True,
    )


if __name__ == "__main__":
    _write_hold_lock(*sys.argv[1:])
