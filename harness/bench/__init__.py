"""Throughput and latency benchmarks: measurement plans, statistics, verdicts, charts."""
