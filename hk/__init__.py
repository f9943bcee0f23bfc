"""hk: customer management for small housekeeping companies, on plain files under git.

The package is split as DESIGN §5 describes: ``hk.domain`` holds models and pure rules,
``hk.store`` does files, git, the index, the lock and encryption, ``hk.services`` is the one
application layer that both the CLI (``hk.commands``) and the TUI (``hk.tui``) call.
"""

__version__ = "0.1.0"
