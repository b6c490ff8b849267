"""MEXC-shaped errors: HTTP status plus ``{"code": <int>, "msg": "..."}``.

Codes are picked from ccxt's ``mexc`` exception map (``ccxt/mexc.py``, ``exceptions.exact``) so
that ccxt raises the fitting exception class:

======================  =======  ===============================  ====================
case                    code     message                          ccxt raises
======================  =======  ===============================  ====================
unknown symbol          -1121    ``Invalid symbol.``              ``BadSymbol``
bad parameter value     730002   names the parameter and value    ``BadRequest``
malformed parameter     700008   names the parameter and value    ``BadRequest``
symbol not API-tradable 10007    ``symbol not support api``       ``BadSymbol``
order placement         730003   ``Unsupported operation...``     ``ExchangeError``
unknown path            404      ``Not Found``                    ``ExchangeError``
wrong HTTP method       405      ``Method Not Allowed``           ``ExchangeError``
======================  =======  ===============================  ====================

Messages avoid the phrases of ccxt's ``broad`` map (``maintenance``, ``Param error!``...) except
``Invalid symbol.``, which maps to ``BadSymbol`` there as well.
"""

from __future__ import annotations

CODE_INVALID_SYMBOL = -1121
CODE_INVALID_PARAM = 730002
CODE_MALFORMED_PARAM = 700008
CODE_SYMBOL_NOT_API = 10007
CODE_UNSUPPORTED = 730003
CODE_NOT_FOUND = 404
CODE_METHOD_NOT_ALLOWED = 405


class VenueError(Exception):
    """An error answered to the client in MEXC's shape."""

    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.status = status

    def body(self) -> dict[str, object]:
        """The JSON body MEXC answers with."""
        return {"code": self.code, "msg": self.msg}


def invalid_symbol() -> VenueError:
    """Unknown symbol (ccxt: BadSymbol)."""
    return VenueError(CODE_INVALID_SYMBOL, "Invalid symbol.")


def invalid_param(msg: str) -> VenueError:
    """A parameter has a value out of range or not allowed (ccxt: BadRequest)."""
    return VenueError(CODE_INVALID_PARAM, msg)


def missing_param(name: str) -> VenueError:
    """A mandatory parameter is absent or empty (ccxt: BadRequest)."""
    return VenueError(
        CODE_INVALID_PARAM, f"Mandatory parameter '{name}' was not sent, or was empty."
    )


def malformed_param(name: str, value: str) -> VenueError:
    """A parameter is not written as the endpoint expects (ccxt: BadRequest)."""
    shown = value if len(value) <= 40 else value[:40] + "..."
    return VenueError(
        CODE_MALFORMED_PARAM,
        f"Illegal characters found in parameter '{name}': {shown!r} is not an integer.",
    )


def symbol_not_api_tradable() -> VenueError:
    """Orders for a symbol MEXC does not let the API trade (ccxt: BadSymbol)."""
    return VenueError(CODE_SYMBOL_NOT_API, "symbol not support api")


def orders_not_placed() -> VenueError:
    """A valid order for an API-tradable symbol: the venue holds no accounts (ExchangeError)."""
    return VenueError(
        CODE_UNSUPPORTED,
        "Unsupported operation: this venue serves market data and places no orders "
        "(use POST /api/v3/order/test to validate one).",
    )


def not_found(path: str) -> VenueError:
    """Unknown path."""
    shown = path if len(path) <= 80 else path[:80] + "..."
    return VenueError(CODE_NOT_FOUND, f"Not Found: {shown}", status=404)


def method_not_allowed(method: str) -> VenueError:
    """A known path asked with the wrong HTTP method."""
    return VenueError(CODE_METHOD_NOT_ALLOWED, f"Method Not Allowed: {method[:10]}", status=405)
