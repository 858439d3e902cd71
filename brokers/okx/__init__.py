"""OKX V5: spot and perpetual swaps behind the Broker contract, keeping OKX's market data first-class.

See README.md. This phase holds the pure modules only: constants (hosts, paths, limits, channels),
auth (signing, websocket login), schemas (V5 JSON, the answer envelope), errors (code table), mapping
(both directions, contract sizes) and book (the checksummed L2 book). The client, the stream and the
registration in `brokers/__init__.py` come with the shared client chassis.
"""
