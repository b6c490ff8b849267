"""``/api/v3/klines``: paging semantics in static mode, and the replay clock.

Reference values come straight from the recorded feather files (``load_candles``), read with
pandas independently of the venue's numpy lookups.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import ccxt
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import load_candles
from trading_agent.venue.clock import date_ms
from trading_agent.venue.server import ccxt_overrides, running_venue

MIN5 = 300_000
HOUR = 3_600_000


def get(url: str, path: str, **params: object) -> tuple[int, object]:
    """GET ``url + path`` with query ``params``; (HTTP status, decoded JSON)."""
    query = urllib.parse.urlencode(params)
    try:
        with urllib.request.urlopen(f"{url}{path}?{query}", timeout=10) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as err:
        return err.code, json.load(err)


def ms(ts: pd.Timestamp | str) -> int:
    return int(pd.Timestamp(ts).timestamp() * 1000)


def recorded(pair: str, tf: str) -> pd.DataFrame:
    df = load_candles(pair, tf).copy()
    df["t"] = df["date"].astype("int64") // 1_000_000
    return df.set_index("t")


def as_rows(df: pd.DataFrame, offset: int = 0) -> list[list[float]]:
    """Recorded candles as ``[t, o, h, l, c, v]`` rows (timestamps shifted by ``offset``)."""
    return [
        [t + offset, r.open, r.high, r.low, r.close, r.volume]
        for t, r in zip(df.index, df.itertuples(), strict=True)
    ]


def assert_same_candles(got: list[list[float]], want: list[list[float]]) -> None:
    """Times and prices equal; volumes equal up to the float noise of resampled files."""
    assert [r[:5] for r in got] == [r[:5] for r in want]
    assert [r[5] for r in got] == pytest.approx([r[5] for r in want], rel=1e-12)


def parsed(rows: object) -> list[list[float]]:
    assert isinstance(rows, list)
    return [[r[0], *(float(x) for x in r[1:6])] for r in rows]


class FakeClock:
    """A wall clock the test moves by hand (milliseconds)."""

    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


TODAY = dt.date(2026, 11, 24)  # any date: the fake clock decides what "today" is


@pytest.fixture(scope="module")
def static_url(binance_dir: Path) -> Iterator[str]:
    with running_venue(binance_dir) as url:
        yield url


@pytest.fixture(scope="module")
def btc5() -> pd.DataFrame:
    return recorded("BTC_USDT", "5m")


# ----------------------------------------------------------------------------- static paging


def test_no_times_gives_most_recent_default_500(static_url: str, btc5: pd.DataFrame) -> None:
    status, rows = get(static_url, "/api/v3/klines", symbol="BTCUSDT", interval="5m")
    assert status == 200
    assert parsed(rows) == as_rows(btc5.tail(500))
    status, rows = get(static_url, "/api/v3/klines", symbol="BTCUSDT", interval="5m", limit=1000)
    assert parsed(rows) == as_rows(btc5.tail(1000))


def test_row_shape_is_mexc(static_url: str, btc5: pd.DataFrame) -> None:
    _, rows = get(static_url, "/api/v3/klines", symbol="BTCUSDT", interval="5m", limit=1)
    (row,) = rows  # type: ignore[misc]
    assert len(row) == 8
    assert isinstance(row[0], int) and isinstance(row[6], int)
    assert row[6] == row[0] + MIN5  # close time
    assert all(isinstance(x, str) for x in [*row[1:6], row[7]])


def test_start_only_ascends_from_start(static_url: str, btc5: pd.DataFrame) -> None:
    start = int(btc5.index[1000]) + 1  # mid-candle: the next candle is the first served
    _, rows = get(
        static_url, "/api/v3/klines", symbol="BTCUSDT", interval="5m", startTime=start, limit=7
    )
    assert parsed(rows) == as_rows(btc5.iloc[1001:1008])


def test_end_only_gives_last_limit_before_end(static_url: str, btc5: pd.DataFrame) -> None:
    end = int(btc5.index[5000])  # endTime is exclusive: the candle opening at it is left out
    _, rows = get(
        static_url, "/api/v3/klines", symbol="BTCUSDT", interval="5m", endTime=end, limit=10
    )
    assert parsed(rows) == as_rows(btc5.iloc[4990:5000])


def test_start_and_end(static_url: str, btc5: pd.DataFrame) -> None:
    start, end = int(btc5.index[200]), int(btc5.index[230])
    _, rows = get(
        static_url, "/api/v3/klines", symbol="BTCUSDT", interval="5m", startTime=start, endTime=end
    )
    assert parsed(rows) == as_rows(btc5.iloc[200:230])
    _, rows = get(
        static_url,
        "/api/v3/klines",
        symbol="BTCUSDT",
        interval="5m",
        startTime=start,
        endTime=end,
        limit=5,
    )
    assert parsed(rows) == as_rows(btc5.iloc[200:205])


def test_windows_outside_the_recording_are_empty(static_url: str, btc5: pd.DataFrame) -> None:
    after = int(btc5.index[-1]) + 10 * MIN5
    _, rows = get(static_url, "/api/v3/klines", symbol="BTCUSDT", interval="5m", startTime=after)
    assert rows == []
    before = int(btc5.index[0])
    _, rows = get(static_url, "/api/v3/klines", symbol="BTCUSDT", interval="5m", endTime=before)
    assert rows == []


def test_mexc_interval_names_map_to_files(static_url: str, full_binance_dir: Path) -> None:
    # full recording: there the last 1d candle's file ends with the 5m files
    btc1h = recorded("BTC_USDT", "1h")
    _, rows = get(static_url, "/api/v3/klines", symbol="BTCUSDT", interval="60m", limit=3)
    assert parsed(rows) == as_rows(btc1h.tail(3))
    eth1d = recorded("ETH_USDT", "1d")
    _, rows = get(static_url, "/api/v3/klines", symbol="ETHUSDT", interval="1d", limit=2)
    # The 1d file was resampled (summed volumes carry float noise); served at 4 decimals.
    assert_same_candles(parsed(rows), as_rows(eth1d.tail(2)))


@settings(max_examples=40, deadline=None)
@given(
    start=st.one_of(st.none(), st.integers(0, 80_000)),
    span=st.one_of(st.none(), st.integers(-50, 3000)),
    limit=st.integers(1, 1000),
)
def test_paging_matches_a_pandas_reference(
    static_url: str, btc5: pd.DataFrame, start: int | None, span: int | None, limit: int
) -> None:
    t0 = int(btc5.index[0])
    params: dict[str, object] = {"symbol": "BTCUSDT", "interval": "5m", "limit": limit}
    start_ms = None if start is None else t0 + start * MIN5 - 7  # not on a boundary
    end_ms = None
    if span is not None:
        end_ms = (start_ms if start_ms is not None else int(btc5.index[-1])) + span * MIN5
    if start_ms is not None:
        params["startTime"] = max(0, start_ms)
    if end_ms is not None:
        params["endTime"] = max(0, end_ms)
    sel = btc5
    if "startTime" in params:
        sel = sel[sel.index >= params["startTime"]]
    if "endTime" in params:
        sel = sel[sel.index < params["endTime"]]
    expected = sel.head(limit) if "startTime" in params else sel.tail(limit)
    status, rows = get(static_url, "/api/v3/klines", **params)
    assert status == 200
    assert parsed(rows) == as_rows(expected)


# ----------------------------------------------------------------------------- replay


def _first_hour_with_late_high(btc5: pd.DataFrame, btc1h: pd.DataFrame) -> int:
    """An hour in July 2024 whose recorded high came in its second half (for the leak test)."""
    for t in btc1h.loc[ms("2024-07-02") : ms("2024-07-30")].index:
        first_half = btc5.loc[t : t + HOUR // 2 - 1]
        if first_half["high"].max() < btc1h.loc[t, "high"] and (
            first_half["low"].min() > btc1h.loc[t, "low"]
        ):
            return int(t)
    raise AssertionError("no suitable hour found in the recording")


def _replay_at(binance_dir: Path, dataset_ms: int):
    """Replay venue whose fake clock puts dataset time D at ``dataset_ms``."""
    day = dt.datetime.fromtimestamp(dataset_ms / 1000, tz=dt.UTC).date()
    clock = FakeClock(date_ms(TODAY) + (dataset_ms - date_ms(day)))
    offset = date_ms(TODAY) - date_ms(day)
    return running_venue(binance_dir, replay=True, replay_start=day, now_ms=clock), clock, offset


def test_forming_candle_is_built_only_from_the_past(binance_dir: Path, btc5: pd.DataFrame) -> None:
    btc1h = recorded("BTC_USDT", "1h")
    hour = _first_hour_with_late_high(btc5, btc1h)
    d = hour + HOUR // 2 + 7_000  # 30 min and 7 s into the hour
    ctx, _, offset = _replay_at(binance_dir, d)
    with ctx as url:
        _, rows = get(url, "/api/v3/klines", symbol="BTCUSDT", interval="60m", limit=3)
    rows = parsed(rows)
    closed, forming = rows[:-1], rows[-1]
    assert closed == as_rows(btc1h.loc[hour - 2 * HOUR : hour - HOUR], offset)
    known = btc5.loc[hour : hour + HOUR // 2 - 1]  # the six 5m candles closed by D
    price = btc5.loc[hour + HOUR // 2, "open"]  # the 5m candle forming at D opened here
    full = btc1h.loc[hour]
    assert forming[0] == hour + offset
    assert forming[1] == full["open"]
    assert forming[2] == max(known["high"].max(), price)
    assert forming[3] == min(known["low"].min(), price)
    assert forming[4] == price
    assert forming[5] == pytest.approx(known["volume"].sum())
    # The recorded full candle's extremes came later: serving them would leak the future.
    assert forming[2] < full["high"] and forming[3] > full["low"]
    assert forming[5] < full["volume"]


def test_forming_candle_at_its_open_is_flat(binance_dir: Path, btc5: pd.DataFrame) -> None:
    btc4h = recorded("BTC_USDT", "4h")
    t = ms("2024-03-03 08:00")
    ctx, _, offset = _replay_at(binance_dir, t)
    with ctx as url:
        _, rows = get(url, "/api/v3/klines", symbol="BTCUSDT", interval="4h", limit=2)
    prev, forming = parsed(rows)
    assert_same_candles([prev], as_rows(btc4h.loc[[t - 4 * HOUR]], offset))
    o = btc4h.loc[t, "open"]
    assert forming == [t + offset, o, o, o, o, 0.0]


def test_forming_candle_uses_one_minute_data_where_recorded(binance_dir: Path) -> None:
    eth1m = recorded("ETH_USDT", "1m")
    t = ms("2024-08-05 12:35")  # a 5m candle, 1m candles recorded on this date
    d = t + 3 * 60_000 + 30_000  # three 1m candles closed, the fourth forming
    ctx, _, offset = _replay_at(binance_dir, d)
    with ctx as url:
        _, rows = get(url, "/api/v3/klines", symbol="ETHUSDT", interval="5m", limit=1)
    (forming,) = parsed(rows)
    known = eth1m.loc[t : t + 3 * 60_000 - 1]
    price = eth1m.loc[t + 3 * 60_000, "open"]
    assert forming[0] == t + offset
    assert forming[2] == max(known["high"].max(), price)
    assert forming[3] == min(known["low"].min(), price)
    assert forming[4] == price
    assert forming[5] == pytest.approx(known["volume"].sum())


def test_replay_moves_with_the_clock_and_stops_at_the_end(
    binance_dir: Path, btc5: pd.DataFrame
) -> None:
    t = ms("2024-07-10 13:00")
    ctx, clock, offset = _replay_at(binance_dir, t + 60_000)
    with ctx as url:
        _, rows = get(url, "/api/v3/klines", symbol="BTCUSDT", interval="5m", limit=2)
        assert parsed(rows)[0] == as_rows(btc5.loc[[t - MIN5]], offset)[0]
        clock.now += MIN5  # five minutes later the candle opened at t has closed
        _, rows = get(url, "/api/v3/klines", symbol="BTCUSDT", interval="5m", limit=2)
        assert parsed(rows)[0] == as_rows(btc5.loc[[t]], offset)[0]
        # Candles after D do not exist yet, not even as forming ones.
        future = clock.now + 2 * MIN5
        _, rows = get(url, "/api/v3/klines", symbol="BTCUSDT", interval="5m", startTime=future)
        assert rows == []
        _, rows = get(url, "/api/v3/klines", symbol="BTCUSDT", interval="5m", startTime=t + offset)
        assert [r[0] for r in rows] == [t + offset, t + MIN5 + offset]  # closed, then forming
        clock.now += 400 * 86_400_000  # far past the end of the recording
        _, rows = get(url, "/api/v3/klines", symbol="BTCUSDT", interval="5m", limit=2)
        assert parsed(rows) == as_rows(btc5.tail(2), offset)
        _, state = get(url, "/_venue/state")
        assert state["exhausted"] is True  # type: ignore[index]


def test_replay_on_the_wall_clock_with_ccxt(full_binance_dir: Path, btc5: pd.DataFrame) -> None:
    with running_venue(full_binance_dir, replay=True) as url:
        _, state = get(url, "/_venue/state")
        offset = state["offset_ms"]  # type: ignore[index]
        ex = ccxt.mexc({**ccxt_overrides(url), "enableRateLimit": False})
        ex.load_markets()
        before = time.time() * 1000
        candles = ex.fetch_ohlcv("BTC/USDT", "5m", limit=50)
        after = time.time() * 1000
    forming, newest_closed = candles[-1], candles[-2]
    assert before - MIN5 < forming[0] <= after
    close_time = newest_closed[0] + MIN5
    assert before - MIN5 < close_time <= after  # closed, and within one timeframe of now
    assert newest_closed[1:] == as_rows(btc5.loc[[newest_closed[0] - offset]])[0][1:]
    closed = pd.DataFrame(candles[:-1], columns=["t", "open", "high", "low", "close", "volume"])
    ref = btc5.loc[closed["t"] - offset, ["open", "high", "low", "close", "volume"]]
    assert closed[["open", "high", "low", "close", "volume"]].to_numpy().tolist() == (
        ref.to_numpy().tolist()
    )
