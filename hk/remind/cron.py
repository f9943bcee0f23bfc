"""``hk cron install|show|remove``: the user's crontab line that runs ``hk remind --send`` daily.

The line is found again by a marker comment naming the archive's ID, so each archive has at
most one line and every other line of the crontab is kept as it is. Cron runs with almost no
environment (``PATH=/usr/bin:/bin``, no variables of the user's shell), so the line sets what
the run needs: the archive (``HK_ARCHIVE``, and ``cd`` into it), who is recorded as sending
(``HK_OPERATOR``), a ``PATH`` holding the ``hk`` it was installed with and git, a UTF-8
locale, and the user's key and data folders if they are moved by variables (``hk.local.toml``
needs no help: the run reads it from the archive as any command does). Secrets are never
written into the crontab: a channel that reads one from a variable gets a warning (cron will
not have it; use the ``*_file`` form).

``[reminders] daily_at`` is in the archive's timezone; cron reads times in the system's, so the
time is converted when they differ (a machine set to UTC runs an 08:00 Beijing reminder at
00:00).
"""

from __future__ import annotations

import datetime as dt
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from hk.errors import HkError

if TYPE_CHECKING:
    from hk.store.archive import Archive

PASSED_ON = ("XDG_DATA_HOME", "XDG_STATE_HOME", "XDG_CONFIG_HOME")
"""Variables copied into the line when set, so the cron run finds the same folders."""
PASSED_SETTINGS = ("key_dir",)
"""Settings copied into the line as their ``HK_*`` variable when that variable set them."""


class CronError(HkError):
    """The crontab could not be read or written."""


def marker(archive: Archive) -> str:
    return f"# hk remind: archive {archive.settings.archive_id}"


def crontab_command() -> str:
    found = shutil.which("crontab")
    if not found:
        raise CronError(
            "there is no crontab command on this machine",
            hint="install cron (Debian/Ubuntu: sudo apt install cron)",
        )
    return found


def read() -> str:
    """The user's crontab ("" if they have none)."""
    proc = subprocess.run([crontab_command(), "-l"], capture_output=True, text=True)
    if proc.returncode != 0:
        if "no crontab" in proc.stderr.lower():
            return ""
        raise CronError(f"crontab -l failed: {proc.stderr.strip()}")
    return proc.stdout


def write(text: str) -> None:
    proc = subprocess.run([crontab_command(), "-"], input=text, capture_output=True, text=True)
    if proc.returncode != 0:
        raise CronError(f"crontab could not be written: {proc.stderr.strip()}")


def hk_binary() -> Path:
    """The ``hk`` this Python runs (a venv's, pipx's), else the one on PATH."""
    beside = Path(sys.executable).with_name("hk")
    if beside.is_file() and os.access(beside, os.X_OK):
        return beside
    found = shutil.which("hk")
    if not found:
        raise CronError("cannot tell where the hk program is", hint="put hk on your PATH")
    return Path(found).resolve()


def local_time(daily_at: str, timezone: str, on: dt.date | None = None) -> tuple[int, int]:
    """``daily_at`` (HH:MM in the archive's timezone) as the system's hour and minute."""
    from zoneinfo import ZoneInfo

    hour, minute = (int(part) for part in daily_at.split(":"))
    day = on or dt.date.today()
    when = dt.datetime.combine(day, dt.time(hour, minute), ZoneInfo(timezone)).astimezone()
    return when.hour, when.minute


def line(archive: Archive) -> str:
    """The crontab line for this archive."""
    settings = archive.settings
    hour, minute = local_time(settings.reminders.daily_at, settings.locale.timezone)
    root = str(archive.root.resolve())
    binary = hk_binary()
    folders = [str(binary.parent)]
    git = shutil.which("git")
    if git:
        folders.append(str(Path(git).parent))
    path = ":".join(dict.fromkeys([*folders, "/usr/local/bin", "/usr/bin", "/bin"]))
    env = {"HK_ARCHIVE": root, "HK_OPERATOR": archive.operator(), "PATH": path, "LANG": "C.UTF-8"}
    env.update({k: os.environ[k] for k in PASSED_ON if os.environ.get(k)})
    loaded = archive.loaded_settings
    for key in PASSED_SETTINGS:
        source = loaded.source_of((key,))
        if source.startswith("env "):
            env[source.removeprefix("env ")] = str(getattr(settings, key))
    assignments = " ".join(f"{k}={shlex.quote(v)}" for k, v in env.items())
    command = f"cd {shlex.quote(root)} && {assignments} {shlex.quote(str(binary))} remind --send"
    # In a crontab line an unescaped % ends the command and starts its standard input.
    return f"{minute} {hour} * * * {command.replace('%', chr(92) + '%')} {marker(archive)}"


def show(archive: Archive) -> str | None:
    """This archive's line in the user's crontab, if any."""
    mark = marker(archive)
    return next((ln for ln in read().splitlines() if ln.endswith(mark)), None)


def install(archive: Archive) -> tuple[str, bool, list[str]]:
    """Put this archive's line in the crontab (replacing an older one); the line, whether one
    was replaced, and warnings about what cron will not have."""
    new = line(archive)
    mark = marker(archive)
    lines = read().splitlines()
    replaced = any(ln.endswith(mark) for ln in lines)
    kept = [ln for ln in lines if not ln.endswith(mark)]
    write("\n".join([*kept, new]) + "\n")
    return new, replaced, warnings(archive)


def remove(archive: Archive) -> bool:
    """Take this archive's line out of the crontab; whether there was one."""
    mark = marker(archive)
    lines = read().splitlines()
    kept = [ln for ln in lines if not ln.endswith(mark)]
    if len(kept) == len(lines):
        return False
    write("\n".join(kept) + "\n" if kept else "")
    return True


def warnings(archive: Archive) -> list[str]:
    """What the cron run will miss: secrets read from variables of this shell."""
    out = []
    for channel in archive.settings.notify.channels:
        for stem in ("password", "url", "secret"):
            var = getattr(channel, f"{stem}_env", "")
            if var:
                out.append(
                    f"channel {channel.name} reads {stem} from ${var}, which cron does "
                    f"not pass: use {stem}_file (a file outside the archive) instead"
                )
    return out
