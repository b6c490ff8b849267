"""Golden records: outcomes recorded once, compared exactly where discrete, within tolerance
where they are floating-point numbers.

A digest of ``repr()`` of floats demands bit-identical arithmetic, which differs between CPUs
(numpy picks SIMD kernels at run time: AVX-512 on one machine, AVX2 on another) in the last
bits of a sum. What a decision test must prove is that every *decision* is the same and every
number the same to within rounding, so:

- ``None``, booleans, integers, and the text of strings between numbers: exactly equal;
- floats: equal within a relative tolerance of :data:`REL_TOL` (absolute :data:`ABS_TOL`
  near zero), NaN equal to NaN;
- numbers printed inside strings (reasons such as ``drawdown 12.3%``, JSON prompts):
  within one unit of the last printed digit, since a value on a rounding boundary may be
  printed either way.

A mismatch raises ``AssertionError`` naming the first field that differs.
"""

from __future__ import annotations

import dataclasses
import enum
import gzip
import json
import math
import re
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

REL_TOL = 1e-9
ABS_TOL = 1e-12
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?")


def to_plain(value: Any) -> Any:
    """``value`` as JSON-ready data: dataclasses become dicts tagged with their class name."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {"__type__": type(value).__name__}
        for f in dataclasses.fields(value):
            out[f.name] = to_plain(getattr(value, f.name))
        return out
    if isinstance(value, enum.Enum):
        return to_plain(value.value)
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=repr) if isinstance(value, set | frozenset) else value
        return [to_plain(v) for v in items]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, bytes):
        return value.decode()
    raise TypeError(f"no plain form for {type(value).__name__}: {value!r}")


#: Significant digits kept in a written record: far below the tolerance, far smaller files.
STORED_DIGITS = 10


def _rounded(value: Any) -> Any:
    if isinstance(value, float) and math.isfinite(value):
        return float(f"{value:.{STORED_DIGITS}g}")
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    return value


def write(path: Path, record: Any) -> None:
    """Write ``record`` as gzip-compressed JSON, floats to :data:`STORED_DIGITS` digits."""
    data = json.dumps(_rounded(to_plain(record)), separators=(",", ":"), allow_nan=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=9) as fh:
        fh.write(data)


def read(path: Path) -> Any:
    """Read a record written by :func:`write`."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return json.load(fh)


def _decimals(token: str) -> int:
    mantissa = token.split("e")[0].split("E")[0]
    return len(mantissa.split(".")[1]) if "." in mantissa else 0


def _floats_close(expected: float, actual: float) -> bool:
    if math.isnan(expected) or math.isnan(actual):
        return math.isnan(expected) and math.isnan(actual)
    return math.isclose(expected, actual, rel_tol=REL_TOL, abs_tol=ABS_TOL)


def _strings_close(expected: str, actual: str) -> str | None:
    """``None`` when the strings match (numbers to their printed precision), else why not."""
    if expected == actual:
        return None
    exp_text, act_text = _NUMBER.split(expected), _NUMBER.split(actual)
    if exp_text != act_text:
        return "text differs"
    for e, a in zip(_NUMBER.findall(expected), _NUMBER.findall(actual), strict=True):
        unit = 10.0 ** -_decimals(e)
        if _decimals(e) != _decimals(a) or abs(float(e) - float(a)) > unit * 1.000001:
            return f"number {e} became {a}"
    return None


def mismatch(expected: Any, actual: Any, path: str = "") -> str | None:
    """The first difference between two plain records as ``"path: why"``, or ``None``."""
    where = path or "<root>"
    if expected is None or actual is None or isinstance(expected, bool) or isinstance(actual, bool):
        if type(expected) is type(actual) and expected == actual:
            return None
        return f"{where}: expected {expected!r}, got {actual!r}"
    if isinstance(expected, int) and isinstance(actual, int):
        return None if expected == actual else f"{where}: expected {expected}, got {actual}"
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        if _floats_close(float(expected), float(actual)):
            return None
        return (
            f"{where}: expected {expected!r}, got {actual!r} "
            f"(relative tolerance {REL_TOL:g}, absolute {ABS_TOL:g})"
        )
    if isinstance(expected, str) and isinstance(actual, str):
        why = _strings_close(expected, actual)
        return None if why is None else f"{where}: {why}: expected {expected!r}, got {actual!r}"
    if isinstance(expected, list) and isinstance(actual, list):
        for i, (e, a) in enumerate(zip(expected, actual, strict=False)):
            found = mismatch(e, a, f"{path}[{i}]")
            if found:
                return found
        if len(expected) != len(actual):
            return f"{where}: expected {len(expected)} items, got {len(actual)}"
        return None
    if isinstance(expected, dict) and isinstance(actual, dict):
        if list(expected) != list(actual):
            return f"{where}: expected keys {list(expected)}, got {list(actual)}"
        for key in expected:
            found = mismatch(expected[key], actual[key], f"{path}.{key}" if path else key)
            if found:
                return found
        return None
    return f"{where}: expected {type(expected).__name__} {expected!r}, got {actual!r}"


def assert_matches(expected: Any, actual: Any, what: str) -> None:
    """Fail, naming the first differing field, unless ``actual`` matches ``expected``."""
    found = mismatch(to_plain(expected), json.loads(json.dumps(to_plain(actual))))
    if found:
        raise AssertionError(f"{what} differs from the golden record at {found}")
