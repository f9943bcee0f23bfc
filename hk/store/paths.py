"""Where things live outside the archive: keys, logs, the default archive (XDG base dirs).

Every location can be redirected by an environment variable, which is also how the tests keep
away from the real home directory.
"""

from __future__ import annotations

import os
from pathlib import Path


def _xdg(var: str, fallback: str) -> Path:
    value = os.environ.get(var)
    return Path(value) if value else Path.home() / fallback


def data_home() -> Path:
    from hk.store.discover import data_home as data_home_path

    return Path(data_home_path())


def state_home() -> Path:
    return _xdg("XDG_STATE_HOME", ".local/state") / "hk"


def key_dir(archive_id: str, explicit: str = "") -> Path:
    """The folder that holds an archive's master key and per-person data keys.

    ``explicit`` (the ``key_dir`` setting, or ``HK_KEY_DIR``) names it directly; otherwise
    ``$XDG_DATA_HOME/hk/keys/<archive id>``. It is outside the archive on purpose: the
    archive is pushed to remotes, the keys are not.
    """
    if explicit:
        return Path(explicit).expanduser()
    return data_home() / "keys" / archive_id


def crash_log() -> Path:
    return state_home() / "crash.log"
