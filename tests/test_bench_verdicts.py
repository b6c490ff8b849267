"""``make bench``: every row judged against its target, a summary line, the exit code, and
``BENCH=name`` for one benchmark."""

from __future__ import annotations

import math

import pytest

from bench import run_all
from bench.verdicts import (
    BAD_TARGET,
    FAILED,
    MET,
    MISSED,
    NO_TARGET,
    Target,
    summary,
    verdict,
)


def row(value: float, target: str, unit: str = "ms", **extra) -> dict:
    return {"name": "r", "value": value, "unit": unit, "target": target, "note": "", **extra}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("< 50 ms", Target("<", 50.0, "ms")),
        ("<= 1.5", Target("<=", 1.5, "")),
        ("< 5 us", Target("<", 5.0, "us")),
        ("<= 1.0 (default budget)", Target("<=", 1.0, "")),
        (">= 2e3 req/s", Target(">=", 2000.0, "req/s")),
        ("  ", None),
    ],
)
def test_the_benchmarks_target_formats_are_read(text, expected) -> None:
    assert Target.parse(text) == expected


@pytest.mark.parametrize("text", ["fast", "50 ms", "< fifty ms", "~ 1.0", "< 1 ms extra words"])
def test_an_unreadable_target_is_an_error_naming_it(text) -> None:
    with pytest.raises(ValueError, match=f"target {text!r} is not"):
        Target.parse(text)
    assert verdict(row(1.0, text)) == BAD_TARGET


def test_rows_are_met_or_missed_at_the_exact_boundary() -> None:
    assert verdict(row(49.9, "< 50 ms")) == MET
    assert verdict(row(50.0, "< 50 ms")) == MISSED
    assert verdict(row(1.5, "<= 1.5", unit="x")) == MET
    assert verdict(row(1.51, "<= 1.5", unit="x")) == MISSED
    assert verdict(row(900.0, ">= 1000 req/s", unit="req/s")) == MISSED


def test_no_value_never_meets_a_target_and_no_target_is_no_verdict() -> None:
    assert verdict(row(math.nan, "< 0.5 s", unit="s")) == MISSED
    assert verdict(row(math.nan, "")) == NO_TARGET
    assert verdict(row(12.0, "")) == NO_TARGET
    assert verdict(row(1.0, "< 50 ms", unit="us")) == BAD_TARGET  # another unit than the row
    assert verdict(row(math.nan, "", failed=True)) == FAILED


def test_the_summary_counts_rows_and_says_the_outcome() -> None:
    ok = summary([MET, MET, NO_TARGET], 12.34)
    assert ok == "bench OK: 2 met, 0 missed of 2 targets (1 rows without a target) in 12.3 s"
    bad = summary([MET, MISSED, FAILED, BAD_TARGET, NO_TARGET, NO_TARGET], 850.0)
    assert bad == (
        "bench FAILED: 1 met, 1 missed, 1 failed, 1 with a bad target of 4 targets "
        "(2 rows without a target) in 850.0 s"
    )


def test_a_missed_target_marks_the_row_and_fails_the_command(monkeypatch, capsys) -> None:
    results = {
        "bench_fast": [row(10.0, "< 50 ms"), row(3.0, "")],
        "bench_slow": [row(80.0, "< 50 ms")],
    }

    class Module:
        def __init__(self, name: str) -> None:
            self.name = name

        def run(self) -> list[dict]:
            return results[self.name]

    monkeypatch.setattr(run_all, "discover", lambda only: sorted(only or results))
    monkeypatch.setattr(run_all.importlib, "import_module", lambda n: Module(n.split(".")[1]))
    assert run_all.main(["bench_fast"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["bench", "name", "value", "unit", "target", "verdict", "note"]
    assert out[2].split() == ["fast", "r", "10", "ms", "<", "50", "ms", "met"]
    assert out[3].split() == ["fast", "r", "3", "ms", "-"]
    assert out[-1].startswith("bench OK: 1 met, 0 missed of 1 targets")
    assert run_all.main([]) == 1
    out = capsys.readouterr().out.splitlines()
    assert any("MISSED" in line and line.startswith("slow") for line in out)
    assert out[-1].startswith("bench FAILED: 1 met, 1 missed of 2 targets")


def test_one_benchmark_by_name_and_a_clear_error_for_an_unknown_one(capsys) -> None:
    assert run_all.discover(["sessions"]) == ["bench_sessions"]
    assert run_all.discover(["bench_venue", "sessions"]) == ["bench_venue", "bench_sessions"]
    assert "bench_backtest" in run_all.discover(None)
    assert run_all.main(["sesions"]) == 2
    err = capsys.readouterr().err
    assert "no benchmark 'sesions' (bench/bench_sesions.py); known: backtest," in err
