"""The crash log: where a bug's traceback goes, holding nothing a user typed.

A command line carries personal data (``hk customer add 陈淑芬 --id-number …``) and an
exception's message can quote a value it choked on, so neither is written: an entry holds the
time, hk's version, the command's name and the traceback's frames (file, line, function,
source line) with each exception's type. The file is the user's alone (0600), because it
lives in a home directory other local users may be able to read.
"""

from __future__ import annotations

import datetime as dt
import os
import traceback

from hk.store.paths import crash_log

MODE = 0o600


def entry(command: str, exc: BaseException, version: str) -> str:
    """The log entry for ``exc`` raised while running ``command``: no argument, no message."""
    lines = [f"--- {dt.datetime.now().astimezone().isoformat()} hk {version} {command}\n"]
    for link in _chain(exc):
        lines.append("Traceback (most recent call last):\n")
        lines += traceback.format_list(traceback.extract_tb(link.__traceback__))
        lines.append(f"{type(link).__module__}.{type(link).__qualname__} (message not logged)\n")
    return "".join(lines)


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and the exceptions it was raised from or during, oldest first, as Python prints."""
    chain: list[BaseException] = []
    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        chain.append(link)
        link = link.__cause__ or (None if link.__suppress_context__ else link.__context__)
    return chain[::-1]


def record(command: str, exc: BaseException, version: str) -> str:
    """Append the entry to the crash log; where it went, or why it could not be written."""
    path = crash_log()
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, MODE)
        try:
            os.fchmod(fd, MODE)  # a log made by an older hk may be readable by others
            os.write(fd, entry(command, exc, version).encode("utf-8"))
        finally:
            os.close(fd)
    except OSError:
        return "(the log could not be written)"
    return str(path)
