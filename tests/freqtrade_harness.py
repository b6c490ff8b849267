"""Helpers for tests that run the real ``freqtrade`` command against the local venue."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

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
