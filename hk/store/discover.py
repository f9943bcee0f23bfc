"""Finding the archive, like git finds ``.git``, with nothing heavier than ``os`` imported.

Order: an explicit path (``--archive``), then ``HK_ARCHIVE``, then the nearest folder upwards
that holds ``hk.toml``, then the default archive in the user's data folder.
"""

from __future__ import annotations

import os

SETTINGS_FILE = "hk.toml"
LOCAL_SETTINGS_FILE = "hk.local.toml"
"""The operator's own settings beside ``hk.toml``: never committed, any key of it overridden."""


def data_home() -> str:
    """``$XDG_DATA_HOME/hk`` (``~/.local/share/hk`` without XDG)."""
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local/share")
    return os.path.join(base, "hk")


def default_archive() -> str:
    """``$XDG_DATA_HOME/hk/archive``: the archive used when none is named or found."""
    return os.path.join(data_home(), "archive")


def find_root(explicit: str | None = None, cwd: str | None = None) -> str:
    """The archive root to use (the default one may not exist yet)."""
    if explicit:
        return os.path.realpath(os.path.expanduser(explicit))
    env = os.environ.get("HK_ARCHIVE")
    if env:
        return os.path.realpath(os.path.expanduser(env))
    folder = os.path.realpath(cwd or os.getcwd())
    while True:
        if os.path.isfile(os.path.join(folder, SETTINGS_FILE)):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return default_archive()
        folder = parent


def is_archive(root: str) -> bool:
    return os.path.isfile(os.path.join(root, SETTINGS_FILE)) and os.path.exists(
        os.path.join(root, ".git")
    )
