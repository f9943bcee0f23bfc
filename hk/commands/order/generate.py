"""``hk order generate``: the orders of contracts' schedules (周期服务), and what it says.

The work is :mod:`hk.services.orders.recurring`; this module reads the options and prints the
run: per contract, each order made (or, with ``--dry-run``, that would be), each day skipped and
why, each order cancelled by a schedule change, then one line of totals. Made for cron: a run
with nothing to do says so in one line and exits 0."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import typer

from hk.commands.common import archive_of, print_json, say

if TYPE_CHECKING:
    from hk.domain.order.model import Order
    from hk.services.orders.recurring import Run
    from hk.store.archive import Archive


def run(
    ctx: typer.Context,
    until: str | None,
    contracts: list[str],
    reschedule: bool,
    dry_run: bool,
    json: bool,
) -> None:
    """Generate (or, with ``reschedule``, bring in line after a schedule change) and print."""
    from hk.commands.common import parse_day, split_csv
    from hk.errors import UsageError
    from hk.services.orders import recurring

    archive = archive_of(ctx)
    tz = archive.settings.locale.timezone
    last = dt.date.fromisoformat(parse_day(until, "--until", tz)) if until else None
    refs = split_csv(contracts)
    if reschedule:
        if not refs:
            raise UsageError(
                "--reschedule needs the contract whose schedule changed",
                hint="--contract C… (repeat for several)",
            )
        done = recurring.reschedule(archive, refs, last, dry_run=dry_run)
    else:
        if last is None:
            raise UsageError(
                "missing --until", hint="the last day to make orders for, e.g. --until 2026-12-31"
            )
        done = recurring.generate(archive, last, refs or None, dry_run=dry_run)
    if json:
        print_json(done.to_json(archive))
        return
    for line in report(archive, done):
        say(line)
    if any(s.reason == "refused" for s in done.skipped):
        raise typer.Exit(1)


def report(archive: Archive, done: Run) -> list[str]:
    """The run in lines: per contract its orders, skipped days and cancellations; then totals."""
    from hk.services.lookup import Names
    from hk.services.records import code_of

    names = Names(archive.index)
    lines: list[str] = []
    for number in done.contracts:
        made = [m for m in done.created if m.contract == number]
        skipped = [s for s in done.skipped if s.contract == number]
        dropped = [d for d in done.cancelled if d.contract == number]
        if not (made or skipped or dropped):
            continue
        lines.append(f"合同 {number}")
        events: list[tuple[str, str]] = []
        for d in dropped:
            code = code_of(archive, d.order.id) or d.order.id
            events.append(
                (
                    d.order.window.start.isoformat(),
                    f"  取消 {code}  {_when(d.order)}  {_status(d.was)} → 已取消",
                )
            )
        for m in made:
            code = "—" if done.dry_run else code_of(archive, m.order.id) or m.order.id
            who = _status(m.order.status) + (
                f"  合同阿姨 {names(m.worker)}" if m.worker else f"（{m.note}）" if m.note else ""
            )
            events.append(
                (
                    m.order.window.start.isoformat(),
                    f"  新建 {code}  {_when(m.order)}  {' '.join(m.order.services())}  {who}",
                )
            )
        for s in skipped:
            day = s.day.isoformat() if s.day else ""
            events.append((day or "0", f"  跳过 {day or '整个合同'}  {s.text_zh()}"))
        lines += [text for _, text in sorted(events, key=lambda e: e[0])]
    lines.append(_totals(done))
    return lines


def _totals(done: Run) -> str:
    would = "would create" if done.dry_run else "created"
    until = done.until.isoformat()
    if not done.contracts:
        return "no contract in force has a schedule: nothing to generate"
    if not done.created and not done.cancelled:
        already = f"; {done.existing} visits already have their orders" if done.existing else ""
        return f"nothing new up to {until}{already}" + _skips(done)
    parts = [f"{would} {len(done.created)} orders up to {until}"]
    if done.result is not None and done.result.commit:
        parts[0] += f" (commit {done.result.commit[:7]})"
    if done.cancelled:
        parts.append(f"{'would cancel' if done.dry_run else 'cancelled'} {len(done.cancelled)}")
    if done.existing:
        parts.append(f"{done.existing} already there")
    return "; ".join(parts) + _skips(done)


def _skips(done: Run) -> str:
    return f"; {len(done.skipped)} skipped" if done.skipped else ""


def _when(order: Order) -> str:
    return f"{order.window.start:%Y-%m-%d %H:%M}-{order.window.end:%H:%M}"


def _status(status: str) -> str:
    from hk.commands.order.view import status_zh

    return status_zh(status)
