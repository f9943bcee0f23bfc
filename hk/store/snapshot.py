"""What the index last saw of each record folder, and how to tell quickly if it changed.

A snapshot lists every file of a folder with its stat data (mtime, ctime, size, inode). A read
lists the folder again, stats each file and compares a fingerprint of the two listings; only
when they differ is the full snapshot loaded and the changed files parsed again. Files whose
mtime is within ``RACY_NS`` of the snapshot ("racy", as git calls them: a second write in the
same clock tick would not change their stat data) are compared by content on the next read.

Like the index, this module stays light to import: every read runs it.
"""

from __future__ import annotations

import errno
import marshal
import os
import threading

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs a search 3 ms
if TYPE_CHECKING:
    from typing import TypeAlias

    Stat: TypeAlias = tuple[int, int, int, int]

RACY_NS = 2_000_000_000


class Snapshot:
    """A folder's state at the last refresh.

    ``racy`` maps names to content hashes for files written too recently for their stat data
    to be trusted; ``broken`` maps names to the first problem of files that do not parse.
    ``token`` is the watcher's (:mod:`hk.store.watch`) from before the listing was taken: the
    listing is right but for the paths the watcher says changed since. It travels with the
    listing in one file, so a reader never pairs a listing with a newer token than its own.
    """

    __slots__ = ("broken", "names", "racy", "stats", "token")

    def __init__(
        self,
        names: list[str] | None = None,
        stats: list[Stat] | None = None,
        racy: dict[str, str] | None = None,
        broken: dict[str, str] | None = None,
        token: str | None = None,
    ) -> None:
        self.names = names or []
        self.stats = stats or []
        self.racy = racy or {}
        self.broken = broken or {}
        self.token = token


# A snapshot file: 8 bytes giving the length of its head, the head (a fingerprint of the folder
# listing, the small racy and broken maps and the watcher's token), then the listing itself
# (names and stat tuples), each marshalled. The fingerprint is a CRC of the names and the hash
# of the stat tuples (ints hash alike in every process). A warm read compares fingerprints and
# never unmarshals the 10 000 tuples of the listing.


def read_head(path: str) -> tuple[tuple[int, int] | None, Snapshot, bytes]:
    """(fingerprint, snapshot with only racy, broken and token, the undecoded listing)."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
        size = int.from_bytes(raw[:8], "little")
        seen, snap = _head(raw[8 : 8 + size])
        return seen, snap, raw[8 + size :]
    except (FileNotFoundError, ValueError, EOFError, TypeError):
        return None, Snapshot(), b""


def read_stamp(path: str) -> tuple[tuple[int, int] | None, Snapshot]:
    """Like :func:`read_head` without reading the listing (megabytes for 100 000 orders)."""
    try:
        with open(path, "rb") as handle:
            size = int.from_bytes(handle.read(8), "little")
            return _head(handle.read(size))
    except (FileNotFoundError, ValueError, EOFError, TypeError):
        return None, Snapshot()


def _head(raw: bytes) -> tuple[tuple[int, int] | None, Snapshot]:
    seen, racy, broken, *token = marshal.loads(raw)  # files written before tokens have three
    return seen, Snapshot(racy=racy, broken=broken, token=token[0] if token else None)


def stamp(path: str, token: str, seen: tuple[int, int] | None) -> bool:
    """Give the snapshot at ``path`` a watcher token, if its listing is still the one whose
    fingerprint is ``seen`` (another reader may have replaced it meanwhile); the listing is
    copied as it is, not decoded."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
        size = int.from_bytes(raw[:8], "little")
        old_seen, racy, broken, *_ = marshal.loads(raw[8 : 8 + size])
    except (FileNotFoundError, ValueError, EOFError, TypeError):
        return False
    if seen is None or old_seen != seen:
        return False
    head = marshal.dumps((seen, racy, broken, token))
    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    with open(tmp, "wb") as handle:
        handle.write(len(head).to_bytes(8, "little") + head)
        handle.write(memoryview(raw)[8 + size :])
    os.replace(tmp, path)
    return True


def read_snapshot(path: str) -> Snapshot:
    _, snap, body = read_head(path)
    try:
        snap.names, snap.stats = marshal.loads(body)
    except (ValueError, EOFError, TypeError):
        return Snapshot()
    return snap


def write_snapshot(path: str, snap: Snapshot) -> None:
    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    head = marshal.dumps((fingerprint(snap.names, snap.stats), snap.racy, snap.broken, snap.token))
    with open(tmp, "wb") as handle:
        handle.write(len(head).to_bytes(8, "little") + head)
        handle.write(marshal.dumps((snap.names, snap.stats)))
    os.replace(tmp, path)


def scan(root: str, folder: str, suffix: str, partitioned: bool) -> tuple[list[str], list[Stat]]:
    """Names (relative to the kind's folder) and stat data of every record file.

    Nothing is followed: a symbolic link, a pipe or a device named like a record is listed
    as what it is (see :func:`hk.store.limits.listed_size`), for the index to refuse without
    opening it. A folder that is a link (the kind's folder, a partition) is not read but
    listed as an entry of its own, its name ending in ``/`` (the kind's folder itself: ``""``).
    """
    top = os.path.join(root, folder)
    try:
        st = os.stat(top, follow_symlinks=False)
    except (FileNotFoundError, NotADirectoryError):
        return [], []
    if st.st_mode & 0o170000 != 0o040000:  # the folder itself is a link (or a file)
        return [""], [entry(st)]
    if not partitioned:
        return _scan_dir(top, "", suffix)
    names: list[str] = []
    stats: list[Stat] = []
    for year in _subdirs(top, ""):
        if isinstance(year, tuple):
            names.append(year[0])
            stats.append(year[1])
            continue
        for month in _subdirs(os.path.join(top, year), year + "/"):
            if isinstance(month, tuple):
                names.append(month[0])
                stats.append(month[1])
                continue
            n, s = _scan_dir(os.path.join(top, year, month), f"{year}/{month}/", suffix)
            names += n
            stats += s
    return names, stats


_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW


def _scan_dir(folder: str, prefix: str, suffix: str) -> tuple[list[str], list[Stat]]:
    try:
        fd = os.open(folder, _DIR_FLAGS)
    except (FileNotFoundError, NotADirectoryError):
        return [], []
    except OSError as exc:
        if exc.errno == errno.ELOOP:  # a link: not followed (its partition is listed as such)
            return [], []
        raise
    try:
        names = [n for n in os.listdir(fd) if n.endswith(suffix) and n[0] != "."]
        stat = os.stat
        stats: list[Stat] = []
        append = stats.append
        for n in names:
            s = stat(n, dir_fd=fd, follow_symlinks=False)
            mode = s.st_mode & 0o170000  # listed_size, inlined: this runs for every file
            append(
                (s.st_mtime_ns, s.st_ctime_ns, s.st_size if mode == 0o100000 else -mode, s.st_ino)
            )
        return [prefix + n for n in names] if prefix else names, stats
    finally:
        os.close(fd)


def _subdirs(folder: str, prefix: str) -> list[str | tuple[str, Stat]]:
    """Partition folders (``2026``, ``11``), in order; anything else is not a partition.

    A partition name that is not a folder (a link to one, a file) comes back as its listing
    entry, name and stat data, so that it is refused like any entry that is not a record.
    """
    try:
        names = sorted(n for n in os.listdir(folder) if n.isdigit())
    except (FileNotFoundError, NotADirectoryError):
        return []
    out: list[str | tuple[str, Stat]] = []
    for name in names:
        s = os.stat(os.path.join(folder, name), follow_symlinks=False)
        if s.st_mode & 0o170000 == 0o040000:
            out.append(name)
        else:
            out.append((f"{prefix}{name}/", entry(s)))
    return out


def entry(s: os.stat_result) -> Stat:
    """A file's stat data as a listing keeps it (what :func:`scan` builds inline)."""
    from hk.store.limits import listed_size

    return (s.st_mtime_ns, s.st_ctime_ns, listed_size(s.st_mode, s.st_size), s.st_ino)


def fingerprint(names: list[str], stats: list[Stat]) -> tuple[int, int]:
    """Equal for equal listings; any change of a name or a file's stat data changes it."""
    import zlib

    return zlib.crc32("\0".join(names).encode("utf-8", "surrogateescape")), hash(tuple(stats))


def content_hash(data: bytes) -> str:
    import hashlib

    return hashlib.blake2b(data, digest_size=16).hexdigest()
