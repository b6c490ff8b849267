"""MEXC's rules for SIGNED endpoints (``tradeFee``, ``order``...), minus the cryptography.

A signed request carries the API key in the ``X-MEXC-APIKEY`` header and ``timestamp`` and
``signature`` parameters (optionally ``recvWindow``, at most 60000 ms, default 5000). MEXC
refuses a request whose timestamp is not in ``(serverTime - recvWindow, serverTime + 1000)``.

The venue holds no accounts and no secrets, so it **accepts any signature**: it checks that a
key and a signature are present and that the timestamp is fresh, as MEXC does, so that a client
that would be refused for those reasons is refused here too. Codes, from ccxt's ``mexc``
exception map:

=============================  =======  =========================
case                           code     ccxt raises
=============================  =======  =========================
no ``X-MEXC-APIKEY`` header    10072    ``BadRequest``
no ``signature``               700002   ``AuthenticationError``
stale or future ``timestamp``  700003   ``InvalidNonce``
``recvWindow`` above 60000     700005   ``InvalidNonce``
=============================  =======  =========================
"""

from __future__ import annotations

from trading_agent.venue.errors import VenueError, missing_param
from trading_agent.venue.params import Query, int_param

CODE_API_KEY_INVALID = 10072
CODE_SIGNATURE_INVALID = 700002
CODE_OUTSIDE_RECV_WINDOW = 700003
CODE_RECV_WINDOW_TOO_LARGE = 700005
DEFAULT_RECV_WINDOW_MS = 5000
MAX_RECV_WINDOW_MS = 60000
#: How far ahead of the server's clock a timestamp may be (MEXC: 1 s).
MAX_AHEAD_MS = 1000


def check_signed(query: Query, api_key: str | None, now_ms: int) -> None:
    """Raise :class:`VenueError` when a signed request lacks what MEXC requires.

    ``api_key`` is the ``X-MEXC-APIKEY`` header (None when absent); ``now_ms`` the server's
    wall clock.
    """
    if not api_key or not api_key.strip():
        raise VenueError(CODE_API_KEY_INVALID, "Api key info invalid")
    if not query.get("signature"):
        raise VenueError(CODE_SIGNATURE_INVALID, "Signature for this request is not valid.")
    timestamp = int_param(query, "timestamp", 0)
    if timestamp is None:
        raise missing_param("timestamp")
    window = int_param(query, "recvWindow", 1)
    if window is None:
        window = DEFAULT_RECV_WINDOW_MS
    if window > MAX_RECV_WINDOW_MS:
        raise VenueError(CODE_RECV_WINDOW_TOO_LARGE, "recvWindow must less than 60000")
    if not now_ms - window <= timestamp < now_ms + MAX_AHEAD_MS:
        raise VenueError(
            CODE_OUTSIDE_RECV_WINDOW,
            "Timestamp for this request is outside of the recvWindow.",
        )
