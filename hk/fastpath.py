"""Warm searches without Typer or Pydantic: ``hk [--archive P] customer|worker find TEXT``.

Search is what operators run most, and cron scripts call it in loops, so its start-up time is
the product's. This path handles the common shape of the command and returns None for
anything else (help, unknown options), which the full CLI then handles with the same output.
"""

from __future__ import annotations

import os
import sys

KINDS = ("customer", "worker")


def _parse(argv: list[str]) -> tuple[str | None, str, str, int, bool] | None:
    archive: str | None = None
    args = list(argv)
    if len(args) >= 2 and args[0] in ("--archive", "-C"):
        archive = args[1]
        args = args[2:]
    elif args and args[0].startswith("--archive="):
        archive = args[0].split("=", 1)[1]
        args = args[1:]
    if len(args) < 3 or args[0] not in KINDS or args[1] != "find":
        return None
    kind, rest = args[0], args[2:]
    query: str | None = None
    limit, as_json = 50, False
    i = 0
    while i < len(rest):
        arg = rest[i]
        if arg == "--json":
            as_json = True
        elif arg == "--limit" and i + 1 < len(rest) and rest[i + 1].isdigit():
            limit = int(rest[i + 1])
            i += 1
        elif arg.startswith("--limit=") and arg[8:].isdigit():
            limit = int(arg[8:])
        elif arg.startswith("-") or query is not None:
            return None
        else:
            query = arg
        i += 1
    if query is None:
        return None
    return archive, kind, query, limit, as_json


def try_fast(argv: list[str]) -> int | None:
    """Run a search if ``argv`` is one; return its exit code, or None to use the full CLI."""
    if os.environ.get("HK_NO_FASTPATH"):
        return None
    parsed = _parse(argv)
    if parsed is None:
        return None
    archive, kind, query, limit, as_json = parsed
    from hk.store.discover import find_root, is_archive

    root = find_root(archive)
    if not is_archive(root):
        return None  # the full CLI explains what is missing
    from hk.services.lookup import find, open_index, print_results

    try:
        items = find(open_index(root), kind, query, limit)
    except Exception:
        return None  # anything unusual: let the full CLI run and report it properly
    print_results(kind, items, as_json)
    sys.stdout.flush()
    return 0 if items or as_json else 1
