"""The office TUI (Textual): ``hk`` on a terminal, ``hk tui``, ``hk demo``.

Only this package imports Textual (tests/test_architecture.py checks it). Layout: ``app.py``
(the app and :func:`~hk.tui.app.make_app`), ``screens/`` (one page per module), ``widgets/``,
``data/`` (what the pages read, plain Python), ``app.tcss`` (styles), ``i18n.py`` (words),
``keys.py`` (bindings with ids), ``commands.py`` (the command palette).
"""
