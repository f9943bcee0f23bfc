"""``hk points``: a customer's points (积分) — show, redeem, adjust, earn, expire.

Points are earned when a completed order is rated (``hk order rate`` writes them in the same
commit); ``hk points earn`` is for an order rated without them. ``hk points expire`` (for
cron) writes down what expired; the balance counts expiry whether it ran or not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from hk.commands.common import At, archive_of, moment_of, print_json, say

if TYPE_CHECKING:
    import datetime as dt

    from hk.services.points import Ledger, Written
    from hk.store.archive import Archive

app = typer.Typer(
    help="Customer points (积分): show the balance and ledger, redeem, adjust, earn, expire.",
    no_args_is_help=True,
)

Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Customer = Annotated[str, typer.Argument(help="Code or ID of the customer.")]

COLUMNS = [
    ("code", "编号"),
    ("when", "时间"),
    ("type_zh", "类型"),
    ("signed", "积分"),
    ("reason", "说明"),
    ("by", "经办"),
]


def _day(archive: Archive, text: str | None, option: str) -> dt.date | None:
    import datetime as dt

    from hk.commands.common import parse_day

    if text is None:
        return None
    return dt.date.fromisoformat(parse_day(text, option, archive.settings.locale.timezone))


def ledger_text(found: Ledger) -> str:
    """Balance, what expires within 30 days, and the ledger newest first."""
    from hk.domain.points import EXPIRING_DAYS, TYPE_ZH
    from hk.services.lookup import render_table

    standing = found.standing
    lines = [
        f"积分 {found.code} {found.name}".rstrip(),
        f"余额 balance: {standing.balance}  （截至 {standing.on.isoformat()}）",
    ]
    soon = standing.expiring(EXPIRING_DAYS)
    if soon:
        lines.append(
            f"{EXPIRING_DAYS} 天内到期 expiring: "
            + "，".join(f"{lot.left} 分于 {lot.expires.isoformat()}" for lot in soon)
        )
    if standing.unwritten:
        lines.append(
            f"已过期未记账 expired, not yet written: {standing.unwritten}（hk points expire 记入）"
        )
    if not found.entries:
        lines.append("没有积分记录 no entries")
        return "\n".join(lines)
    rows = [
        {
            **e,
            "when": e["at"][:16].replace("T", " "),
            "type_zh": TYPE_ZH.get(e["type"], e["type"]),
            "signed": f"{int(e['points']):+d}",
        }
        for e in found.entries
    ]
    lines += ["", render_table("points", rows, COLUMNS)]
    return "\n".join(lines)


def _report(written: Written, json: bool, what: str) -> None:
    entry = written.entry
    if json:
        print_json(
            {
                "id": entry.id,
                "code": written.result.code,
                **entry.summary(),
                "balance": written.standing.balance,
            }
        )
        return
    say(
        f"points {written.result.code or entry.id}: {what} {entry.points:+d}; "
        f"balance {written.standing.balance}"
    )


@app.command("show")
def show(
    ctx: typer.Context,
    customer: Customer,
    on: Annotated[
        str | None,
        typer.Option("--on", help="The balance at the end of this day (default: today)."),
    ] = None,
    json: Json = False,
) -> None:
    """The customer's balance, points expiring within 30 days, and every entry, newest first."""
    from hk.services.points import ledger

    archive = archive_of(ctx)
    found = ledger(archive, customer, _day(archive, on, "--on"))
    if json:
        print_json(found.to_dict())
        return
    say(ledger_text(found))


@app.command("redeem")
def redeem(
    ctx: typer.Context,
    customer: Customer,
    points: Annotated[int, typer.Argument(help="How many points.")],
    what_for: Annotated[
        str, typer.Option("--for", help="What they are redeemed for: 50元优惠券, 优先派工 …")
    ],
    at: At = None,
    json: Json = False,
) -> None:
    """Spend points (never more than the balance; the oldest are used first)."""
    from hk.services.points import redeem as redeem_points

    archive = archive_of(ctx)
    _report(
        redeem_points(archive, customer, points, what_for, moment_of(archive, at)), json, "redeemed"
    )


@app.command("adjust", context_settings={"ignore_unknown_options": True})
def adjust(
    ctx: typer.Context,
    customer: Customer,
    points: Annotated[int, typer.Argument(help="Points to add (+50) or take away (-50).")],
    reason: Annotated[str, typer.Option("--reason", help="Why: 投诉补偿, 录入错误 …")],
    at: At = None,
    json: Json = False,
) -> None:
    """Add or take away points by hand, with the reason (never below a zero balance)."""
    from hk.services.points import adjust as adjust_points

    archive = archive_of(ctx)
    _report(
        adjust_points(archive, customer, points, reason, moment_of(archive, at)), json, "adjusted"
    )


@app.command("earn")
def earn(
    ctx: typer.Context,
    order: Annotated[str, typer.Argument(help="Code or ID of a completed, rated order.")],
    at: At = None,
    json: Json = False,
) -> None:
    """Earn an order's points, if it was rated without them (rating earns them itself)."""
    from hk.services.points import earn as earn_points

    archive = archive_of(ctx)
    _report(earn_points(archive, order, moment_of(archive, at)), json, "earned")


@app.command("expire")
def expire(
    ctx: typer.Context,
    date: Annotated[
        str | None,
        typer.Option("--date", help="Write down what expired by this day (default: today)."),
    ] = None,
    json: Json = False,
) -> None:
    """Write an expire entry for every customer whose points expired (safe to run daily)."""
    from hk.services.points import expire as expire_points
    from hk.services.records import code_of

    archive = archive_of(ctx)
    entries, _ = expire_points(archive, _day(archive, date, "--date"))
    items: list[dict[str, Any]] = [
        {
            "id": e.id,
            "code": code_of(archive, e.id),
            "customer": e.customer,
            "customer_code": code_of(archive, e.customer),
            "points": e.points,
        }
        for e in entries
    ]
    if json:
        print_json(items)
        return
    if not items:
        say("nothing expired")
        return
    for item in items:
        say(
            f"points {item['code'] or item['id']}: customer {item['customer_code']} "
            f"{item['points']:+d} expired"
        )
