"""Files hk writes outside the archive because a user named them (``--out``, ``calendar export``).

One home for what a named output path means, whatever writes to it:

- ``-`` is standard output. A binary format (xlsx) goes there only when it is not a terminal,
  where it would only garble the screen.
- A regular file, or a name not taken yet, is replaced atomically: a reader (or a spreadsheet
  program watching the file) sees the old or the new file, never half of one. A replaced file
  keeps its permissions.
- A device, a named pipe or a socket is written in place, opened for writing as any program
  would (``--out /dev/null``, a pipe another program reads): never replaced by a file, which
  as root would destroy ``/dev/null``.
- A symbolic link is refused: writing through it could replace a file anywhere, and replacing
  the link would silently break whatever it was for. The user names the file itself.
- A path hk cannot write (no such folder, no permission, a read-only disk) is a user error
  with a hint, exit 1, never a traceback.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import IO

from hk.errors import HkError, UsageError

STDOUT = "-"


def write_output(
    target: Path | str,
    data: bytes,
    *,
    stdout: IO[bytes] | None = None,
    binary: str | None = None,
) -> None:
    """Write ``data`` where the user asked (see the module's docstring).

    ``stdout`` is where ``-`` writes (a caller that cannot write to standard output passes
    none, and ``-`` is refused); ``binary`` names a binary format, which is never written to
    a terminal.
    """
    if str(target) == STDOUT:
        _to_stdout(data, stdout, binary)
        return
    path = Path(target)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise _cannot(path, exc) from None
    if st is not None and stat.S_ISLNK(st.st_mode):
        raise HkError(
            f"{path} is a symbolic link; hk does not write through links (that could replace "
            "a file somewhere else)",
            hint="give the path of the file itself, or another file name",
        )
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise HkError(f"{path} is a folder", hint="give a file name, e.g. inside that folder")
    try:
        if st is not None and not stat.S_ISREG(st.st_mode):
            _in_place(path, data)
        else:
            _replace(path, data, stat.S_IMODE(st.st_mode) if st is not None else None)
    except OSError as exc:
        raise _cannot(path, exc) from None


def _to_stdout(data: bytes, stdout: IO[bytes] | None, binary: str | None) -> None:
    if stdout is None:
        raise UsageError("this command cannot write to standard output ('-')", hint="give a file")
    if binary and stdout.isatty():
        raise UsageError(
            f"an {binary} file is binary; it is not printed on a terminal",
            hint=f"redirect it (`… --out - > file.{binary}`) or give --out FILE.{binary}",
        )
    stdout.write(data)
    stdout.flush()


def _in_place(path: Path, data: bytes) -> None:
    """Write to a device, pipe or socket as it is: opened for writing, never created or
    truncated, and never through a link (checked before; O_NOFOLLOW closes the gap)."""
    fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0))
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def _replace(path: Path, data: bytes, mode: int | None) -> None:
    """Write a temp file beside ``path`` and rename it over ``path`` (one file system, so the
    rename is atomic); a new file gets the permissions the user's umask gives."""
    folder = path.parent
    tmp = folder / f".{path.name}.{os.getpid()}.tmp"
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(tmp, flags, 0o666)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
            if mode is not None:
                os.fchmod(fd, mode)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:  # even on Ctrl-C: no temp file is left beside the user's; re-raised
        tmp.unlink(missing_ok=True)
        raise


def _cannot(path: Path, exc: OSError) -> HkError:
    """A user error naming what stood in the way."""
    folder = path.parent
    if isinstance(exc, FileNotFoundError) and not folder.is_dir():
        return HkError(
            f"cannot write {path}: the folder {folder} does not exist",
            hint="create the folder first, or give another path",
        )
    reason = exc.strerror or str(exc)
    if isinstance(exc, PermissionError):
        hint = "you may not write there: give a path in a folder of yours"
    else:
        hint = "give another path"
    return HkError(f"cannot write {path}: {reason}", hint=hint)
