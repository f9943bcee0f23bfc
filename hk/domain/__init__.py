"""Pydantic models and pure rules. No file, git or network I/O happens in this package."""
