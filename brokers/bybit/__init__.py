"""Bybit V5 (unified API: spot, linear and inverse categories).

Phase 1 holds the I/O-free parts, each importable on its own:

- `constants`: base URLs, endpoint paths, rate-limit facts, websocket heartbeat and id rules;
- `auth`: HMAC-SHA256 request signing and the private websocket ``auth`` message;
- `schemas`: the V5 JSON envelopes, REST payloads and websocket messages as msgspec Structs;
- `errors`: the one table from ``retCode`` (and HTTP status) to protocol errors;
- `mapping`: Bybit <-> protocol in both directions, and the order book that applies deltas.

The REST client and the stream parser (``client.py``, ``stream.py``) build on these.
"""
