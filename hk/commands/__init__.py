"""Typer sub-apps, one per noun. Each command parses options and calls :mod:`hk.services`."""
