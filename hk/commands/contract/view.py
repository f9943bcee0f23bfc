"""What ``hk contract`` shows: a contract as people read it, its history, listings, verify.

Kept apart from the commands so that a change in wording never hides in a change of options.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hk.services.lookup import Names

if TYPE_CHECKING:
    from hk.domain.contract import Contract, ContractEvent
    from hk.services.contracts.document import Verification
    from hk.services.contracts.steps import Stepped
    from hk.store.archive import Archive


def _today(archive: Archive) -> Any:
    from hk.services.contracts.steps import today

    return today(archive)


def moved(stepped: Stepped) -> str:
    """``contract C7K2M: 草稿 draft → 已签署 signed  客户 张三 签字（微信确认）``."""
    from hk.domain.contract import label

    event = stepped.events[-1] if stepped.events else None
    head = f"contract {stepped.record.number}: "
    path = [s for n, s in enumerate(stepped.path()) if n == 0 or s != stepped.path()[n - 1]]
    text = head + " → ".join(map(label, path))
    return f"{text}  {event.note}" if event is not None and event.note else text


def derived(archive: Archive, contract: Contract) -> dict[str, Any]:
    """Values computed from the contract, for ``--json``."""
    return {
        "status_now": contract.status_on(_today(archive)),
        "current_worker": contract.current_worker(),
        "all_signed": contract.all_signed(),
        "required_parties": list(contract.required_parties()),
    }


def list_items(archive: Archive, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Listing rows with names and the status as of today (expired derived)."""
    from hk.domain.contract import STATUS_ZH

    names = Names(archive.index)
    today = _today(archive).isoformat()
    out = []
    for row in rows:
        now = "expired" if row["status"] == "active" and row["end"] < today else row["status"]
        customer = names.parts(row["customer"])
        out.append(
            {
                **row,
                "status_now": now,
                "status_zh": STATUS_ZH[now],
                "customer_code": customer[0],
                "customer_name": customer[1],
                "worker_name": names(row["worker"]) if row.get("worker") else "",
            }
        )
    return out


COLUMNS = [
    ("code", "编号"),
    ("type_zh", "类型"),
    ("status_zh", "状态"),
    ("customer_label", "客户"),
    ("worker_name", "阿姨"),
    ("period", "期限"),
    ("fee", "服务费"),
]


def contract_table(items: list[dict[str, Any]]) -> str:
    from hk.domain.contract import FEE_UNIT_ZH, TYPE_ZH
    from hk.domain.money import format_money
    from hk.services.lookup import render_table

    rows = [
        {
            **item,
            "type_zh": TYPE_ZH[item["contract_type"]],
            "customer_label": f"{item['customer_code']} {item['customer_name']}".strip(),
            "period": f"{item['start']}–{item['end']}",
            "fee": f"{format_money(item['service_fee_fen'])} {FEE_UNIT_ZH[item['fee_unit']]}",
        }
        for item in items
    ]
    return render_table("contract", rows, COLUMNS)


def event_line(event: ContractEvent, tz: str) -> str:
    from zoneinfo import ZoneInfo

    from hk.domain.contract import STATUS_ZH

    when = event.at.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M")
    source = STATUS_ZH[event.from_status] if event.from_status else "新建"
    text = f"{when}  {event.actor}  {source} → {STATUS_ZH[event.to_status]}"
    return f"{text}  {event.note}" if event.note else text


def contract_text(
    archive: Archive, contract: Contract, history: bool, successors: list[dict[str, Any]]
) -> str:
    """The contract as an operator reads it."""
    from zoneinfo import ZoneInfo

    from hk.domain.contract import (
        FEE_UNIT_ZH,
        PARTY_ZH,
        SIGN_METHOD_ZH,
        STATUS_ZH,
        TYPE_ZH,
    )
    from hk.domain.money import format_money

    tz = archive.settings.locale.timezone
    names = Names(archive.index)
    now = contract.status_on(_today(archive))
    kind = TYPE_ZH[contract.contract_type] + (f"（{contract.model}）" if contract.model else "")
    lines = [
        f"合同 {contract.number}  {STATUS_ZH[now]} {now}",
        f"  类型    {kind}",
        f"  客户    {names(contract.customer)}",
    ]
    if contract.worker:
        current = contract.current_worker()
        lines.append(f"  阿姨    {names(current)}" if current else "")
        if current != contract.worker:
            lines.append(f"  签约阿姨 {names(contract.worker)}")
    lines.append(f"  地址    {contract.address.one_line()}")
    lines.append(f"  期限    {contract.start} – {contract.end}")
    if contract.package:
        lines.append(f"  套餐    {contract.package} {contract.package_name}")
    if contract.schedule:
        lines.append(f"  排班    {contract.schedule.text_zh()}")
    if contract.hours or contract.rest_days:
        lines.append(f"  工时    {contract.hours} {contract.rest_days}".rstrip())
    for line in contract.lines:
        lines.append(f"    {line.service} {line.name}  {format_money(line.amount_fen)}")
    lines.append(
        f"  服务费  {format_money(contract.service_fee_fen)} {FEE_UNIT_ZH[contract.fee_unit]}"
    )
    if contract.intro_fee_fen:
        lines.append(f"  介绍费  {format_money(contract.intro_fee_fen)}")
    if contract.deposit_fen:
        lines.append(f"  定金    {format_money(contract.deposit_fen)}")
    lines.append(f"  付款    {contract.payment_text()}")
    if contract.insurance:
        lines.append(f"  保险    {contract.insurance}")
    zone = ZoneInfo(tz)
    for party in contract.required_parties():
        s = contract.signature_of(party)
        lines.append(
            f"  签字    {PARTY_ZH[party]}  "
            + (
                f"{s.name} {s.at.astimezone(zone):%Y-%m-%d %H:%M} {SIGN_METHOD_ZH[s.method]}"
                if s
                else "未签"
            )
        )
    for r in contract.replacements:
        lines.append(
            f"  更换    {r.date}  {names(r.old)} → {names(r.new)}  {r.reason}（{r.operator}）"
        )
    if contract.termination:
        lines.append(f"  终止    {contract.termination.date}  {contract.termination.reason}")
    if contract.previous:
        lines.append(f"  续签自  {names(contract.previous)}")
    for row in successors:
        lines.append(f"  续签为  {row['code'] or row['id']} {STATUS_ZH[row['status']]}")
    if contract.notes:
        lines.append(f"  备注    {contract.notes}")
    if history:
        lines.append("  历史")
        lines += ["    " + event_line(e, tz) for e in contract.events]
    return "\n".join(line for line in lines if line)


def verification_lines(result: Verification) -> tuple[list[str], str]:
    """One line per signature, and what failed (empty when every signature holds)."""
    from hk.domain.contract import PARTY_ZH
    from hk.services.contracts.document import describe

    lines = [f"contract {result.contract.number}: terms sha256 {result.sha256}"]
    if not result.checks:
        lines.append("  no signatures yet")
    whys: list[str] = []
    for check in result.checks:
        s = check.signature
        who = f"{PARTY_ZH[s.party]} {s.name}"
        if check.ok:
            lines.append(f"  ok       {who}")
            continue
        why = describe(check.changes) if check.changes else check.cause
        lines.append(f"  CHANGED  {who}: {why}")
        whys.append(why)
    if not whys:
        return lines, ""
    return lines, "the document changed since it was signed: " + "; ".join(dict.fromkeys(whys))
