"""``hk worker``: add, list, show, edit and find workers (家政员/阿姨)."""

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
)

app = typer.Typer(help="Workers (家政员/阿姨): add, find, show, edit.", no_args_is_help=True)

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
    from hk.services.people import WorkerChange, new_worker
    from hk.services.records import display

    archive = archive_of(ctx)
    opts = {k: v for k, v in locals().items() if k in WorkerChange.model_fields}
    opts["name"] = require(name, "--name", "姓名 / name")
    opts["gender"] = require(gender, "--gender", "性别 (女/男)")
    worker, result = new_worker(archive, WorkerChange(**opts))
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
    from hk.services.people import WorkerChange, edit_worker
    from hk.services.records import display

    change = WorkerChange(**{k: v for k, v in locals().items() if k in WorkerChange.model_fields})
    archive = archive_of(ctx)
    worker, result = edit_worker(archive, ref, change)
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
    reason: Reason = None,
    json: Json = False,
) -> None:
    """Show one worker; the ID number masked unless --reveal (with --reason, audited)."""
    from hk.commands.record import show_record

    show_record(archive_of(ctx), "worker", ref, reveal, json, reason=reason)
