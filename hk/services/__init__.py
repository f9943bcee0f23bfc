"""The application layer: what a user can do, as functions the CLI and the TUI both call.

Functions here take an :class:`~hk.store.archive.Archive` and plain values, return records or
plain data, and raise :class:`~hk.errors.HkError` for anything the user should fix. They never
print and never prompt.
"""
