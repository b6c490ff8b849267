"""The walk-forward report as Markdown, rendered from the same dict that report.json holds."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

#: Columns of the measure tables: (heading, key in a performance dict, format).
MEASURES = (
    ("return %", "total_return_pct", "{:+.2f}"),
    ("CAGR %", "cagr_pct", "{:+.2f}"),
    ("Sharpe", "sharpe", "{:.2f}"),
    ("Sortino", "sortino", "{:.2f}"),
    ("Calmar", "calmar", "{:.2f}"),
    ("max DD %", "max_drawdown_pct", "{:.2f}"),
    ("exposure %", "exposure_pct", "{:.1f}"),
    ("turnover /yr", "turnover_per_year", "{:.2f}"),
    ("trades", "trades", "{:d}"),
    ("fees", "fees_quote", "{:.2f}"),
    ("fees %", "fees_pct", "{:.2f}"),
)


def _fmt(value: Any, spec: str = "{}") -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return "n/a"
    return spec.format(value)


def _day(stamp: str) -> str:
    return stamp[:10]


def _fee(report: Mapping[str, Any], fee: str) -> str:
    return next(f["label"] for f in report["fees"] if str(f["fee"]) == fee)


def _params(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items()) or "defaults"


def _table(headings: Sequence[str], rows: Sequence[Sequence[str]], right_from: int) -> list[str]:
    align = ["---" if i < right_from else "---:" for i in range(len(headings))]
    lines = ["| " + " | ".join(headings) + " |", "|" + "|".join(align) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def overall_table(report: Mapping[str, Any]) -> str:
    """The overall table: every row at every fee level over the compounded test folds."""
    rows = []
    for fee_entry in report["fees"]:
        fee = str(fee_entry["fee"])
        for row, label in report["rows"].items():
            stats = report["overall"].get(row, {}).get(fee)
            if stats is None:
                continue
            rows.append(
                [label, fee_entry["label"], str(len(stats["folds"]))]
                + [_fmt(stats[key], spec) for _, key, spec in MEASURES]
            )
    headings = ["row", "fee", "folds", *(h for h, _, _ in MEASURES)]
    return "\n".join(_table(headings, rows, 2))


def _dsr_section(report: Mapping[str, Any]) -> list[str]:
    rows = []
    for fee, d in report["deflated_sharpe"].items():
        daily = d.get("sharpe")
        annual = daily * math.sqrt(365) if daily is not None else None
        rows.append(
            [
                _fee(report, fee),
                _fmt(daily, "{:.4f}"),
                _fmt(annual, "{:.2f}"),
                _fmt(d.get("n_obs"), "{:d}"),
                _fmt(d.get("skew"), "{:.2f}"),
                _fmt(d.get("kurtosis"), "{:.2f}"),
                _fmt(d.get("n_trials"), "{:d}"),
                _fmt(d.get("trials_variance"), "{:.3g}"),
                _fmt(d.get("expected_max_sharpe"), "{:.4f}"),
                _fmt(d.get("dsr"), "{:.3f}"),
                _fmt(d.get("p_value"), "{:.3f}"),
            ]
        )
    headings = [
        "fee",
        "daily SR",
        "annualised",
        "days T",
        "skew",
        "kurtosis",
        "trials N",
        "V[SR]",
        "SR0 (expected max)",
        "DSR",
        "p-value",
    ]
    texts = sorted({d["variance_estimate"] for d in report["deflated_sharpe"].values()})
    return [
        "## Deflated Sharpe ratio (strategy, compounded test folds)",
        "",
        f"Trials N = {report['grid_size']} grid points + {report['settings']['extra_trials']} "
        "tried by hand (`--extra-trials`). Sharpe ratios per day, not annualised; kurtosis "
        "non-excess (3 for normal returns). V[SR], the variance of the Sharpe ratio across "
        f"trials: {'; '.join(texts)}. p-value = 1 - DSR.",
        "",
        *_table(headings, rows, 1),
    ]


def _selection_section(report: Mapping[str, Any]) -> list[str]:
    objective = report["settings"]["objective_text"]
    rows = []
    for fold in report["folds"]:
        if fold["skipped"]:
            continue
        tried = "; ".join(
            f"{_params(s['params'])}: {_fmt(s['objective'], '{:.3f}')}" for s in fold["selection"]
        )
        rows.append(
            [
                str(fold["number"]),
                f"{_day(fold['train'][0])}..{_day(fold['train'][1])}",
                _params(fold["chosen_params"]),
                tried or "no grid",
                fold["selection_note"] or "",
            ]
        )
    fee = report["settings"]["select_fee"]
    return [
        "## Chosen parameters per fold",
        "",
        f"Chosen on the train window only, by {objective} at fee {100 * fee:g} % per side; "
        "ties go to the first grid point.",
        "",
        *_table(["fold", "train window", "chosen", "objective per grid point", "note"], rows, 5),
    ]


def _per_fold_section(report: Mapping[str, Any]) -> list[str]:
    lines = ["## Per fold (test windows)", ""]
    for fee_entry in report["fees"]:
        fee = str(fee_entry["fee"])
        rows = []
        for fold in report["folds"]:
            if fold["skipped"]:
                continue
            for row, label in report["rows"].items():
                stats = fold["results"].get(row, {}).get(fee)
                if stats is None:
                    continue
                rows.append(
                    [
                        str(fold["number"]),
                        f"{_day(fold['test'][0])}..{_day(fold['test'][1])}",
                        label,
                    ]
                    + [_fmt(stats[key], spec) for _, key, spec in MEASURES]
                )
        headings = ["fold", "test window", "row", *(h for h, _, _ in MEASURES)]
        lines += [f"### Fee {fee_entry['label']}", "", *_table(headings, rows, 3), ""]
    return lines


def _skipped_section(report: Mapping[str, Any]) -> list[str]:
    lines = ["## Skipped folds", ""]
    skipped = [f for f in report["folds"] if f["skipped"]]
    lines += [
        f"- fold {f['number']} (train {_day(f['train'][0])}..{_day(f['train'][1])}, test "
        f"{_day(f['test'][0])}..{_day(f['test'][1])}): {f['skipped']}"
        for f in skipped
    ] or ["None."]
    for name, numbers in report["baseline_missing_folds"].items():
        if numbers:
            lines.append(
                f"- baseline {report['rows'].get(name, name)}: no data at its timeframe for the "
                f"test windows of folds {', '.join(map(str, numbers))} (left out of its rows)"
            )
    return lines


def _runs_section(report: Mapping[str, Any]) -> list[str]:
    t = report["timings"]
    lines = [
        "## Runs and timings",
        "",
        f"{t['backtests']} backtests ({t['backtests_run']} run now, {t['backtests_cached']} "
        "from the cache, timed when they ran): per backtest mean "
        f"{_fmt(t['backtest_seconds_mean'], '{:.1f}')} s, max "
        f"{_fmt(t['backtest_seconds_max'], '{:.1f}')} s, sum "
        f"{_fmt(t['backtest_seconds_sum'], '{:.0f}')} s; this run: "
        f"{_fmt(t.get('seconds_run_now'), '{:.0f}')} s of backtests on "
        f"{report['settings']['jobs']} jobs, {_fmt(t.get('total_wall_seconds'), '{:.0f}')} s "
        "wall in all. Each command below reproduces its run from the repository root.",
        "",
    ]
    kinds = t.get("by_kind") or {}
    if kinds:
        lines += _table(
            ["backtests", "runs", "mean s", "max s"],
            [
                [
                    kind,
                    str(k["runs"]),
                    _fmt(k["mean_seconds"], "{:.1f}"),
                    _fmt(k["max_seconds"], "{:.1f}"),
                ]
                for kind, k in kinds.items()
            ],
            1,
        )
        lines.append("")
    rows = [
        [
            r["what"],
            r["strategy"],
            _params(r["params"]),
            r["timerange"],
            f"{100 * r['fee']:g} %",
            str(r["trades"]),
            _fmt(r["wall_seconds"], "{:.1f}"),
            "yes" if r["cached"] else "no",
            f"`{r['key']}`",
        ]
        for r in report["runs"]
    ]
    headings = ["run", "strategy", "params", "timerange", "fee", "trades", "s", "cached", "key"]
    lines += _table(headings, rows, 5)
    lines += ["", "<details><summary>commands</summary>", ""]
    lines += [f"- `{r['key']}`: `{r['command']}`" for r in report["runs"]]
    lines += ["", "</details>"]
    return lines


def report_markdown(report: Mapping[str, Any]) -> str:
    """The whole report (overall table first, then DSR, selection, folds, skips, runs)."""
    s = report["settings"]
    gap = report["reconstruction_max_gap"]
    lines = [
        f"# Walk-forward: {report['strategy']}",
        "",
        f"Generated {report['generated']} from `{report['strategy_file']}` on "
        f"{', '.join(report['pairs'])} at {report['timeframe']} (data: `{report['datadir']}`).",
        "",
        f"- Folds: train {s['train_months']} months, test {s['test_months']}, step "
        f"{s['step_months']}, from {_day(s['start'])} to {_day(s['end'])}; a fold runs when its "
        f"test window is at least {100 * s['min_test_coverage']:g} % covered and its train "
        f"window {100 * s['min_train_coverage']:g} %.",
        f"- Grid: {report['grid'] or 'none (the strategy runs at its defaults)'}; "
        f"{report['grid_size']} points; trials counted {report['trials']}.",
        f"- Fees per side: {', '.join(f['label'] for f in report['fees'])}. "
        f"{report['mexc_fee_source']}",
        "- Measures on the account rebuilt from every order and marked to market at every "
        f"{report['timeframe']} close; daily returns for Sharpe and Sortino (x sqrt(365)); "
        "test folds compounded in time order for the overall rows. Rebuilt final equity "
        f"against Freqtrade's final balance: largest relative gap {_fmt(gap, '{:.1e}')}.",
        "- Baselines on the same test windows: buy-and-hold bought at each window's first open "
        "and sold at its last close (fees both sides); strategy baselines at their committed "
        "defaults, one backtest per run of consecutive test windows, sliced into folds from "
        "the equity curve (a position may cross a fold boundary).",
        "",
        "## Overall (test folds compounded)",
        "",
        overall_table(report),
        "",
        "![equity](equity.png)",
        "",
        *_dsr_section(report),
        "",
        *_selection_section(report),
        "",
        *_per_fold_section(report),
        *_skipped_section(report),
        "",
        *_runs_section(report),
        "",
    ]
    return "\n".join(lines)
