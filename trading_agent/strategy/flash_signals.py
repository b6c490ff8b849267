"""Pure signal maths shared by FlashStrategy and EnhancedFlashStrategy.

Nothing here knows Freqtrade: every function takes pandas Series (one value per candle) and
returns Series or frames on the same index. Every value uses only its own candle and earlier
ones (no ``shift(-n)``, no centred windows, no whole-series statistics), so the output on the
first ``t`` candles equals the first ``t`` rows of the output on all candles.

Units (the seed divided momentum and volatility by price twice, so they never fired; here
each is defined once, as a return):

- ``momentum_pct``: the close-to-close return over ``window`` candles, in percent
  (``0.05`` means +0.05 %).
- ``volatility_pct``: the standard deviation of one-candle close-to-close returns over
  ``window`` candles, in percent per candle.
- ``imbalance``: a ratio in [-1, 1]; +1 means all pressure on the bid side.

The session manager's ``session_momentum_threshold`` and ``session_volatility_threshold`` are
compared with these in the same percent units (the seed's 0.04-0.06 momentum and 0.08-0.12
volatility thresholds read as percent fire at sensible rates on 5m candles; read as plain
fractions, 4-6 % in a few candles, they would never fire, which was the seed's bug).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

#: The three flash components, in the order used for columns and reports.
COMPONENTS: tuple[str, ...] = ("imbalance", "momentum", "volatility")


def _check_window(name: str, window: int) -> int:
    if isinstance(window, bool) or not isinstance(window, int | np.integer) or window < 1:
        raise ValueError(f"{name} must be an integer >= 1, got {window!r}")
    return int(window)


def momentum_pct(close: pd.Series, window: int) -> pd.Series:
    """Return over ``window`` candles in percent: ``100 * (close / close[t - window] - 1)``."""
    window = _check_window("momentum window", window)
    return 100.0 * (close / close.shift(window) - 1.0)


def volatility_pct(close: pd.Series, window: int) -> pd.Series:
    """Standard deviation of one-candle returns over ``window`` candles, in percent per candle."""
    window = _check_window("volatility window", window)
    if window < 2:
        raise ValueError(f"volatility window must be >= 2, got {window}")
    returns = close.pct_change(fill_method=None)
    return 100.0 * returns.rolling(window, min_periods=window).std(ddof=1)


def close_location(high: pd.Series, low: pd.Series, close: pd.Series) -> pd.Series:
    """Where the close sits in the candle's range, in [-1, 1] (+1 at the high, -1 at the low).

    ``((close - low) - (high - close)) / (high - low)``; 0 for a candle with no range.
    """
    span = (high - low).to_numpy(dtype=np.float64)
    num = ((close - low) - (high - close)).to_numpy(dtype=np.float64)
    out = np.divide(num, span, out=np.zeros_like(num), where=span > 0)
    return pd.Series(np.clip(out, -1.0, 1.0), index=close.index)


def imbalance_proxy(
    high: pd.Series, low: pd.Series, close: pd.Series, volume: pd.Series, window: int
) -> pd.Series:
    """Candle-based stand-in for order-book imbalance, in [-1, 1].

    The volume-weighted mean close location over the last ``window`` candles (a short
    Chaikin money flow): buying pressure closes candles near their highs on heavy volume.
    Used wherever no live order book exists (backtests, hyperopt, lookahead analysis); it
    is *not* the book imbalance, only a signal on the same scale and sign convention.
    0 when the window traded no volume.
    """
    window = _check_window("imbalance window", window)
    clv = close_location(high, low, close)
    weighted = (clv * volume).rolling(window, min_periods=window).sum()
    total = volume.rolling(window, min_periods=window).sum()
    out = np.divide(
        weighted.to_numpy(dtype=np.float64),
        total.to_numpy(dtype=np.float64),
        out=np.where(total.isna().to_numpy(), np.nan, 0.0),
        where=total.to_numpy(dtype=np.float64) > 0,
    )
    return pd.Series(np.clip(out, -1.0, 1.0), index=close.index)


def range_breakout(close: pd.Series, high: pd.Series, window: int) -> pd.Series:
    """True where the close is above the highest high of the ``window`` candles before it."""
    window = _check_window("breakout window", window)
    prior_high = high.shift(1).rolling(window, min_periods=window).max()
    return (close > prior_high).fillna(False).astype(bool)


def rolling_vwap(
    high: pd.Series, low: pd.Series, close: pd.Series, volume: pd.Series, window: int
) -> pd.Series:
    """Volume-weighted average typical price over the last ``window`` candles.

    A fixed rolling window (not a daily anchor), so a value depends on exactly ``window``
    candles and does not change with how much history was loaded.
    """
    window = _check_window("vwap window", window)
    typical = (high + low + close) / 3.0
    pv = (typical * volume).rolling(window, min_periods=window).sum()
    vol = volume.rolling(window, min_periods=window).sum()
    return pv / vol.where(vol > 0)


def component_score(value: pd.Series, threshold: pd.Series) -> pd.Series:
    """How strongly a component fired: ``value / (2 * threshold)`` clipped to [0, 1].

    0.5 exactly at the threshold, 1 at twice the threshold or more, 0 for values at or
    below zero. A zero threshold scores any positive value 1.
    """
    v = value.to_numpy(dtype=np.float64)
    t = np.broadcast_to(np.asarray(threshold, dtype=np.float64), v.shape)
    ratio = np.divide(v, 2.0 * t, out=np.where(v > 0, 1.0, 0.0), where=t > 0)
    ratio = np.nan_to_num(ratio, nan=0.0, posinf=1.0, neginf=0.0)
    return pd.Series(np.clip(ratio, 0.0, 1.0), index=value.index)


def flash_components(
    imbalance: pd.Series,
    momentum: pd.Series,
    volatility: pd.Series,
    breakout: pd.Series,
    thresholds: Mapping[str, pd.Series | float],
) -> pd.DataFrame:
    """Which long components fired on each candle, and how strongly.

    - ``imbalance``: imbalance above its threshold;
    - ``momentum``: momentum (percent) above its threshold;
    - ``volatility``: a volatility breakout: volatility (percent) above its threshold *and*
      the close above the prior range (``breakout``).

    ``thresholds`` maps each of :data:`COMPONENTS` to a Series (per-candle session threshold)
    or a number. Returns boolean ``fired_<name>`` and float ``score_<name>`` columns.
    """
    missing = [name for name in COMPONENTS if name not in thresholds]
    if missing:
        raise ValueError(f"thresholds missing for {missing} (need {list(COMPONENTS)})")
    values = {"imbalance": imbalance, "momentum": momentum, "volatility": volatility}
    broke = breakout.fillna(False).astype(bool)
    out: dict[str, pd.Series] = {}
    for name in COMPONENTS:
        value = values[name]
        threshold = thresholds[name]
        fired = (value > threshold).fillna(False).astype(bool)
        score = component_score(value, _as_series(threshold, value.index))
        if name == "volatility":
            fired = fired & broke
            score = score.where(broke, 0.0)
        out[f"fired_{name}"] = fired
        out[f"score_{name}"] = score
    return pd.DataFrame(out, index=imbalance.index)


def _as_series(threshold: pd.Series | float, index: pd.Index) -> pd.Series:
    if isinstance(threshold, pd.Series):
        return threshold
    return pd.Series(float(threshold), index=index)


def flash_entry(components: pd.DataFrame, momentum: pd.Series, min_signals: int) -> pd.Series:
    """Long entry where at least ``min_signals`` components fired and momentum is positive.

    The momentum condition keeps an imbalance-plus-volatility signal from buying into a
    falling price.
    """
    if isinstance(min_signals, bool) or not 1 <= int(min_signals) <= len(COMPONENTS):
        raise ValueError(f"min_signals must be 1..{len(COMPONENTS)}, got {min_signals!r}")
    count = components[[f"fired_{n}" for n in COMPONENTS]].sum(axis=1)
    return (count >= int(min_signals)) & (momentum > 0).fillna(False)


def onset(flag: pd.Series) -> pd.Series:
    """True on the first candle of each run of ``flag`` (it was false on the candle before)."""
    flag = flag.fillna(False).astype(bool)
    return flag & ~flag.shift(1, fill_value=False)


def flash_strength(components: pd.DataFrame) -> pd.Series:
    """Signal strength in [0, 1]: the mean of the three component scores."""
    return components[[f"score_{n}" for n in COMPONENTS]].mean(axis=1).clip(0.0, 1.0)


def flash_exit(
    imbalance: pd.Series,
    momentum: pd.Series,
    imbalance_threshold: pd.Series | float,
    momentum_threshold: pd.Series | float,
) -> pd.Series:
    """Exit a long where momentum and imbalance both reversed past their thresholds."""
    return ((momentum < -momentum_threshold) & (imbalance < -imbalance_threshold)).fillna(False)


def recent_flag(flag: pd.Series, window: int) -> pd.Series:
    """True where ``flag`` was true on this candle or any of the ``window - 1`` before it."""
    window = _check_window("lookback window", window)
    return flag.astype(np.float64).rolling(window, min_periods=1).max().fillna(0.0) > 0


def participation(stake: float, close: pd.Series, volume: pd.Series, window: int) -> pd.Series:
    """The stake as a fraction of the mean quote volume per candle over ``window`` candles.

    A candle-based stand-in for a liquidity check: a stake that is a large share of what
    trades in one candle would move the price. ``inf`` when nothing traded.
    """
    window = _check_window("liquidity window", window)
    if not (np.isfinite(stake) and stake >= 0):
        raise ValueError(f"stake must be finite and >= 0, got {stake!r}")
    quote = (close * volume).rolling(window, min_periods=window).mean().to_numpy(np.float64)
    out = np.full(len(quote), np.nan)
    known = ~np.isnan(quote)
    traded = known & (quote > 0)
    out[traded] = stake / quote[traded]
    out[known & ~traded] = np.inf
    return pd.Series(out, index=close.index)


#: Session-manager columns the flash strategies read (thresholds and sizing).
SESSION_THRESHOLD_COLUMNS: Mapping[str, str] = {
    "imbalance": "session_imbalance_threshold",
    "momentum": "session_momentum_threshold",
    "volatility": "session_volatility_threshold",
}


def require_columns(dataframe: pd.DataFrame, columns: list[str], who: str, plugin: str) -> None:
    """Raise a ``ValueError`` naming the missing columns and the plugin that provides them."""
    missing = [c for c in columns if c not in dataframe.columns]
    if missing:
        raise ValueError(
            f"{who} needs the columns {missing} from the {plugin!r} plugin: enable it in "
            f"trading_agent.enabled_plugins"
        )


def session_thresholds(
    dataframe: pd.DataFrame, scales: Mapping[str, float]
) -> dict[str, pd.Series]:
    """Per-candle thresholds: the governing session's threshold times a scale per component.

    ``scales`` maps each of :data:`COMPONENTS` to a positive multiplier (1.0 keeps the
    session manager's values; hyperopt tunes the multipliers, not per-session values, so
    thresholds configured per session keep their proportions).
    """
    out: dict[str, pd.Series] = {}
    for name in COMPONENTS:
        scale = float(scales[name])
        if not (np.isfinite(scale) and scale > 0):
            raise ValueError(f"{name} threshold scale must be finite and > 0, got {scale!r}")
        out[name] = dataframe[SESSION_THRESHOLD_COLUMNS[name]].astype(np.float64) * scale
    return out


def flash_indicators(
    dataframe: pd.DataFrame,
    *,
    momentum_window: int,
    volatility_window: int,
    imbalance_window: int,
    breakout_window: int,
    atr_period: int,
) -> pd.DataFrame:
    """The flash indicator columns for an OHLCV frame (same index, new columns only).

    ``imbalance_proxy`` (candle stand-in for the book imbalance), ``imbalance`` (the value
    signals use: the proxy, replaced on the latest candle by the live book in dry-run/live),
    ``momentum_pct``, ``volatility_pct``, ``breakout``, ``atr`` (TA-Lib, Wilder) and
    ``atr_pct`` (ATR in percent of the close).
    """
    import talib  # local: keeps this module importable for docs without TA-Lib

    high, low, close, volume = (dataframe[c] for c in ("high", "low", "close", "volume"))
    proxy = imbalance_proxy(high, low, close, volume, imbalance_window)
    atr = pd.Series(
        talib.ATR(
            high.to_numpy(np.float64),
            low.to_numpy(np.float64),
            close.to_numpy(np.float64),
            timeperiod=_check_window("atr period", atr_period),
        ),
        index=dataframe.index,
    )
    return pd.DataFrame(
        {
            "imbalance_proxy": proxy,
            "imbalance": proxy.copy(),
            "imbalance_book": np.nan,
            "momentum_pct": momentum_pct(close, momentum_window),
            "volatility_pct": volatility_pct(close, volatility_window),
            "breakout": range_breakout(close, high, breakout_window).astype(np.int64),
            "atr": atr,
            "atr_pct": 100.0 * atr / close,
        },
        index=dataframe.index,
    )


#: Entry tags by bit code (1 imbalance, 2 momentum, 4 volatility breakout).
_TAG_PARTS = {1: "imb", 2: "mom", 4: "vol"}


def component_tags(components: pd.DataFrame, prefix: str) -> pd.Series:
    """A readable tag per candle naming the components that fired, e.g. ``flash:imb+mom``."""
    code = (
        components["fired_imbalance"].astype(np.int64)
        + 2 * components["fired_momentum"].astype(np.int64)
        + 4 * components["fired_volatility"].astype(np.int64)
    )
    labels = {
        c: f"{prefix}:" + ("+".join(p for bit, p in _TAG_PARTS.items() if c & bit) or "none")
        for c in range(8)
    }
    return code.map(labels)
