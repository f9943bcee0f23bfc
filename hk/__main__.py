"""Entry point of the ``hk`` command.

With ``hk watch`` running, a command goes to the archive's warm command server
(:mod:`hk.warm`). Otherwise a warm search (``hk customer find TEXT``, ``hk worker find TEXT``)
is served by :mod:`hk.fastpath` without importing Typer or Pydantic, and everything else goes
through the Typer application in :mod:`hk.cli`. ``native/hk.c``, when built, is ``hk``'s
first step in C, and comes to :func:`from_native` for whatever it does not hand to a server.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    from hk.warm.client import try_serve

    code = try_serve(sys.argv[1:])
    if code is not None:
        # The command ran in the server; nothing here needs tidying up, so skip the
        # interpreter's shutdown (a millisecond or two of a command that takes twenty).
        sys.stderr.flush()
        os._exit(code & 0xFF)
    run_here(sys.argv[1:])


def from_native() -> None:
    """Where the native client (``native/hk.c``) goes when it did not hand the command over:
    ``python -P -c … TRIED ARGV0 ARGS…``. ``TRIED`` is 1 when it already asked the server, or
    there is none, so this process does not ask again."""
    tried = sys.argv[1] == "1"
    sys.argv = sys.argv[2:]
    if tried:
        run_here(sys.argv[1:])
    else:
        main()


def run_here(argv: list[str]) -> None:
    """Run the command in this process: the fast path if it serves it, else the full CLI."""
    from hk.fastpath import try_fast

    code = try_fast(argv)
    if code is not None:
        sys.exit(code)
    # hk uses no Pydantic plugins; looking for them scans every installed package's metadata.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from hk.cli import run

    run(argv)


if __name__ == "__main__":
    main()
