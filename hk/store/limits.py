"""What a record file may be, and the one way hk reads one from disk.

A record is a small regular file: a customer is a few KB, an order about 2 KB. Anything else
found in a record folder is refused with a located error, never followed and, where the
folder listing already says what it is, never opened: a symbolic link can point outside the
archive (and would be committed as a link, dangling in every clone), opening a named pipe
blocks until someone writes to it, a device never ends. The limits on size, nesting depth and
YAML aliases (the last two checked by :mod:`hk.store.codec`) keep one hostile or broken file
from costing a reader more than a moment and a little memory: a few hundred KB of YAML aliases
expand to gigabytes, and data nested a thousand levels deep exhausts Python's stack.

Light to import, like the index that uses it on every refresh: the error classes are imported
only when there is something to refuse.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs a search 3 ms
if TYPE_CHECKING:
    from hk.errors import InvalidData

MAX_RECORD_BYTES = 1 << 20
"""The largest record file hk reads (1 MiB): a customer is a few KB, an order about 2 KB."""
MAX_DEPTH = 64
"""The deepest nesting of mappings and lists in a record (hk's own records nest 4 or 5)."""

_S_IFMT = 0o170000
_S_IFREG = 0o100000
_S_IFLNK = 0o120000
_WHAT = {
    _S_IFLNK: "a symbolic link",
    0o010000: "a named pipe (FIFO)",
    0o020000: "a character device",
    0o060000: "a block device",
    0o140000: "a socket",
    0o040000: "a folder",
}


def listed_size(mode: int, size: int) -> int:
    """The size a folder listing keeps for an entry: a regular file's size, or for anything
    else minus its file type, so that the listing alone tells what may not be opened."""
    kind = mode & _S_IFMT
    return size if kind == _S_IFREG else -kind


def refusal(path: str, size: int) -> InvalidData | None:
    """Why the entry at ``path`` cannot be a record, from its :func:`listed_size`; None if
    it may be read."""
    if size < 0:
        return not_regular(path, -size)
    if size > MAX_RECORD_BYTES:
        return too_big(path, size)
    return None


def not_regular(path: str, kind: int) -> InvalidData:
    from hk.errors import InvalidData, Problem

    what = _WHAT.get(kind & _S_IFMT, "not a regular file")
    if path.endswith("/"):  # a folder of records that is not one (see snapshot.scan)
        return InvalidData(
            [
                Problem(
                    message=f"{what} where a folder of records belongs: hk never follows it",
                    path=path,
                    hint="put the folder itself here, with its files (a link can point outside "
                    "the archive)",
                )
            ]
        )
    if kind & _S_IFMT == _S_IFLNK:
        hint = "put the file itself here (a link can point outside the archive), or remove the link"
    else:
        hint = "move it out of the record folder; only record files belong there"
    return InvalidData(
        [
            Problem(
                message=f"{what}, not a regular file: hk never opens it as a record",
                path=path,
                hint=hint,
            )
        ]
    )


def too_big(path: str, size: int) -> InvalidData:
    from hk.errors import InvalidData, Problem

    return InvalidData(
        [
            Problem(
                message=f"the file is {_human(size)}; a record file may be at most "
                f"{_human(MAX_RECORD_BYTES)}",
                path=path,
                hint="a record holds one customer's or order's fields (a few KB): remove what "
                "does not belong there, or restore the file with `git checkout`",
            )
        ]
    )


def _human(size: int) -> str:
    if size >= 1 << 20:
        return f"{size / (1 << 20):.1f} MB"
    if size >= 1 << 10:
        return f"{size / (1 << 10):.1f} KB"
    return f"{size} bytes"


_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
"""No following of a link, no waiting on a pipe that slipped in after the listing."""


def read_record(root: str, path: str, listed: bool = False) -> bytes | None:
    """The bytes of the record file at ``path`` (relative to the archive ``root``); None if
    there is no such file.

    Raises :class:`~hk.errors.InvalidData` for anything but a regular file within the size
    limit, in a folder of the archive that is not a link. ``listed`` says the caller's folder
    listing (taken without following links) found a regular file there; otherwise the folders
    and the entry are looked at first, so that a device or a pipe is refused without being
    opened. Either way the file is opened without following a link and checked again once
    open: it may have been replaced in between.
    """
    full = os.path.join(root, path)
    if not listed:
        _check_folders(root, path)
        try:
            st = os.lstat(full)
        except FileNotFoundError:
            return None
        refused = refusal(path, listed_size(st.st_mode, st.st_size))
        if refused is not None:
            raise refused
    try:
        fd = os.open(full, _FLAGS)
    except FileNotFoundError:
        return None
    except OSError as exc:
        import errno

        if exc.errno == errno.ELOOP:
            raise not_regular(path, _S_IFLNK) from None
        if exc.errno == errno.ENXIO:  # a socket
            raise not_regular(path, 0o140000) from None
        raise
    try:
        st = os.fstat(fd)
        refused = refusal(path, listed_size(st.st_mode, st.st_size))
        if refused is not None:
            raise refused
        return _read_at_most(fd, path)
    finally:
        os.close(fd)


def _check_folders(root: str, path: str) -> None:
    """Refuse a record whose folder (or month folder) inside the archive is a link: reading
    or writing through it would reach outside the archive. A folder that does not exist is
    left for the caller to find the file missing."""
    parts = path.split("/")[:-1]
    for depth in range(1, len(parts) + 1):
        folder = "/".join(parts[:depth])
        try:
            mode = os.lstat(os.path.join(root, folder)).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return
        if mode & _S_IFMT != 0o040000:
            raise not_regular(folder + "/", mode)


def check_writable(root: str, path: str) -> None:
    """Refuse to write the record file ``path`` where it would not land in the archive as a
    regular file: through a folder that is a link, or over anything but a regular file
    (os.replace would put a file in place of a link, a pipe or a device, and the link's
    meaning, git's record of it, would be lost without anyone having asked)."""
    _check_folders(root, path)
    try:
        st = os.lstat(os.path.join(root, path))
    except FileNotFoundError:
        return
    if st.st_mode & _S_IFMT != _S_IFREG:
        raise not_regular(path, st.st_mode)


_CHUNK = 1 << 16


def _read_at_most(fd: int, path: str) -> bytes:
    """The whole file, or :func:`too_big` if it grew past the limit since it was checked."""
    data = os.read(fd, _CHUNK)
    if len(data) < _CHUNK:  # a regular file reads short only at its end
        return data
    parts = [data]
    total = len(data)
    while part := os.read(fd, _CHUNK):
        parts.append(part)
        total += len(part)
        if total > MAX_RECORD_BYTES:
            raise too_big(path, total)
    return b"".join(parts)
