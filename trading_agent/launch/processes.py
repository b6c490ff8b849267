"""Start the local venue as a child process, wait for it, and stop children cleanly."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path


def venue_command(
    datadir: str | Path,
    port: int,
    replay: bool,
    replay_start: str | None = None,
    *,
    api_disabled: Sequence[str] = (),
    fee: tuple[float, float] | None = None,
    faults: bool = False,
) -> list[str]:
    """The ``ta-venue`` command line for the given options.

    ``api_disabled``: MEXC symbols (``BTCUSDT``) the venue marks as not tradable through the
    API; ``fee``: (maker, taker) ratios it serves, None for its default; ``faults``: serve
    ``/_venue/faults`` for fault injection (see docs/venue.md).
    """
    exe = shutil.which("ta-venue", path=str(Path(sys.executable).parent)) or "ta-venue"
    cmd = [exe, "--datadir", str(datadir), "--port", str(port)]
    if replay:
        cmd.append("--replay")
    if replay_start:
        cmd += ["--replay-start", replay_start]
    if api_disabled:
        cmd += ["--api-disabled", ",".join(api_disabled)]
    if fee is not None:
        cmd.append(f"--fee={fee[0]!r},{fee[1]!r}")
    if faults:
        cmd.append("--faults")
    return cmd


def wait_until_up(url: str, timeout: float = 30.0, proc: subprocess.Popen | None = None) -> None:
    """Poll ``url`` until it answers 200; raise ``TimeoutError`` naming it otherwise."""
    deadline = time.monotonic() + timeout
    last_error = ""
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process for {url} exited early with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, OSError) as exc:
            last_error = str(exc)
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f} s ({last_error})")


def stop_process(proc: subprocess.Popen, grace: float = 20.0) -> int:
    """Ask a child to stop (SIGINT, then SIGTERM, then SIGKILL) and return its exit code."""
    for sig, wait in ((signal.SIGINT, grace), (signal.SIGTERM, 5.0)):
        if proc.poll() is not None:
            return proc.returncode
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        try:
            return proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    proc.kill()
    return proc.wait()


@contextlib.contextmanager
def running_venue_process(
    datadir: str | Path,
    port: int,
    replay: bool,
    replay_start: str | None = None,
    log: Path | None = None,
    *,
    api_disabled: Sequence[str] = (),
    fee: tuple[float, float] | None = None,
    faults: bool = False,
) -> Iterator[str]:
    """Run ``ta-venue`` as a child process for the duration of the block; yield its URL.

    ``api_disabled``, ``fee`` and ``faults``: see :func:`venue_command`.
    """
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
    options = {"api_disabled": api_disabled, "fee": fee, "faults": faults}
    cmd = venue_command(datadir, port, replay, replay_start, **options)
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/api/v3/ping", proc=proc)
        yield base
    finally:
        stop_process(proc, grace=5.0)
        if log:
            out.close()


#: Exit code of a program that ended in an orderly way on SIGINT (128 + 2), as Freqtrade does.
SIGINT_EXIT = 130


def run_foreground(cmd: Sequence[str], env: dict[str, str] | None = None) -> int:
    """Run ``cmd``; on Ctrl-C let it shut down gracefully.

    Returns its exit code, or 0 when Ctrl-C ended it in an orderly way: stopping the
    demo is not a failure.
    """
    proc = subprocess.Popen(list(cmd), env=env or os.environ.copy())
    try:
        return proc.wait()
    except KeyboardInterrupt:
        # Ctrl-C in a terminal reaches the whole process group, so the child already has
        # its SIGINT: a second one would interrupt its cleanup. Give it time first.
        try:
            code = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            code = stop_process(proc)
        return 0 if code in (0, SIGINT_EXIT) else code
