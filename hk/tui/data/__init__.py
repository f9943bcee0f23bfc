"""What the TUI reads from an archive, as plain Python: no Textual here.

Each function takes an :class:`~hk.store.archive.Archive` and runs in a worker thread; the
screens show what it returns. Kept apart from the widgets so that it can be tested, and later
moved into :mod:`hk.services`, without a terminal.
"""
