"""``hk survey``: satisfaction survey responses (满意度调查) — list them, and sum them up.

Responses come from ``hk order rate`` and from return visits (``hk visit log --scores``). The
summary gives the average of each dimension (1–5) and the NPS (% promoters 9–10 less %
detractors 0–6) for a period, a worker, a service.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from hk.commands.common import archive_of, print_json, say

if TYPE_CHECKING:
    from hk.store.archive import Archive

app = typer.Typer(
    help="Survey responses (满意度调查): list, and a summary (averages, NPS).",
    no_args_is_help=True,
)

From = Annotated[
    str | None, typer.Option("--from", help="Only responses on or after this day (YYYY-MM-DD).")
]
To = Annotated[str | None, typer.Option("--to", help="Only responses on or before this day.")]
Worker = Annotated[
    str | None, typer.Option("--worker", help="Only responses about this worker (code or ID).")
]
Service = Annotated[
    str | None, typer.Option("--service", help="Only responses about this catalog code.")
]
Customer = Annotated[
    str | None, typer.Option("--customer", help="Only this customer's responses (code or ID).")
]
Channel = Annotated[
    str | None,
    typer.Option(
        "--channel", help="Only those that came in this way: order_rate phone wechat online onsite."
    ),
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]

COLUMNS = [
    ("code", "编号"),
    ("day", "日期"),
    ("customer_label", "客户"),
    ("channel_zh", "渠道"),
    ("quality", "质量"),
    ("attitude", "态度"),
    ("hygiene", "卫生"),
    ("punctuality", "准时"),
    ("overall", "总体"),
    ("nps_text", "NPS"),
    ("worker_names", "阿姨"),
]


def _days(
    archive: Archive, day_from: str | None, day_to: str | None
) -> tuple[str | None, str | None]:
    from hk.commands.common import parse_day

    tz = archive.settings.locale.timezone
    return (
        parse_day(day_from, "--from", tz) if day_from else None,
        parse_day(day_to, "--to", tz) if day_to else None,
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    from_: From = None,
    to: To = None,
    worker: Worker = None,
    service: Service = None,
    customer: Customer = None,
    channel: Channel = None,
    json: Json = False,
) -> None:
    """List survey responses, oldest first, with their five scores and NPS."""
    from hk.domain.survey import CHANNEL_ZH
    from hk.services.lookup import Names, render_table
    from hk.services.surveys import list_surveys

    archive = archive_of(ctx)
    rows = list_surveys(archive, *_days(archive, from_, to), worker, service, customer, channel)
    names = Names(archive.index)
    items: list[dict[str, Any]] = []
    for row in rows:
        code, name = names.parts(row["customer"])
        items.append(
            {
                **row,
                "customer_code": code,
                "customer_name": name,
                "worker_names": [names(w) for w in row.get("workers") or []],
            }
        )
    if json:
        print_json(items)
        return
    table = [
        {
            **item,
            "day": item["at"][:10],
            "channel_zh": CHANNEL_ZH[item["channel"]],
            "customer_label": f"{item['customer_code']} {item['customer_name']}".strip(),
            "nps_text": "" if item.get("nps") is None else str(item["nps"]),
        }
        for item in items
    ]
    if table:
        say(render_table("survey", table, COLUMNS))


@app.command("summary")
def summary(
    ctx: typer.Context,
    from_: From = None,
    to: To = None,
    worker: Worker = None,
    service: Service = None,
    customer: Customer = None,
    channel: Channel = None,
    json: Json = False,
) -> None:
    """Average per dimension, NPS and the counts behind them, for the responses chosen."""
    from hk.domain.survey import DIMENSION_ZH
    from hk.services.lookup import render_table
    from hk.services.surveys import summary as summarise

    archive = archive_of(ctx)
    found = summarise(archive, *_days(archive, from_, to), worker, service, customer, channel)
    if json:
        print_json(found.to_dict())
        return
    scope = "，".join(f"{k} {v}" for k, v in found.filters.items()) or "全部"
    lines = [f"满意度汇总（{scope}）  共 {found.count} 份"]
    if found.count:
        rows = [
            {"dimension": zh, "average": f"{found.averages[d]:.2f}"}
            for d, zh in DIMENSION_ZH.items()
        ]
        lines += [
            "  " + line
            for line in render_table(
                "survey", rows, [("dimension", "维度"), ("average", "平均分")]
            ).splitlines()
        ]
    if found.nps is None:
        lines.append("  NPS     无（没有推荐度回答）")
    else:
        lines.append(
            f"  NPS     {found.nps:+d}（推荐 {found.promoters}，中立 {found.passives}，"
            f"贬损 {found.detractors}，共 {found.answered_nps} 人回答）"
        )
    if found.low:
        lines.append(f"  低分    {found.low} 份（有一项 ≤ {archive.settings.visits.low_score} 分）")
    say("\n".join(lines))
