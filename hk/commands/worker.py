"""``hk worker``: add, list, show, edit and find workers (家政员/阿姨)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from hk.commands.common import (
    archive_of,
    print_json,
    require,
    run_find,
    run_list,
    say,
    split_csv,
)
from hk.commands.customer import (
    AccessOpt,
    AddressOpt,
    CityOpt,
    CommunityOpt,
    DistrictOpt,
    IdOpt,
    Json,
    LatOpt,
    LonOpt,
    NotesOpt,
    Reveal,
    WechatOpt,
    address_fields,
)
from hk.errors import UsageError

app = typer.Typer(help="Workers (家政员/阿姨): add, find, show, edit.", no_args_is_help=True)

DAY_NAMES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


def parse_availability(values: list[str]) -> dict[str, list[str]]:
    """``mon-fri 08:00-18:00``, ``sat 09:00-12:00`` or ``mon-fri 08:00-12:00,14:00-18:00``
    (hours with a break) → weekly hours by day."""
    out: dict[str, list[str]] = {}
    for value in values:
        try:
            days, hours = value.split()
        except ValueError:
            raise UsageError(
                f"'{value}': write days and hours, e.g. 'mon-fri 08:00-18:00'"
            ) from None
        for chunk in days.lower().split(","):
            if "-" in chunk:
                a, b = chunk.split("-")
                if a not in DAY_NAMES or b not in DAY_NAMES:
                    raise UsageError(f"'{chunk}': days are mon tue wed thu fri sat sun")
                span = DAY_NAMES[DAY_NAMES.index(a) : DAY_NAMES.index(b) + 1]
            elif chunk in DAY_NAMES:
                span = [chunk]
            else:
                raise UsageError(f"'{chunk}': days are mon tue wed thu fri sat sun")
            for day in span:
                out.setdefault(day, []).extend(part for part in hours.split(",") if part)
    return out


def parse_leave(text: str) -> dict[str, str]:
    """``2026-12-01..2026-12-05`` (optionally ``:reason``)."""
    span, _, reason = text.partition(":")
    start, _, end = span.partition("..")
    return {"start": start, "end": end or start, "reason": reason}


def worker_fields(opts: dict[str, Any]) -> dict[str, Any]:
    """Map CLI options to record fields; skills and certificates as the import reads them."""
    from hk.services.io.fields import GENDERS, parse_certificate, parse_skill

    simple = {
        "name": "name",
        "phone": "phone",
        "wechat": "wechat",
        "birth_year": "birth_year",
        "native_place": "native_place",
        "id_number": "id_number",
        "experience": "experience_years",
        "status": "status",
        "notes": "notes",
    }
    fields = {dst: opts[src] for src, dst in simple.items() if opts.get(src) is not None}
    if opts.get("gender") is not None:
        gender = GENDERS.get(opts["gender"].lower())
        if gender is None:
            raise UsageError("--gender is 女 or 男 (f or m)")
        fields["gender"] = gender
    if opts.get("dialect"):
        fields["dialects"] = split_csv(opts["dialect"])
    try:
        if opts.get("skill"):
            fields["skills"] = [parse_skill(s) for s in opts["skill"]]
        if opts.get("cert"):
            fields["certificates"] = [parse_certificate(c) for c in opts["cert"]]
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if opts.get("available"):
        fields["availability"] = parse_availability(opts["available"])
    if opts.get("leave"):
        fields["leave"] = [parse_leave(x) for x in opts["leave"]]
    return fields


NameOpt = Annotated[str | None, typer.Option("--name", help="Full name (姓名).")]
GenderOpt = Annotated[str | None, typer.Option(help="女 or 男.")]
PhoneOpt = Annotated[str | None, typer.Option(help="Mobile number.")]
BirthYearOpt = Annotated[int | None, typer.Option(help="Year of birth.")]
NativeOpt = Annotated[str | None, typer.Option(help="Native place (籍贯), e.g. 四川南充.")]
DialectOpt = Annotated[list[str] | None, typer.Option("--dialect", help="Dialect spoken.")]
SkillOpt = Annotated[
    list[str] | None,
    typer.Option("--skill", help="Skill[:level 1-5[:cuisines]], e.g. 烹饪:4:川菜/粤菜."),
]
CertOpt = Annotated[
    list[str] | None,
    typer.Option("--cert", help="Certificate kind[:number[:expiry]], e.g. 健康证:A123:2027-05-01."),
]
ExperienceOpt = Annotated[int | None, typer.Option(help="Years of experience.")]
StatusOpt = Annotated[str | None, typer.Option(help="available, placed or inactive.")]
AvailableOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--available",
        help="Weekly hours, e.g. 'mon-fri 08:00-18:00' or 'sat 08:00-12:00,14:00-18:00'.",
    ),
]
LeaveOpt = Annotated[
    list[str] | None, typer.Option("--leave", help="Leave, e.g. 2026-12-01..2026-12-05:探亲.")
]


@app.command("add")
def add(
    ctx: typer.Context,
    name: NameOpt = None,
    gender: GenderOpt = None,
    phone: PhoneOpt = None,
    wechat: WechatOpt = None,
    birth_year: BirthYearOpt = None,
    native_place: NativeOpt = None,
    dialect: DialectOpt = None,
    id_number: IdOpt = None,
    skill: SkillOpt = None,
    cert: CertOpt = None,
    experience: ExperienceOpt = None,
    status: StatusOpt = None,
    available: AvailableOpt = None,
    leave: LeaveOpt = None,
    city: CityOpt = None,
    district: DistrictOpt = None,
    community: CommunityOpt = None,
    address: AddressOpt = None,
    access_notes: AccessOpt = None,
    lat: LatOpt = None,
    lon: LonOpt = None,
    notes: NotesOpt = None,
    json: Json = False,
) -> None:
    """Add a worker. Prints the new worker's code (or the record with --json)."""
    from hk.services.people import add_worker
    from hk.services.records import display

    archive = archive_of(ctx)
    opts = dict(locals())
    opts["name"] = require(name, "--name", "姓名 / name")
    opts["gender"] = require(gender, "--gender", "性别 (女/男)")
    fields = worker_fields(opts)
    home = address_fields(
        city, district, community, address, access_notes, lat, lon, archive.settings.locale.city
    )
    if home:
        fields["home"] = home
    worker, result = add_worker(archive, fields)
    if json:
        print_json(display(archive, worker))
    else:
        say(f"added worker {result.code} {worker.name}")


@app.command("edit")
def edit(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Code or ID of the worker.")],
    name: NameOpt = None,
    gender: GenderOpt = None,
    phone: PhoneOpt = None,
    wechat: WechatOpt = None,
    birth_year: BirthYearOpt = None,
    native_place: NativeOpt = None,
    dialect: DialectOpt = None,
    id_number: IdOpt = None,
    skill: Annotated[list[str] | None, typer.Option("--skill", help="Replace all skills.")] = None,
    cert: Annotated[
        list[str] | None, typer.Option("--cert", help="Replace all certificates.")
    ] = None,
    experience: ExperienceOpt = None,
    status: StatusOpt = None,
    available: AvailableOpt = None,
    leave: LeaveOpt = None,
    city: CityOpt = None,
    district: DistrictOpt = None,
    community: CommunityOpt = None,
    address: AddressOpt = None,
    access_notes: AccessOpt = None,
    lat: LatOpt = None,
    lon: LonOpt = None,
    notes: NotesOpt = None,
    json: Json = False,
) -> None:
    """Change fields of a worker (list options replace the whole list)."""
    from hk.services.people import edit as edit_record
    from hk.services.records import display

    archive = archive_of(ctx)
    fields = worker_fields(dict(locals()))
    home = address_fields(
        city, district, community, address, access_notes, lat, lon, archive.settings.locale.city
    )

    def derive(current: Any) -> dict[str, Any]:
        """The home address options applied over the current home address."""
        if not home:
            return {}
        return {"home": {**(current.home.model_dump() if current.home else {}), **home}}

    worker, result = edit_record(archive, "worker", ref, fields, derive)
    if json:
        print_json(display(archive, worker))
    elif result.commit:
        say(f"updated worker {result.code}: {', '.join(result.changed_fields)}")
    else:
        say(f"worker {result.code}: nothing changed")


@app.command("find")
def find(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="Name, pinyin, initials, phone digits, skill …")],
    limit: Annotated[int, typer.Option(help="At most this many results.")] = 50,
    json: Json = False,
) -> None:
    """Find workers by name, pinyin or initials, phone digits, skill, native place."""
    run_find(ctx, "worker", query, limit, json)


@app.command("list")
def list_(
    ctx: typer.Context,
    skill: Annotated[str | None, typer.Option(help="Only workers with this skill.")] = None,
    status: Annotated[str | None, typer.Option(help="available, placed or inactive.")] = None,
    limit: Annotated[int, typer.Option(help="At most this many (0: all).")] = 0,
    json: Json = False,
) -> None:
    """List workers, sorted by name (pinyin)."""
    run_list(ctx, "worker", json, tag=skill, category=status, limit=limit)


@app.command("show")
def show(
    ctx: typer.Context,
    ref: Annotated[str, typer.Argument(help="Code or ID of the worker.")],
    reveal: Reveal = False,
    json: Json = False,
) -> None:
    """Show one worker; the ID number masked unless --reveal."""
    from hk.commands.record import show_record

    show_record(archive_of(ctx), "worker", ref, reveal, json)
