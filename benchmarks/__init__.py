"""Benchmark data generator, benchmark scripts and the kill test (DESIGN §6).

Benchmarks print ratios against anchors measured in the same run on the same archive; they are
scripts, not timed assertions in the test suite.
"""
