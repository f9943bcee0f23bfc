"""``hk [--archive P] remind [--date D] [--audience A] [--json] [--dry-run]`` without Typer or
Pydantic: a warm read command within the budget of DESIGN §6 (about a ``git status``).

Returns None for anything it does not handle (``--send``, help, an unknown option, a value it
does not understand, an ``hk.toml`` it cannot vouch for), and the full CLI then runs the same
listing, or reports the problem. Settings are read with ``tomllib`` and checked by
:meth:`hk.remind.config.RemindConfig.from_toml`, which refuses what it does not know.
"""

from __future__ import annotations

import datetime as dt
import os

AUDIENCES = {"office": "office", "customers": "customer", "workers": "worker"}
ALL = ("office", "customer", "worker")


def _parse(argv: list[str]) -> tuple[str | None, str | None, tuple[str, ...], bool, bool] | None:
    archive: str | None = None
    args = list(argv)
    if len(args) >= 2 and args[0] in ("--archive", "-C"):
        archive, args = args[1], args[2:]
    elif args and args[0].startswith("--archive="):
        archive, args = args[0].split("=", 1)[1], args[1:]
    if not args or args[0] != "remind":
        return None
    day: str | None = None
    audiences: list[str] = []
    as_json = dry_run = False
    rest = args[1:]
    i = 0
    while i < len(rest):
        arg, value = rest[i], rest[i + 1] if i + 1 < len(rest) else None
        if arg == "--json":
            as_json = True
        elif arg == "--dry-run":
            dry_run = True
        elif arg in ("--date", "--audience") and value is not None:
            if arg == "--date":
                day = value
            elif value in AUDIENCES:
                audiences.append(AUDIENCES[value])
            else:
                return None
            i += 1
        elif arg.startswith("--date="):
            day = arg.split("=", 1)[1]
        elif arg.startswith("--audience=") and arg.split("=", 1)[1] in AUDIENCES:
            audiences.append(AUDIENCES[arg.split("=", 1)[1]])
        else:
            return None
        i += 1
    return archive, day, tuple(dict.fromkeys(audiences)) or ALL, as_json, dry_run


def parse_day(text: str | None, timezone: str) -> dt.date | None:
    """A date from ``--date``: ``YYYY-MM-DD``, ``today``/``tomorrow`` (今天/明天); default today
    in the archive's timezone. None if the text is none of these."""
    from zoneinfo import ZoneInfo

    today = dt.datetime.now(ZoneInfo(timezone)).date()
    value = (text or "today").strip().lower()
    if value in ("today", "今天"):
        return today
    if value in ("tomorrow", "明天"):
        return today + dt.timedelta(days=1)
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def try_remind(argv: list[str]) -> int | None:
    """Run ``hk remind`` (listing or dry run) if ``argv`` is one; its exit code, or None."""
    if os.environ.get("HK_NO_FASTPATH"):
        return None
    parsed = _parse(argv)
    if parsed is None:
        return None
    archive, day_text, audiences, as_json, dry_run = parsed
    from hk.store.discover import find_root, is_archive

    root = find_root(archive)
    if not is_archive(root):
        return None
    try:
        import tomllib

        from hk.remind.config import RemindConfig

        with open(os.path.join(root, "hk.toml"), "rb") as handle:
            config = RemindConfig.from_toml(tomllib.load(handle))
        day = parse_day(day_text, config.timezone)
        if day is None:
            return None
        from hk.remind import listing
        from hk.services.lookup import open_index

        return listing.run(open_index(root), root, day, config, audiences, as_json, dry_run)
    except Exception:
        return None  # anything unusual: the full CLI runs it and reports properly
