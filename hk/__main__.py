"""Entry point of the ``hk`` command.

A warm search (``hk customer find TEXT``, ``hk worker find TEXT``) is served by
:mod:`hk.fastpath` without importing Typer or Pydantic; everything else goes through the
Typer application in :mod:`hk.cli`.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    from hk.fastpath import try_fast

    code = try_fast(sys.argv[1:])
    if code is not None:
        sys.exit(code)
    # hk uses no Pydantic plugins; looking for them scans every installed package's metadata.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from hk.cli import run

    run()


if __name__ == "__main__":
    main()
