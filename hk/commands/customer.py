"""``hk customer``: add, list, show, edit, tag and find customers."""

from __future__ import annotations

from typing import Annotated

import typer

from hk.commands.common import (
    Reason,
    archive_of,
    print_json,
    require,
    run_find,
    run_list,
    say,
    split_csv,
)

app = typer.Typer(help="Customers (客户档案): add, find, show, edit, tag.", no_args_is_help=True)

Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
Reveal = Annotated[
    bool, typer.Option("--reveal", help="Show sensitive values in full (ID numbers, health).")
]


NameOpt = Annotated[str | None, typer.Option("--name", help="Full name (姓名).")]
PhoneOpt = Annotated[
    list[str] | None, typer.Option("--phone", help="Phone number; repeat for several.")
]
WechatOpt = Annotated[str | None, typer.Option(help="WeChat ID.")]
CityOpt = Annotated[str | None, typer.Option(help="City of the address (default from hk.toml).")]
DistrictOpt = Annotated[str | None, typer.Option(help="District (区), e.g. 武侯区.")]
CommunityOpt = Annotated[str | None, typer.Option(help="Residential community (小区).")]
AddressOpt = Annotated[str | None, typer.Option(help="Street, building, unit and door.")]
AccessOpt = Annotated[str | None, typer.Option(help="Door codes, parking, pets at the door.")]
LatOpt = Annotated[float | None, typer.Option(help="Latitude of the address.")]
LonOpt = Annotated[float | None, typer.Option(help="Longitude of the address.")]
CategoryOpt = Annotated[str | None, typer.Option(help="Category, one of hk.toml's list.")]
ChannelOpt = Annotated[str | None, typer.Option(help="Acquisition channel (来源).")]
TagOpt = Annotated[list[str] | None, typer.Option("--tag", help="Tag; repeat or comma-separate.")]
ReferrerOpt = Annotated[str | None, typer.Option(help="Code or ID of the referring customer.")]
TierOpt = Annotated[str | None, typer.Option(help="Membership tier (白银/黄金/铂金).")]
BirthdayOpt = Annotated[str | None, typer.Option(help="Birthday, YYYY-MM-DD.")]
IdOpt = Annotated[str | None, typer.Option("--id-number", help="ID-card number (encrypted).")]
HealthOpt = Annotated[
    str | None, typer.Option("--health-note", help="Health notes, allergies (encrypted).")
]
ChildrenOpt = Annotated[str | None, typer.Option(help="Details of children (encrypted).")]
TabooOpt = Annotated[list[str] | None, typer.Option("--taboo", help="Service taboo (服务禁忌).")]
PreferOpt = Annotated[
    list[str] | None, typer.Option("--prefer-worker", help="Code of a preferred worker.")
]
BlockOpt = Annotated[
    list[str] | None, typer.Option("--block-worker", help="Code of a worker not to send.")
]
NotesOpt = Annotated[str | None, typer.Option(help="Free notes.")]
ConsentOpt = Annotated[
    str | None,
    typer.Option(
        "--consent-sensitive",
        help="How the customer consented to sensitive data being kept (纸质签字, 微信确认 …); "
        "needed with --id-number, --health-note, --children unless a consent is on file.",
    ),
]


@app.command("add")
def add(
    ctx: typer.Context,
    name: NameOpt = None,
    phone: PhoneOpt = None,
    wechat: WechatOpt = None,
    city: CityOpt = None,
    district: DistrictOpt = None,
    community: CommunityOpt = None,
    address: AddressOpt = None,
    access_notes: AccessOpt = None,
    lat: LatOpt = None,
    lon: LonOpt = None,
    category: CategoryOpt = None,
    channel: ChannelOpt = None,
    tag: TagOpt = None,
    referrer: ReferrerOpt = None,
    tier: TierOpt = None,
    birthday: BirthdayOpt = None,
    id_number: IdOpt = None,
    health_note: HealthOpt = None,
    children: ChildrenOpt = None,
    taboo: TabooOpt = None,
    prefer_worker: PreferOpt = None,
    block_worker: BlockOpt = None,
    notes: NotesOpt = None,
    consent_sensitive: ConsentOpt = None,
    json: Json = False,
) -> None:
    """Add a customer. Prints the new customer's code (or the record with --json)."""
    from hk.services.people import CustomerChange, new_customer
    from hk.services.records import display

    archive = archive_of(ctx)
    opts = {k: v for k, v in locals().items() if k in CustomerChange.model_fields}
    opts["name"] = require(name, "--name", "姓名 / name")
    customer, result = new_customer(archive, CustomerChange(**opts))
    if json:
        print_json(display(archive, customer))
    else:
        say(f"added customer {result.code} {customer.name}")


@app.command("edit")
def edit(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Code or ID of the customer.")],
    name: NameOpt = None,
    phone: Annotated[
        list[str] | None, typer.Option("--phone", help="Replace all phones with these.")
    ] = None,
    add_phone: Annotated[list[str] | None, typer.Option(help="Add a phone.")] = None,
    remove_phone: Annotated[list[str] | None, typer.Option(help="Remove a phone.")] = None,
    wechat: WechatOpt = None,
    city: CityOpt = None,
    district: DistrictOpt = None,
    community: CommunityOpt = None,
    address: AddressOpt = None,
    access_notes: AccessOpt = None,
    lat: LatOpt = None,
    lon: LonOpt = None,
    category: CategoryOpt = None,
    channel: ChannelOpt = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", help="Replace all tags.")] = None,
    referrer: ReferrerOpt = None,
    tier: TierOpt = None,
    birthday: BirthdayOpt = None,
    id_number: IdOpt = None,
    health_note: HealthOpt = None,
    children: ChildrenOpt = None,
    taboo: TabooOpt = None,
    prefer_worker: PreferOpt = None,
    block_worker: BlockOpt = None,
    notes: NotesOpt = None,
    consent_sensitive: ConsentOpt = None,
    json: Json = False,
) -> None:
    """Change fields of a customer; the first address is updated by the address options."""
    from hk.services.people import CustomerChange, edit_customer
    from hk.services.records import display

    change = CustomerChange(
        **{k: v for k, v in locals().items() if k in CustomerChange.model_fields}
    )
    archive = archive_of(ctx)
    customer, result = edit_customer(archive, ref, change)
    if json:
        print_json(display(archive, customer))
    elif result.commit:
        say(f"updated customer {result.code}: {', '.join(result.changed_fields)}")
    else:
        say(f"customer {result.code}: nothing changed")


@app.command("tag")
def tag(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Code or ID of the customer.")],
    tags: Annotated[list[str] | None, typer.Argument(help="Tags to add.")] = None,
    remove: Annotated[list[str] | None, typer.Option("--remove", help="Tag to remove.")] = None,
    json: Json = False,
) -> None:
    """Add tags to a customer (or remove them with --remove)."""
    from hk.services.people import tag as tag_record

    archive = archive_of(ctx)
    customer, result = tag_record(archive, ref, split_csv(tags), split_csv(remove))
    if json:
        print_json({"code": result.code, "tags": customer.tags})
    else:
        say(f"customer {result.code}: tags {', '.join(customer.tags) or '(none)'}")


@app.command("find")
def find(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="Name, pinyin, initials, phone digits, tag …")],
    limit: Annotated[int, typer.Option(help="At most this many results.")] = 50,
    json: Json = False,
) -> None:
    """Find customers by name, pinyin (zhangsan) or initials (zs), phone digits, tag, community."""
    run_find(ctx, "customer", query, limit, json)


@app.command("list")
def list_(
    ctx: typer.Context,
    tag: Annotated[str | None, typer.Option(help="Only customers with this tag.")] = None,
    community: Annotated[str | None, typer.Option(help="Only this community (小区).")] = None,
    category: Annotated[str | None, typer.Option(help="Only this category.")] = None,
    stage: Annotated[
        str | None,
        typer.Option(
            help="Only this lifecycle stage: lead, new, active, at_risk, lapsed, won_back "
            "(or 潜在客户, 新客户, 活跃, 有流失风险, 已流失, 已挽回)."
        ),
    ] = None,
    limit: Annotated[int, typer.Option(help="At most this many (0: all).")] = 0,
    json: Json = False,
) -> None:
    """List customers, sorted by name (pinyin); with --json each has its stage."""
    if stage is None and not json:
        run_list(
            ctx, "customer", json, tag=tag, community=community, category=category, limit=limit
        )
        return
    from hk.commands.common import print_results
    from hk.services.lookup import list_rows
    from hk.services.stages import stages

    archive = archive_of(ctx)
    wanted = stage_named(stage) if stage is not None else None
    found = stages(archive)
    items = list_rows(archive.index, "customer", tag=tag, community=community, category=category)
    items = [
        {**item, "stage": found.get(item["id"], "lead")}
        for item in items
        if wanted is None or found.get(item["id"], "lead") == wanted
    ]
    print_results("customer", items[:limit] if limit else items, json)


def stage_named(text: str) -> str:
    """A stage from its name (``at_risk``) or its Chinese label (``有流失风险``)."""
    from hk.domain.stage import STAGE_ZH
    from hk.services.records import choice_of

    return choice_of(text, STAGE_ZH, "a stage")


@app.command("show")
def show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Code or ID of the customer.")],
    reveal: Reveal = False,
    reason: Reason = None,
    json: Json = False,
) -> None:
    """Show one customer, with their lifecycle stage; ID numbers masked and health notes
    hidden unless --reveal (with --reason, recorded in `hk audit`)."""
    from hk.commands.record import show_record
    from hk.domain.stage import STAGE_ZH
    from hk.services.records import resolve_id
    from hk.services.stages import stage_of

    archive = archive_of(ctx)
    found = stage_of(archive, resolve_id(archive, "customer", ref)[1])
    show_record(
        archive,
        "customer",
        ref,
        reveal,
        json,
        extra={"stage": found if json else STAGE_ZH[found]},
        reason=reason,
    )
