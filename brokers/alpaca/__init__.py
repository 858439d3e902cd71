"""Alpaca Trading API v2 + Market Data API v2 (US stocks) behind the Broker contract.

See README.md. Pure modules so far: constants (hosts, paths, limits, order windows), auth (key headers
and websocket auth messages), schemas (Alpaca JSON), errors (HTTP status + code table, stream error
codes), mapping (both directions) and session (market hours from /v2/clock and /v2/calendar, and the
pre-trade market-hours policy). The client and streams come with the shared chassis.
"""
