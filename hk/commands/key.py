"""``hk key rotate``: the master key that wraps every person's data key."""

from __future__ import annotations

import typer

from hk.commands.common import archive_of, say

app = typer.Typer(help="The encryption keys of this archive (kept outside it).")


@app.command()
def rotate(ctx: typer.Context) -> None:
    """Make a new master key and re-wrap every person's data key with it.

    Use it when a copy of the old master key may be in the wrong hands. Nothing in the
    archive changes; back up the key folder again afterwards, since old backups of it
    open with the old master key only.
    """
    from hk.services.keys import rotate_master

    rotation = rotate_master(archive_of(ctx))
    say(f"new master key: {rotation.key_dir / 'master.key'}")
    say(f"re-wrapped {rotation.rewrapped} personal data key(s)")
    say(f"  Back up {rotation.key_dir} again now, and destroy older backups of it:")
    say(f"    tar czf hk-keys.tgz -C {rotation.key_dir.parent} {rotation.key_dir.name}")
