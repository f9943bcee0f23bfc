"""Warm reads without Typer or Pydantic: ``hk [--archive P] customer|worker find TEXT`` and
``hk order list`` by status, day and service; ``hk remind`` listings and dry runs.

Search is what operators run most, cron scripts call it in loops, and the dispatcher lists the
day's orders all day long, so their start-up time is the product's. This path handles the
common shapes of these commands and returns None for anything else (help, unknown options, a
value it does not understand), which the full CLI then handles with the same output.
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
    if "remind" in argv[:3]:
        from hk.remind.fast import try_remind

        code = try_remind(argv)
        if code is not None:
            return code
    if _is_order_list(argv):
        return _order_list(argv)
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


ORDER_OPTIONS = {
    "--status": "status",
    "--date": "date",
    "--from": "from",
    "--to": "to",
    "--limit": "limit",
    "--service": "service",
}


def _split_archive(argv: list[str]) -> tuple[str | None, list[str]]:
    if len(argv) >= 2 and argv[0] in ("--archive", "-C"):
        return argv[1], argv[2:]
    if argv and argv[0].startswith("--archive="):
        return argv[0].split("=", 1)[1], argv[1:]
    return None, list(argv)


def _is_order_list(argv: list[str]) -> bool:
    args = _split_archive(argv)[1]
    return args[:2] == ["order", "list"]


def _order_options(args: list[str]) -> dict[str, str] | None:
    """The options of ``order list`` this path serves; None for anything else."""
    options: dict[str, str] = {}
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--json":
            options["json"] = "1"
        elif "=" in arg and arg.split("=", 1)[0] in ORDER_OPTIONS:
            name, value = arg.split("=", 1)
            options[ORDER_OPTIONS[name]] = value
        elif arg in ORDER_OPTIONS and i + 1 < len(args):
            options[ORDER_OPTIONS[arg]] = args[i + 1]
            i += 1
        else:
            return None
        i += 1
    return options


def _day(text: str, root: str) -> str | None:
    import datetime as dt

    value = text.strip().lower()
    if value in ("today", "tomorrow", "今天", "明天"):
        from zoneinfo import ZoneInfo

        today = dt.datetime.now(ZoneInfo(_timezone(root))).date()
        return (today + dt.timedelta(days=value in ("tomorrow", "明天"))).isoformat()
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        return None


def _timezone(root: str) -> str:
    import tomllib

    with open(os.path.join(root, "hk.toml"), "rb") as handle:
        return str(tomllib.load(handle).get("locale", {}).get("timezone", "Asia/Shanghai"))


def _order_list(argv: list[str]) -> int | None:
    """``hk order list`` by status, day(s) and service, printed as the full CLI prints it."""
    archive, args = _split_archive(argv)
    options = _order_options(args[2:])
    if options is None or ("date" in options and ("from" in options or "to" in options)):
        return None
    from hk.labels import STATUS_ZH
    from hk.store.discover import find_root, is_archive

    root = find_root(archive)
    if not is_archive(root):
        return None
    status = options.get("status", "").strip()
    if status:
        status = next((k for k, zh in STATUS_ZH.items() if status in (k, zh)), "")
        if not status:
            return None
    limit_text = options.get("limit", "0")
    if not limit_text.isdigit():
        return None
    try:
        first = options.get("date", options.get("from"))
        last = options.get("date", options.get("to"))
        day_from = _day(first, str(root)) if first else None
        day_to = _day(last, str(root)) if last else None
        if (first and day_from is None) or (last and day_to is None):
            return None
        from hk.services.lookup import list_rows, open_index
        from hk.services.order_listing import list_items, order_table

        index = open_index(root)
        limit = int(limit_text)
        service = options.get("service", "").strip().upper() or None
        rows = list_rows(
            index,
            "order",
            limit=limit,
            category=status or None,
            day_from=day_from,
            day_to=day_to,
            tag=service,
        )
        items = list_items(index, rows)
    except Exception:
        return None  # anything unusual: let the full CLI run and report it properly
    if "json" in options:
        import orjson

        sys.stdout.buffer.write(
            orjson.dumps(items, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS) + b"\n"
        )
    elif items:
        sys.stdout.write(order_table(items) + "\n")
    sys.stdout.flush()
    return 0
