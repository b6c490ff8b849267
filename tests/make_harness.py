"""Run the repository's ``make`` targets from tests, as a user types them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def make_env(**extra: str) -> dict[str, str]:
    """This environment without an outer make's flags (``make test`` runs pytest)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    env.update(extra)
    return env


def run_make(
    *args: str, timeout: float, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``make -s ARGS`` in the repository, never re-installing the environment.

    ``-o .venv/.installed`` keeps make from running ``pip install`` when ``pyproject.toml``
    is newer than the last set-up: the tests run in that environment already.
    """
    return subprocess.run(
        ["make", "-s", "--no-print-directory", "-o", ".venv/.installed", *args],
        cwd=REPO,
        env=env or make_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
