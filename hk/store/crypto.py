"""Field encryption: AES-GCM with a data key per person, wrapped by a master key.

Layout of a key folder (outside the archive, see :func:`hk.store.paths.key_dir`)::

    master.key            32 random bytes, base64; back this file up
    people/<record id>    that person's data key, wrapped with the master key (RFC 3394)

Each person's sensitive values are sealed with their own data key and the record ID as
associated data, so a token cannot be moved to another record. Erasing a person (a later
issue) destroys their data key: every copy of their sealed values in git history becomes noise.
Without the master key nothing can be unsealed; everything else in hk still works.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path

from hk.domain.fields import SEAL_PREFIX, Sealed
from hk.errors import HkError
from hk.store.atomic import fsync_dir, write_atomic


class KeyMissing(HkError):
    """The master key (or a person's data key) is not on this machine."""


class Undecryptable(HkError):
    """A token that does not open with its record's key (copied from another record, damaged)."""


class Keyring:
    """Seals and unseals values; loads the master key lazily, caches data keys."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._master: bytes | None = None
        self._data_keys: dict[str, bytes] = {}

    @property
    def master_path(self) -> Path:
        return self.folder / "master.key"

    def available(self) -> bool:
        return self.master_path.exists()

    def create_master(self) -> bool:
        """Create the master key if there is none; True if it was created now."""
        if self.master_path.exists():
            return False
        self.folder.mkdir(parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        key = base64.b64encode(secrets.token_bytes(32)) + b"\n"
        write_atomic(self.master_path, key, mode=0o600)
        return True

    def _master_key(self) -> bytes:
        if self._master is None:
            try:
                raw = self.master_path.read_bytes()
            except FileNotFoundError:
                raise KeyMissing(
                    f"the master key is not on this machine (looked in {self.master_path})",
                    hint="copy master.key and people/ from your key backup into that folder, "
                    "or set HK_KEY_DIR to where they are",
                ) from None
            self._master = _read_master(self.master_path, raw)
        return self._master

    def _person_path(self, record_id: str) -> Path:
        return self.folder / "people" / record_id

    def _data_key(self, record_id: str, create: bool) -> bytes:
        if record_id in self._data_keys:
            return self._data_keys[record_id]
        from cryptography.hazmat.primitives.keywrap import aes_key_wrap

        master = self._master_key()
        path = self._person_path(record_id)
        try:
            key = self._unwrap(path.read_bytes())
        except FileNotFoundError:
            if not create:
                raise KeyMissing(
                    f"there is no data key for record {record_id} on this machine",
                    hint="restore people/ from your key backup; an erased person stays locked",
                ) from None
            key = secrets.token_bytes(32)
            path.parent.mkdir(parents=True, exist_ok=True)
            wrapped = base64.b64encode(aes_key_wrap(master, key)) + b"\n"
            write_atomic(path, wrapped, mode=0o600, sync_dir=False)
        self._data_keys[record_id] = key
        return key

    @property
    def next_master_path(self) -> Path:
        """The new master key while a rotation is under way (see :meth:`rotate`)."""
        return self.folder / "master.key.new"

    def _unwrap(self, wrapped: bytes) -> bytes:
        """A data key, unwrapped with the master key, or with the next one if a rotation was
        interrupted after re-wrapping it."""
        from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap

        blob = base64.b64decode(wrapped.strip())
        try:
            return aes_key_unwrap(self._master_key(), blob)
        except InvalidUnwrap:
            if not self.next_master_path.exists():
                raise
            return aes_key_unwrap(_read_master(self.next_master_path), blob)

    def rotate(self) -> int:
        """Make a new master key and re-wrap every person's data key with it; how many.

        The data keys themselves do not change, so no record changes. Crash-safe and
        resumable: the new master key is written first (as ``master.key.new``), each data key
        is re-wrapped in place (atomically), and only when all are done does the new key
        replace ``master.key``; until then every data key opens with one of the two, and
        running the rotation again finishes it. Callers hold the archive lock, so no data key
        is made under the old master meanwhile.
        """
        from cryptography.hazmat.primitives.keywrap import (
            InvalidUnwrap,
            aes_key_unwrap,
            aes_key_wrap,
        )

        old = self._master_key()
        if self.next_master_path.exists():
            new = _read_master(self.next_master_path)
        else:
            new = secrets.token_bytes(32)
            write_atomic(self.next_master_path, base64.b64encode(new) + b"\n", mode=0o600)
        people = self.folder / "people"
        names = sorted(p.name for p in people.iterdir()) if people.is_dir() else []
        for name in names:
            path = people / name
            blob = base64.b64decode(path.read_bytes().strip())
            try:
                aes_key_unwrap(new, blob)
                continue  # re-wrapped by an interrupted rotation
            except InvalidUnwrap:
                pass
            try:
                key = aes_key_unwrap(old, blob)
            except InvalidUnwrap:
                raise KeyMissing(
                    f"the data key people/{name} opens with neither master key",
                    hint="restore it from your key backup, then run the rotation again; "
                    "the keys done so far stay usable",
                ) from None
            wrapped = base64.b64encode(aes_key_wrap(new, key)) + b"\n"
            write_atomic(path, wrapped, mode=0o600, sync_dir=False)
        if names:
            fsync_dir(people)
        os.replace(self.next_master_path, self.master_path)
        fsync_dir(self.folder)
        self._master = new
        self._data_keys.clear()
        return len(names)

    def fingerprint(self, record_id: str, plain: str) -> str:
        """A short mark of a plaintext, keyed with the person's data key: equal values give
        equal marks, so a diff shows whether a sensitive value changed without showing it, and
        without the key the mark says nothing."""
        import hashlib

        key = self._data_key(record_id, create=False)
        return hashlib.blake2b(plain.encode(), key=key, digest_size=3).hexdigest()

    def destroy(self, record_id: str) -> bool:
        """Delete a person's data key (erasure): every value sealed with it, in every copy of
        the archive and its history, can no longer be read. True if there was one here."""
        self._data_keys.pop(record_id, None)
        path = self._person_path(record_id)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        fsync_dir(path.parent)
        return True

    def has_key(self, record_id: str) -> bool:
        return self._person_path(record_id).exists()

    def create_keys(self, record_ids: list[str]) -> None:
        """Create the data keys of many new people with one sync (a bulk import), not one each."""
        from cryptography.hazmat.primitives.keywrap import aes_key_wrap

        master = self._master_key()
        items = []
        for record_id in record_ids:
            path = self._person_path(record_id)
            if record_id in self._data_keys or path.exists():
                continue
            key = secrets.token_bytes(32)
            items.append((path, base64.b64encode(aes_key_wrap(master, key)) + b"\n"))
            self._data_keys[record_id] = key
        if items:
            from hk.store.atomic import write_atomic_many

            write_atomic_many(items, mode=0o600)

    def seal(self, record_id: str, plain: str, create: bool = True) -> str:
        """Seal ``plain`` with the record's data key; ``create`` makes the key if there is none.

        A record that already holds sealed values passes ``create=False``: its key missing
        means it was lost or erased, and a new key would split her data between two keys
        (restoring the backup would then lose what the new one sealed).
        """
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        key = self._data_key(record_id, create=create)
        nonce = secrets.token_bytes(12)
        blob = nonce + AESGCM(key).encrypt(nonce, plain.encode(), record_id.encode())
        return SEAL_PREFIX + base64.urlsafe_b64encode(blob).decode().rstrip("=")

    def unseal(self, record_id: str, token: str) -> str:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        key = self._data_key(record_id, create=False)
        body = token[len(SEAL_PREFIX) :]
        blob = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        try:
            return AESGCM(key).decrypt(blob[:12], blob[12:], record_id.encode()).decode()
        except (InvalidTag, ValueError):
            raise Undecryptable(
                f"a sealed value of record {record_id} does not decrypt",
                hint="it was sealed with another key or copied from another record",
            ) from None

    def seal_all(self, record_id: str, values: list[Sealed], create: bool = True) -> None:
        """Seal every value that has only its plaintext (new or changed input)."""
        for value in values:
            if value.token is None and value.plain is not None:
                value.token = self.seal(record_id, value.plain, create)

    def try_unseal(self, record_id: str, value: Sealed) -> str | None:
        """The plaintext, or None when it cannot be had: no key here, or a damaged token.

        One bad value shows as locked; it never hides the rest of the record.
        """
        if value.plain is not None:
            return value.plain
        assert value.token is not None
        try:
            value.plain = self.unseal(record_id, value.token)
        except (KeyMissing, Undecryptable):
            return None
        return value.plain


def _read_master(path: Path, raw: bytes | None = None) -> bytes:
    key = base64.b64decode((path.read_bytes() if raw is None else raw).strip())
    if len(key) != 32:
        raise KeyMissing(f"{path} is not a valid master key")
    return key
