"""``hk contract``: draft contracts, render and sign them, and follow them to their end.

new → render → sign (each party) → activate → replace-worker / renew / terminate; ``verify``
re-renders the signed terms and checks every signature's SHA-256 (exit 1 naming what changed).
Every step is one commit and one event in the contract's log; a step the lifecycle does not
allow exits 1 and names the steps that are.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hk.commands.common import (
    At,
    Reason,
    archive_of,
    moment_of,
    print_json,
    require,
    say,
    split_csv,
    write_out,
)

if TYPE_CHECKING:
    from hk.domain.contract import Contract
    from hk.services.contracts.steps import Stepped
    from hk.store.archive import Archive

app = typer.Typer(
    help="Contracts (合同): new, render, sign, verify, activate, renew, terminate, replace-worker.",
    no_args_is_help=True,
)

Json = Annotated[bool, typer.Option("--json", help="Print the contract as JSON.")]
Ref = Annotated[str, typer.Argument(help="Code or ID of the contract.")]
Note = Annotated[str, typer.Option("--note", help="A note for the contract's event log.")]
Money = Annotated[str | None, typer.Option(help="Yuan, e.g. 6800 or 6800.50.")]


def _day(text: str | None, option: str, archive: Archive) -> Any:
    import datetime as dt

    from hk.commands.common import parse_day

    if text is None:
        return None
    return dt.date.fromisoformat(parse_day(text, option, archive.settings.locale.timezone))


def _fen(text: str | None, option: str) -> int | None:
    from hk.domain.fields import parse_money
    from hk.errors import UsageError

    if text is None:
        return None
    try:
        return parse_money(text)
    except ValueError as exc:
        raise UsageError(f"{option}: {exc}") from None


def _print(archive: Archive, contract: Contract, extra: dict[str, Any] | None = None) -> None:
    from hk.commands.contract.view import derived
    from hk.services.records import display

    print_json(
        {**display(archive, contract), "derived": derived(archive, contract), **(extra or {})}
    )


def _report(archive: Archive, stepped: Stepped, json: bool) -> None:
    from hk.commands.contract.view import moved

    if json:
        _print(archive, stepped.record)
    else:
        say(moved(stepped))


@app.command("new")
def new(
    ctx: typer.Context,
    customer: Annotated[
        str | None, typer.Option("--customer", help="Code or ID of the customer.")
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind", help="placement (派驻, three-party), package (套餐) or service (周期服务)."
        ),
    ] = None,
    worker: Annotated[
        str | None,
        typer.Option("--worker", help="Code or ID of the worker (a placement's third party)."),
    ] = None,
    model: Annotated[
        str | None, typer.Option("--model", help="Placements: 中介制 (default) or 员工制.")
    ] = None,
    start: Annotated[str | None, typer.Option("--start", help="First day, YYYY-MM-DD.")] = None,
    end: Annotated[str | None, typer.Option("--end", help="Last day, YYYY-MM-DD.")] = None,
    months: Annotated[
        int | None, typer.Option("--months", help="Length in months (instead of --end).")
    ] = None,
    service_fee: Annotated[
        str | None,
        typer.Option(
            "--service-fee",
            help="Yuan per month (placement), in all (package) or per visit "
            "(service); default: priced from the catalog.",
        ),
    ] = None,
    intro_fee: Annotated[
        str | None, typer.Option("--intro-fee", help="介绍费/中介费 in yuan, once.")
    ] = None,
    deposit: Annotated[str | None, typer.Option("--deposit", help="定金 in yuan.")] = None,
    package: Annotated[
        str | None, typer.Option("--package", help="Catalog package code (package contracts).")
    ] = None,
    schedule: Annotated[
        str | None,
        typer.Option(
            "--schedule",
            help="Recurring visits: 'weekly:tue,fri 09:00-12:00', "
            "'weekdays 14:00-16:00', 'every:2 09:00-11:00', "
            "'daily 08:00-10:00'.",
        ),
    ] = None,
    service: Annotated[
        list[str] | None,
        typer.Option(
            "--service", help="CODE or CODE:QUANTITY per month or visit; repeat for several."
        ),
    ] = None,
    quote: Annotated[
        str | None, typer.Option("--quote", help="Code or ID of the quote it comes from.")
    ] = None,
    address: Annotated[
        int, typer.Option("--address", help="Which of the customer's addresses, from 1.")
    ] = 1,
    pay_by: Annotated[
        str | None,
        typer.Option(
            "--payment", help="cash wechat alipay bank card (or 现金 微信 …); default wechat."
        ),
    ] = None,
    cycle: Annotated[
        str | None, typer.Option("--cycle", help="monthly quarterly once per_visit.")
    ] = None,
    pay_day: Annotated[
        int | None, typer.Option("--pay-day", min=1, max=28, help="Pay by this day of each month.")
    ] = None,
    hours: Annotated[
        str,
        typer.Option("--hours", help="Working hours of a placement, e.g. '08:00-18:00' or 住家."),
    ] = "",
    rest: Annotated[str, typer.Option("--rest", help="Rest days, e.g. 每月休息4天.")] = "",
    trial: Annotated[int, typer.Option("--trial-days", min=0, max=31, help="试工期 in days.")] = 0,
    insurance: Annotated[
        str, typer.Option("--insurance", help="The insurance agreed (kind, insurer, who pays).")
    ] = "",
    replacements: Annotated[
        int,
        typer.Option(
            "--free-replacements", min=0, max=20, help="Worker replacements free of charge."
        ),
    ] = 3,
    clause: Annotated[
        list[str] | None,
        typer.Option("--clause", help="A supplementary clause (补充条款); repeat for several."),
    ] = None,
    notes: Annotated[str, typer.Option("--notes", help="Internal notes (not printed).")] = "",
    json: Json = False,
) -> None:
    """Draft a contract (草稿): priced from the catalog for the customer's tier."""
    from hk.domain.money import format_money
    from hk.services.contracts.steps import new_contract

    archive = archive_of(ctx)
    begin = _day(require(start, "--start", "开始日期 start (YYYY-MM-DD)"), "--start", archive)
    contract, result = new_contract(
        archive,
        require(customer, "--customer", "客户 customer (code)"),
        kind=require(kind, "--kind", "类型 kind (placement/package/service)"),
        start=begin,
        end=_day(end, "--end", archive),
        months=months,
        worker=worker,
        model=model,
        services=split_csv(service),
        package=package,
        schedule=schedule,
        service_fee_fen=_fen(service_fee, "--service-fee"),
        intro_fee_fen=_fen(intro_fee, "--intro-fee"),
        deposit_fen=_fen(deposit, "--deposit"),
        quote=quote,
        address=address,
        payment_method=pay_by,
        payment_cycle=cycle,
        payment_day=pay_day,
        hours=hours,
        rest_days=rest,
        trial_days=trial,
        insurance=insurance,
        free_replacements=replacements,
        clauses=clause or [],
        notes=notes,
    )
    if json:
        _print(archive, contract)
        return
    say(
        f"created contract {result.code}: {contract.title()}  "
        f"{format_money(contract.service_fee_fen)}"
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[
        str | None,
        typer.Option(
            "--status",
            help="draft signed active renewed expired terminated (or 草稿 生效 …); "
            "expired includes active contracts past their end.",
        ),
    ] = None,
    customer: Annotated[
        str | None, typer.Option("--customer", help="Only this customer's contracts.")
    ] = None,
    worker: Annotated[
        str | None, typer.Option("--worker", help="Only contracts this worker is or was on.")
    ] = None,
    ending_before: Annotated[
        str | None,
        typer.Option("--ending-before", help="Only contracts ending on or before this day."),
    ] = None,
    kind: Annotated[
        str | None, typer.Option("--kind", help="placement, package or service.")
    ] = None,
    json: Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")] = False,
) -> None:
    """List contracts by end date, with filters."""
    from hk.commands.common import parse_day
    from hk.commands.contract.view import contract_table, list_items
    from hk.domain.contract import STATUS_ZH
    from hk.services.lookup import list_rows
    from hk.services.records import choice_of, refs_by_kind, resolve_id

    archive = archive_of(ctx)
    tz = archive.settings.locale.timezone
    wanted = choice_of(status, STATUS_ZH, "a contract status") if status else None
    refs = [
        resolve_id(archive, k, ref)[1] for k, ref in refs_by_kind(customer=customer, worker=worker)
    ]
    day_to = parse_day(ending_before, "--ending-before", tz) if ending_before else None
    rows = list_rows(archive.index, "contract", ref=refs[0] if refs else None, day_to=day_to)
    items = [
        item
        for item in list_items(archive, rows)
        if (wanted is None or item["status_now"] == wanted)
        and (kind is None or item["contract_type"] == kind.strip())
        and all(ref == item["customer"] or ref in item["workers"] for ref in refs)
    ]
    if json:
        print_json(items)
    elif items:
        say(contract_table(items))


@app.command("show")
def show(
    ctx: typer.Context,
    ref: Ref,
    history: Annotated[
        bool, typer.Option("--history", help="Add the event log: time, operator, from → to, note.")
    ] = False,
    json: Json = False,
) -> None:
    """Show one contract: parties, dates, fees, schedule, signatures, replacements."""
    from hk.commands.contract.view import contract_text
    from hk.services.contracts.steps import load_contract, successors

    archive = archive_of(ctx)
    contract, _ = load_contract(archive, ref)
    after = successors(archive, contract)
    if json:
        _print(archive, contract, {"successors": [r["id"] for r in after]})
        return
    say(contract_text(archive, contract, history, after))


@app.command("render")
def render(
    ctx: typer.Context,
    ref: Ref,
    fmt: Annotated[str, typer.Option("--format", help="md or html (A4, to print).")] = "md",
    out: Annotated[
        Path | None, typer.Option("--out", help="Write to this file (default: print).")
    ] = None,
    reveal: Annotated[
        bool,
        typer.Option(
            "--reveal", help="Print the parties' ID numbers in full (never in the signed text)."
        ),
    ] = False,
    reason: Reason = None,
) -> None:
    """The contract document: the signed terms, then the appendix (signatures, replacements).

    Recorded in `hk audit` (it names the parties); --reveal needs a --reason."""
    from hk.commands.common import audit_document, audit_reveal
    from hk.errors import UsageError
    from hk.services.contracts.document import id_numbers, render_document
    from hk.services.contracts.steps import load_contract

    why = audit_reveal(reveal, reason)
    archive = archive_of(ctx)
    if fmt not in ("md", "html"):
        raise UsageError(f"--format is md or html, not {fmt}")
    contract, _ = load_contract(archive, ref)
    ids = id_numbers(archive, contract) if reveal else None
    text = render_document(archive, contract, "html" if fmt == "html" else "md", ids)
    if out is None:
        say(text.rstrip("\n"))
    else:
        write_out(out, text)
    fields = ("name", "address", "phones", "id_number" if reveal else "id_number (masked)")
    people = [contract.customer, *([contract.worker] if contract.worker else [])]
    audit_document(archive, people, reveal, why, out, f"contract:{fmt}", fields)


@app.command("sign")
def sign(
    ctx: typer.Context,
    ref: Ref,
    party: Annotated[
        str | None, typer.Option("--party", help="customer, company or worker (客户 公司 阿姨).")
    ] = None,
    name: Annotated[
        str | None, typer.Option("--name", help="The name of the person who signed.")
    ] = None,
    method: Annotated[
        str,
        typer.Option(
            "--method",
            help="paper in_person wechat esign other (纸质签字 当面签字 微信确认 电子签名).",
        ),
    ] = "paper",
    restart: Annotated[
        bool,
        typer.Option(
            "--restart",
            help="The draft changed after others signed: drop their signatures and start again.",
        ),
    ] = False,
    note: Note = "",
    at: At = None,
    json: Json = False,
) -> None:
    """Record a signature with the SHA-256 of the terms; signed once every party has."""
    from hk.services.contracts.document import sign as sign_contract

    archive = archive_of(ctx)
    stepped = sign_contract(
        archive,
        ref,
        require(party, "--party", "签字方 party (customer/company/worker)"),
        require(name, "--name", "签字人 name"),
        method,
        note=note,
        restart=restart,
        at=moment_of(archive, at),
    )
    _report(archive, stepped, json)


@app.command("verify")
def verify(ctx: typer.Context, ref: Ref) -> None:
    """Render the signed terms again and check every signature (exit 1 if one fails)."""
    from hk.commands.contract.view import verification_lines
    from hk.services.contracts.document import VerifyFailed
    from hk.services.contracts.document import verify as verify_contract

    archive = archive_of(ctx)
    result = verify_contract(archive, ref)
    lines, failed = verification_lines(result)
    say("\n".join(lines))
    if failed:
        raise VerifyFailed(
            f"contract {result.contract.number}: {failed}",
            hint="hk contract show --history and hk log show what changed when",
        )


@app.command("activate")
def activate(
    ctx: typer.Context, ref: Ref, note: Note = "", at: At = None, json: Json = False
) -> None:
    """已签署 → 生效; a renewal's predecessor becomes 已续签."""
    from hk.services.contracts.steps import activate as activate_contract

    archive = archive_of(ctx)
    for stepped in activate_contract(archive, ref, note, moment_of(archive, at)):
        _report(archive, stepped, json)


@app.command("renew")
def renew(
    ctx: typer.Context,
    ref: Ref,
    end: Annotated[str | None, typer.Option("--end", help="Last day of the renewal.")] = None,
    months: Annotated[
        int | None,
        typer.Option("--months", help="Length in months (default: as long as this one)."),
    ] = None,
    service_fee: Annotated[
        str | None,
        typer.Option("--service-fee", help="A new service fee in yuan (default: unchanged)."),
    ] = None,
    note: Note = "",
    json: Json = False,
) -> None:
    """Draft the successor for the next period, linked to this contract."""
    from hk.services.contracts.steps import renew as renew_contract

    archive = archive_of(ctx)
    contract, result = renew_contract(
        archive,
        ref,
        end=_day(end, "--end", archive),
        months=months,
        service_fee_fen=_fen(service_fee, "--service-fee"),
        note=note,
    )
    if json:
        _print(archive, contract)
        return
    say(f"created contract {result.code}: renewal of {ref}, {contract.title()}")


@app.command("terminate")
def terminate(
    ctx: typer.Context,
    ref: Ref,
    reason: Annotated[str | None, typer.Option("--reason", help="Why it ends early.")] = None,
    date: Annotated[
        str | None, typer.Option("--date", help="Its last day (default: today).")
    ] = None,
    at: At = None,
    json: Json = False,
) -> None:
    """→ 已终止, with the last day and the reason; its generated orders after that day that
    are not dispatched yet are cancelled (a dispatched one is listed for the office)."""
    from hk.commands.order.generate import report
    from hk.services.contracts.steps import terminate as terminate_contract
    from hk.services.orders.recurring import reschedule

    archive = archive_of(ctx)
    stepped = terminate_contract(
        archive,
        ref,
        require(reason, "--reason", "终止原因 reason"),
        _day(date, "--date", archive),
        moment_of(archive, at),
    )
    _report(archive, stepped, json)
    if stepped.record.schedule is not None:
        run = reschedule(archive, stepped.record.id)
        if not json and (run.cancelled or run.skipped):
            for line in report(archive, run):
                say(line)


@app.command("replace-worker")
def replace_worker(
    ctx: typer.Context,
    ref: Ref,
    worker: Annotated[str, typer.Argument(help="Code or ID of the new worker.")],
    reason: Annotated[str | None, typer.Option("--reason", help="Why (更换原因).")] = None,
    date: Annotated[
        str | None,
        typer.Option("--date", help="The day the new worker takes over (default: today)."),
    ] = None,
    operator: Annotated[
        str | None, typer.Option("--operator", help="Who arranged it (default: the operator).")
    ] = None,
    at: At = None,
    json: Json = False,
) -> None:
    """更换阿姨: the new worker takes over; the signed terms and every earlier one are kept."""
    from hk.services.contracts.steps import replace_worker as replace

    archive = archive_of(ctx)
    stepped = replace(
        archive,
        ref,
        worker,
        require(reason, "--reason", "更换原因 reason"),
        _day(date, "--date", archive),
        operator,
        moment_of(archive, at),
    )
    _report(archive, stepped, json)
    if not json:
        from hk.services.records import code_of

        for visit in stepped.made:
            due = getattr(visit, "due", None)
            say(
                f"  return visit {code_of(archive, visit.id) or visit.id} due {due} "
                "(new worker, 更换阿姨后回访)"
            )
