"""Entry point of the ``hk`` command: one process, the Typer application of :mod:`hk.cli`."""

from __future__ import annotations

import os


def main() -> None:
    # hk uses no Pydantic plugins; looking for them scans every installed package's metadata.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    from hk.cli import run

    run()


if __name__ == "__main__":
    main()
