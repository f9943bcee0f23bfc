"""``hk catalog``: service items (服务项目) and packages (套餐)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from hk.commands.common import archive_of, print_json, say, split_csv
from hk.errors import UsageError

app = typer.Typer(help="The service catalog: items and packages.", no_args_is_help=True)

Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _items(values: list[str] | None) -> list[dict[str, Any]]:
    """``BJ-DAILY:4`` → a package line of 4 visits."""
    out = []
    for value in split_csv(values):
        code, _, visits = value.partition(":")
        if not visits.isdigit():
            raise UsageError(f"'{value}': write package items as CODE:VISITS, e.g. BJ-DAILY:4")
        out.append({"service": code.strip().upper(), "visits": int(visits)})
    return out


def _fields(opts: dict[str, Any]) -> dict[str, Any]:
    from hk.domain.fields import parse_money

    simple = (
        "code",
        "name",
        "category",
        "description",
        "unit",
        "duration_minutes",
        "period",
        "validity_days",
    )
    fields = {k: opts[k] for k in simple if opts.get(k) is not None}
    if opts.get("price") is not None:
        try:
            fields["price_fen"] = parse_money(opts["price"])
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    if opts.get("skill"):
        fields["required_skills"] = split_csv(opts["skill"])
    if opts.get("check"):
        fields["checklist"] = [{"item": c} for c in opts["check"]]
    if opts.get("item"):
        fields["items"] = _items(opts["item"])
    if opts.get("active") is not None:
        fields["active"] = opts["active"]
    return fields


@app.command("list")
def list_(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include inactive items.")] = False,
    json: Json = False,
) -> None:
    """List service items and packages with their prices."""
    from hk.commands.render import format_value
    from hk.domain.catalog import UNIT_ZH
    from hk.services.lookup import list_rows

    archive = archive_of(ctx)
    services = list_rows(archive.index, "service")
    packages = list_rows(archive.index, "package")
    if not all_:
        services = [s for s in services if s.get("active", True)]
        packages = [p for p in packages if p.get("active", True)]
    if json:
        print_json({"services": services, "packages": packages})
        return
    from hk.services.lookup import render_table

    rows = [
        {
            "code": s["code"],
            "name": s["name"],
            "category": s.get("category", ""),
            "price": format_value("price_fen", s["price_fen"]) + "/" + UNIT_ZH[s["unit"]],
        }
        for s in sorted(services, key=lambda s: s["code"])
    ]
    say(
        render_table(
            None,
            rows,
            [("code", "编号"), ("name", "名称"), ("category", "类别"), ("price", "价格")],
        )
    )
    say("")
    prows = [
        {
            "code": p["code"],
            "name": p["name"],
            "period": p.get("period", ""),
            "price": format_value("price_fen", p["price_fen"]),
        }
        for p in sorted(packages, key=lambda p: p["code"])
    ]
    say(
        render_table(
            None, prows, [("code", "套餐"), ("name", "名称"), ("period", "周期"), ("price", "价格")]
        )
    )


@app.command("show")
def show(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="Catalog code, e.g. BJ-DAILY.")],
    json: Json = False,
) -> None:
    """Show a service item or package."""
    from hk.commands.render import render_record
    from hk.services.catalog import by_code
    from hk.services.records import display

    archive = archive_of(ctx)
    item = by_code(archive, code)
    shown = display(archive, item)
    if json:
        print_json(shown)
    else:
        say(
            render_record(
                f"{item.name}  {item.code}  {item.label_zh}",
                {k: v for k, v in shown.items() if k not in ("code", "name")},
            )
        )


Code = Annotated[str, typer.Option(help="Catalog code, upper case, e.g. BJ-WINDOW.")]
NameO = Annotated[str | None, typer.Option(help="Name shown to customers.")]
CategoryO = Annotated[str | None, typer.Option(help="Service category.")]
DescO = Annotated[str | None, typer.Option(help="Description.")]
UnitO = Annotated[str | None, typer.Option(help="hour, visit, day, month or m2 (service).")]
DurationO = Annotated[int | None, typer.Option(help="Standard duration in minutes (service).")]
PriceO = Annotated[str | None, typer.Option(help="Price in yuan, e.g. 138 or 138.50.")]
SkillO = Annotated[list[str] | None, typer.Option("--skill", help="Required skill (service).")]
CheckO = Annotated[list[str] | None, typer.Option("--check", help="Checklist item (service).")]
ItemO = Annotated[list[str] | None, typer.Option("--item", help="Package line CODE:VISITS.")]
PeriodO = Annotated[str | None, typer.Option(help="month, quarter, year or custom (package).")]
ValidityO = Annotated[int | None, typer.Option(help="Days a package stays valid.")]
ActiveO = Annotated[bool | None, typer.Option("--active/--inactive", help="On sale or not.")]


@app.command("add")
def add(
    ctx: typer.Context,
    code: Code,
    name: NameO = None,
    category: CategoryO = None,
    description: DescO = None,
    unit: UnitO = None,
    duration_minutes: DurationO = None,
    price: PriceO = None,
    skill: SkillO = None,
    check: CheckO = None,
    item: ItemO = None,
    period: PeriodO = None,
    validity_days: ValidityO = None,
    active: ActiveO = None,
    json: Json = False,
) -> None:
    """Add a service item, or a package when --item is given."""
    from hk.services.catalog import add as add_item
    from hk.services.records import display

    archive = archive_of(ctx)
    fields = _fields(dict(locals()))
    record, result = add_item(archive, "package" if item else "service", fields)
    if json:
        print_json(display(archive, record))
    else:
        say(f"added {record.label_zh} {result.code}")


@app.command("edit")
def edit(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="Catalog code.")],
    name: NameO = None,
    category: CategoryO = None,
    description: DescO = None,
    unit: UnitO = None,
    duration_minutes: DurationO = None,
    price: PriceO = None,
    skill: SkillO = None,
    check: CheckO = None,
    item: ItemO = None,
    period: PeriodO = None,
    validity_days: ValidityO = None,
    active: ActiveO = None,
    json: Json = False,
) -> None:
    """Change a service item or package (its code stays)."""
    from hk.services.catalog import edit as edit_item
    from hk.services.records import display

    archive = archive_of(ctx)
    fields = _fields({k: v for k, v in dict(locals()).items() if k != "code"})
    record, result = edit_item(archive, code, fields)
    if json:
        print_json(display(archive, record))
    elif result.commit:
        say(f"updated {code.upper()}: {', '.join(result.changed_fields)}")
    else:
        say(f"{code.upper()}: nothing changed")
