"""`make bench`: throughput, latency and memory of AlgoTrendy Connect, side by side with peers.

Benchmarks report; they never fail a build on a number. Each figure is the median of several
runs, and every comparison is made against a peer measured in the same run on the same machine.
"""
