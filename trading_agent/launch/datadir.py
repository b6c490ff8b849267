"""Which recorded market data the offline jobs and the tests read, and a check of a candle folder.

The full recording lives in ``../shared/data`` beside the repository on the project's machines
(or wherever ``TA_SHARED_DATA`` points); a fresh clone has only the embedded sample
``user_data/data/sample`` (see its README). Both have the same layout: ``binance/`` holds the
candle files, ``orderbook/`` the order-book captures. The Makefile applies the same rule to
pick its default ``DATADIR``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLE_ROOT = REPO / "user_data" / "data" / "sample"
SHARED_ROOT = REPO.parent / "shared" / "data"
#: Freqtrade's spot candle files, ``<BASE>_<QUOTE>-<timeframe>.feather``.
CANDLE_FILE = re.compile(r"^[A-Z0-9]+_[A-Z0-9]+-\d+[mhdwM]\.feather$")
#: What a user can do about a missing or empty candle folder.
DATADIR_HINT = (
    "leave DATADIR unset to use the embedded sample (user_data/data/sample/binance), "
    "or run `make data` and pass DATADIR=user_data/data/mexc with the MEXC configuration"
)


def data_root(environ: Mapping[str, str] | None = None) -> Path:
    """The folder holding ``binance/`` (candles) and ``orderbook/`` (captures).

    ``$TA_SHARED_DATA`` when set, ``../shared/data`` beside the repository otherwise; the
    embedded sample when the chosen folder has no ``binance/`` folder (a fresh clone, or a
    ``TA_SHARED_DATA`` that points nowhere).
    """
    env = os.environ if environ is None else environ
    chosen = Path(env["TA_SHARED_DATA"]) if env.get("TA_SHARED_DATA") else SHARED_ROOT
    return chosen if (chosen / "binance").is_dir() else SAMPLE_ROOT


def candle_dir(environ: Mapping[str, str] | None = None) -> Path:
    """The default folder of recorded candles (``<data_root>/binance``)."""
    return data_root(environ) / "binance"


def is_sample(path: str | Path) -> bool:
    """True when ``path`` is (inside) the embedded sample."""
    resolved = Path(path).resolve()
    return resolved == SAMPLE_ROOT or SAMPLE_ROOT in resolved.parents


def candle_dir_problem(path: str | Path) -> str | None:
    """One line saying why ``path`` cannot serve candles and what to do; None when it can."""
    if not str(path).strip():
        return f"DATADIR is empty: {DATADIR_HINT}"
    folder = Path(path)
    if not folder.exists():
        return f"DATADIR {str(folder)!r} does not exist: {DATADIR_HINT}"
    if not folder.is_dir():
        return f"DATADIR {str(folder)!r} is not a folder: {DATADIR_HINT}"
    if not any(CANDLE_FILE.match(p.name) for p in folder.iterdir()):
        return (
            f"DATADIR {str(folder)!r} holds no <BASE>_<QUOTE>-<timeframe>.feather candle "
            f"files: {DATADIR_HINT}"
        )
    return None
