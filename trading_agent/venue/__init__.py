"""Local MEXC-compatible market venue serving recorded Freqtrade candles (see docs/venue.md).

Run it with ``ta-venue --datadir DIR --port PORT [--replay]``; in tests use
:func:`trading_agent.venue.server.running_venue`, which yields the base URL to put in ccxt's
``urls.api.spot.public`` (and ``<base>/api/v1/contract`` in ``urls.api.contract.public``).
"""
