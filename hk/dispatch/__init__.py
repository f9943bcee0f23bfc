"""Dispatch: a solver-neutral routing model, its solver adapter and an independent checker.

The model (:mod:`hk.dispatch.model`) is what both a day's orders and a benchmark instance are
translated into, so the benchmarks measure the same path ``hk dispatch plan`` takes.
"""
