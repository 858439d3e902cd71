"""Kraken spot (REST + websocket v2), margin and Earn behind the Broker contract.

See README.md. Pure modules so far: constants (hosts, paths, limits), auth (API-Sign), nonce (a
per-key nonce shared by processes), counters (Kraken's decaying rate counters), schemas (Kraken JSON),
errors (the error-string table), mapping (both directions, the pair table), book (the checksummed L2
book). The client and streams are built on the shared chassis next.
"""
