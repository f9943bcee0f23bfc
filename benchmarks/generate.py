"""Generate the benchmark archive of DESIGN §6: ``python -m benchmarks.generate --out DIR``.

At ``--scale 1`` it holds what a busy Chengdu agency has after three years: 10 000 customers,
300 workers, 100 000 orders, 3 000 quotes, 2 000 contracts and 30 000 return visits
(:data:`PLANS`). The same seed gives the same records: IDs, names,
timestamps, prices and plaintexts all come from one seeded ``random.Random``. What differs
between runs is what the generator does not choose: the ciphertext of sensitive values (every
archive gets its own master key, and AES-GCM nonces are random) and the IDs of the default
catalog that ``init`` writes (orders name catalog items by code, never by ID).

Each record kind is a :class:`KindPlan` in :data:`PLANS`: a count at scale 1 and a builder that
may refer to the kinds built before it (customers name preferred workers, orders name
customers and workers and are priced from the archive's catalog). Everything is written
through the real bulk write path as one commit.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from benchmarks import pools
from hk.domain.base import Record
from hk.domain.common import WEEKDAYS
from hk.domain.fields import id_check_char
from hk.domain.ids import CROCKFORD, ID_LENGTH

if TYPE_CHECKING:
    from benchmarks.orders import Catalog

TZ = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2022, 1, 1, 8, 0, tzinfo=TZ)
"""The agency's first record; the generated archive covers three years from here."""
END = dt.datetime(2024, 12, 31, 20, 0, tzinfo=TZ)
"""The generated archive's "now": no record is created or updated after it."""
CITY = "成都市"


@dataclass
class Context:
    """What builders share: the seeded RNG and the records of kinds built so far."""

    rng: random.Random
    records: dict[str, list[Record]] = field(default_factory=dict)
    phones: set[str] = field(default_factory=set)
    catalog: Catalog | None = None
    """What orders are priced from; the default catalog and settings when None."""

    def pick(self, weighted: list[tuple[str, int]]) -> str:
        values, weights = zip(*weighted, strict=True)
        return self.rng.choices(values, weights)[0]

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def stamps(self, n: int) -> list[tuple[str, dt.datetime, dt.datetime]]:
        """``n`` (id, created, updated) triples in time order, spread over the three years.

        IDs are ULID-shaped (milliseconds then 80 random bits), drawn from the seeded RNG, so
        they sort by creation time like real ones and repeat exactly for the same seed.
        """
        span = int((END - START).total_seconds())
        days = (END - START).days
        # Offices work 08:00–21:00: a record is created on some day, at some working second.
        offsets = sorted(
            self.rng.randrange(days) * 86_400 + self.rng.randrange(13 * 3600) for _ in range(n)
        )
        out = []
        for offset in offsets:
            created = START + dt.timedelta(seconds=offset)
            ms = int(created.timestamp()) * 1000 + self.rng.randrange(1000)
            updated = created
            if self.chance(0.6):
                updated = created + dt.timedelta(seconds=self.rng.randrange(span - offset + 1))
            out.append((_ulid(ms, self.rng.getrandbits(80)), created, updated))
        return out

    def id_at(self, at: dt.datetime) -> str:
        """An ID created at ``at`` (ULID-shaped, from the seeded RNG, as :meth:`stamps`)."""
        return _ulid(
            int(at.timestamp()) * 1000 + self.rng.randrange(1000), self.rng.getrandbits(80)
        )

    def phone(self) -> str:
        """A mobile number in E.164 form, unique in the archive."""
        while True:
            number = (
                "+86"
                + self.rng.choice(pools.MOBILE_PREFIXES)
                + (f"{self.rng.randrange(100_000_000):08d}")
            )
            if number not in self.phones:
                self.phones.add(number)
                return number

    def landline(self) -> str:
        while True:
            number = f"+8628{self.rng.choice('68')}{self.rng.randrange(10_000_000):07d}"
            if number not in self.phones:
                self.phones.add(number)
                return number

    def date_between(self, first: dt.date, last: dt.date) -> dt.date:
        return first + dt.timedelta(days=self.rng.randrange((last - first).days + 1))


def _ulid(ms: int, random_bits: int) -> str:
    value = (ms << 80) | random_bits
    chars = []
    for _ in range(ID_LENGTH):
        chars.append(CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


# --- people ---------------------------------------------------------------------------------------


def person_name(ctx: Context, female: bool | None = None) -> str:
    """A Chinese name: a surname and one or two given characters, some of them polyphonic."""
    rng = ctx.rng
    if female is None:
        female = ctx.chance(0.55)
    pool = pools.GIVEN_FEMALE if female else pools.GIVEN_MALE
    surname = ctx.pick(pools.SURNAMES)
    first = rng.choice(pools.GIVEN_ANY) if ctx.chance(0.15) else rng.choice(pool)
    if ctx.chance(0.25):
        return surname + first
    return surname + first + rng.choice(pool)


def id_number(ctx: Context, region: str, birth: dt.date, female: bool) -> str:
    """A well-formed resident ID number (GB 11643): region, birth date, sequence, check digit."""
    seq = ctx.rng.randrange(50) * 10 + ctx.rng.randrange(0, 10, 2) + (0 if female else 1)
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    return first17 + id_check_char(first17)


def address(ctx: Context, label: str = "家", office: bool = False) -> dict[str, Any]:
    rng = ctx.rng
    district = rng.choice(list(pools.DISTRICTS))
    _, lat, lon, communities = pools.DISTRICTS[district]
    addr: dict[str, Any] = {"label": label, "city": CITY, "district": district}
    if office:
        addr["detail"] = f"{rng.choice(pools.OFFICE_STREETS)}{rng.randrange(3, 40)}楼"
    else:
        community = rng.choice(communities)
        floor = rng.randrange(1, 33)
        addr["community"] = community
        addr["detail"] = (
            f"{rng.randrange(1, 25)}栋{rng.randrange(1, 5)}单元{floor}{rng.randrange(1, 9):02d}"
        )
        # Communities keep their place: offset from the district centre by the name's hash.
        seed = sum(ord(c) for c in community)
        lat += ((seed % 97) - 48) / 2000
        lon += ((seed % 89) - 44) / 2000
    addr["lat"] = round(lat + rng.uniform(-0.002, 0.002), 6)
    addr["lon"] = round(lon + rng.uniform(-0.002, 0.002), 6)
    if ctx.chance(0.15):
        addr["access_notes"] = rng.choice(pools.ACCESS_NOTES)
    return addr


def _common(record_id: str, created: dt.datetime, updated: dt.datetime) -> dict[str, Any]:
    return {"id": record_id, "created": created, "updated": updated}


# --- workers --------------------------------------------------------------------------------------


def build_workers(ctx: Context, n: int) -> list[Record]:
    from hk.domain.worker import Worker

    rng = ctx.rng
    out: list[Record] = []
    for record_id, created, updated in ctx.stamps(n):
        female = ctx.chance(0.93)
        birth_year = rng.randrange(1963, 1999)
        native, region = rng.choice(pools.NATIVE_PLACES)
        skill_names = rng.sample(list(pools.SKILLS), rng.randrange(1, 4))
        skills = []
        for name in skill_names:
            skill: dict[str, Any] = {"name": name, "level": rng.randrange(1, 6)}
            if pools.SKILLS[name]:
                skill["cuisines"] = rng.sample(pools.SKILLS[name], rng.randrange(1, 3))
            skills.append(skill)
        certificates = []
        for kind in ["健康证", *rng.sample(pools.CERTIFICATES[1:], rng.randrange(0, 3))]:
            issued = ctx.date_between(
                max(dt.date(2019, 1, 1), created.date().replace(day=1) - dt.timedelta(days=365)),
                END.date(),
            )
            years = 1 if kind == "健康证" else 3
            certificates.append(
                {
                    "kind": kind,
                    "number": f"{rng.randrange(10**9, 10**10)}",
                    "issued": issued,
                    "expires": issued.replace(year=issued.year + years)
                    if issued.month != 2 or issued.day != 29
                    else issued + dt.timedelta(days=365 * years),
                }
            )
        days = set(rng.sample(WEEKDAYS, rng.randrange(3, 8)))
        data: dict[str, Any] = {
            **_common(record_id, created, updated),
            "name": person_name(ctx, female),
            "gender": "女" if female else "男",
            "birth_year": birth_year,
            "native_place": native,
            "dialects": rng.sample(pools.DIALECTS, rng.randrange(1, 3)),
            "phone": ctx.phone(),
            "home": address(ctx, label="住处"),
            "skills": skills,
            "certificates": certificates,
            "experience_years": rng.randrange(0, min(21, 2024 - birth_year - 17)),
            "availability": {d: rng.choice(pools.TIME_SLOTS) for d in WEEKDAYS if d in days},
            "status": ctx.pick([("available", 70), ("placed", 25), ("inactive", 5)]),
            "employment": {
                "model": ctx.pick([("中介制", 70), ("员工制", 30)]),
                "start": created.date(),
            },
        }
        if ctx.chance(0.85):
            birth = ctx.date_between(dt.date(birth_year, 1, 1), dt.date(birth_year, 12, 28))
            data["id_number"] = id_number(ctx, region, birth, female)
        if ctx.chance(0.5):
            data["wechat"] = f"wxid_{rng.getrandbits(40):010x}"
        if ctx.chance(0.6):
            data["references"] = [
                {
                    "employer": rng.choice(pools.EMPLOYERS),
                    "contact": ctx.phone()[3:],
                    "period": f"{rng.randrange(2012, 2022)}年起 {rng.randrange(1, 4)}年",
                    "comment": "认真负责",
                }
            ]
        if ctx.chance(0.8):
            data["credit_check"] = {
                "result": rng.choice(pools.CREDIT_RESULTS),
                "date": ctx.date_between(created.date(), END.date()),
            }
        if ctx.chance(0.7):
            data["insurance"] = {
                "policy": f"P{rng.randrange(10**11, 10**12)}",
                "insurer": rng.choice(pools.INSURERS),
                "expires": ctx.date_between(END.date(), dt.date(2025, 12, 31)),
            }
        if ctx.chance(0.2):
            start = ctx.date_between(dt.date(2024, 6, 1), dt.date(2025, 3, 1))
            data["leave"] = [
                {
                    "start": start,
                    "end": start + dt.timedelta(days=rng.randrange(14)),
                    "reason": rng.choice(pools.LEAVE_REASONS),
                }
            ]
        if ctx.chance(0.4):
            data["notes"] = rng.choice(pools.WORKER_NOTES)
        out.append(Worker.model_validate(data))
    return out


# --- customers ------------------------------------------------------------------------------------


def build_customers(ctx: Context, n: int) -> list[Record]:
    from hk.domain.customer import Customer

    out: list[Record] = []
    worker_ids = [w.id for w in ctx.records.get("worker", [])]
    for record_id, created, updated in ctx.stamps(n):
        data = customer_fields(ctx, created, earlier=out, worker_ids=worker_ids)
        out.append(Customer.model_validate({**_common(record_id, created, updated), **data}))
    return out


def customer_fields(
    ctx: Context,
    created: dt.datetime,
    earlier: Sequence[Record] = (),
    worker_ids: Sequence[str] = (),
) -> dict[str, Any]:
    """The fields of one customer, as an operator would have typed them over the years."""
    rng = ctx.rng
    category = ctx.pick(pools.CATEGORIES)
    company = category == "企业客户"
    female = ctx.chance(0.7)
    data: dict[str, Any] = {"category": category, "channel": ctx.pick(pools.CHANNELS)}
    if company:
        data["name"] = (
            f"成都{rng.choice(pools.COMPANY_WORDS)}{rng.choice(pools.COMPANY_WORDS)}"
            f"{rng.choice(pools.COMPANY_KINDS)}"
        )
        data["phones"] = [ctx.landline(), ctx.phone()]
        data["addresses"] = [address(ctx, label="公司", office=True)]
    else:
        data["name"] = person_name(ctx, female)
        data["phones"] = [ctx.phone()] + ([ctx.phone()] if ctx.chance(0.12) else [])
        data["addresses"] = [address(ctx)]
        if ctx.chance(0.15):
            data["addresses"].append(address(ctx, label="父母家"))
    if ctx.chance(0.4):
        data["wechat"] = f"wxid_{rng.getrandbits(40):010x}"
    if data["channel"] == "老客户介绍" and earlier and ctx.chance(0.7):
        data["referrer"] = rng.choice(earlier).id
    if ctx.chance(0.35):
        data["tier"] = ctx.pick([("白银", 60), ("黄金", 30), ("铂金", 10)])
    if ctx.chance(0.6):
        data["tags"] = rng.sample(pools.TAGS, rng.randrange(1, 4))
    if not company:
        _household(ctx, data, category, female)
    if ctx.chance(0.2):
        data["taboos"] = rng.sample(pools.TABOOS, rng.randrange(1, 3))
    if worker_ids and ctx.chance(0.15):
        data["preferred_workers"] = rng.sample(worker_ids, rng.randrange(1, 3))
        if ctx.chance(0.2):
            blocked = rng.choice(worker_ids)
            if blocked not in data["preferred_workers"]:
                data["blocked_workers"] = [blocked]
    if ctx.chance(0.6):
        data["consents"] = [
            {
                "purpose": "服务信息处理",
                "scope": "姓名、电话、地址、家庭情况",
                "date": created.date(),
                "method": rng.choice(pools.CONSENT_METHODS),
            }
        ]
    if ctx.chance(0.35):
        data["notes"] = rng.choice(pools.NOTES)
    return data


def _household(ctx: Context, data: dict[str, Any], category: str, female: bool) -> None:
    """Family, preferences and the sensitive details some customers give."""
    rng = ctx.rng
    birth_year = rng.randrange(1955, 2000)
    if ctx.chance(0.2):
        data["birthday"] = ctx.date_between(dt.date(birth_year, 1, 1), dt.date(birth_year, 12, 28))
    if ctx.chance(0.5):
        members = []
        for relation, lo, hi in rng.sample(pools.RELATIONS, rng.randrange(1, 3)):
            member: dict[str, Any] = {"relation": relation, "birth_year": rng.randrange(lo, hi)}
            if relation in ("爷爷", "奶奶", "父亲", "母亲") and ctx.chance(0.3):
                member["care_notes"] = rng.choice(pools.CARE_NOTES)
            members.append(member)
        if ctx.chance(0.2):
            members.append({"relation": rng.choice(pools.PETS), "notes": "性格温顺"})
        data["household"] = members
    if ctx.chance(0.4):
        lo = rng.randrange(25, 45)
        data["preferences"] = {
            "worker_gender": "女",
            "worker_age_min": lo,
            "worker_age_max": lo + rng.randrange(5, 20),
            "native_places": rng.sample(["四川", "重庆", "贵州"], rng.randrange(1, 3)),
            "dialects": ["四川话"] if ctx.chance(0.5) else [],
            "skills": rng.sample(list(pools.SKILLS), rng.randrange(0, 3)),
            "cooking_taste": rng.choice(pools.COOKING) if ctx.chance(0.5) else "",
        }
    if ctx.chance(0.12):
        region = pools.DISTRICTS[data["addresses"][0]["district"]][0]
        birth = ctx.date_between(dt.date(birth_year, 1, 1), dt.date(birth_year, 12, 28))
        data["id_number"] = id_number(ctx, region, birth, female)
    if ctx.chance(0.08):
        data["health_notes"] = rng.choice(pools.HEALTH_NOTES)
    if category in ("育儿嫂", "月嫂") and ctx.chance(0.4):
        data["children_details"] = rng.choice(pools.CHILDREN)


# --- orders ---------------------------------------------------------------------------------------


def build_orders(ctx: Context, n: int) -> list[Record]:
    """Orders from the first customer's arrival to "now" (see :mod:`benchmarks.orders`)."""
    from benchmarks.orders import Catalog, OrderBuilder

    first = min(c.created for c in ctx.records["customer"])
    builder = OrderBuilder(ctx, ctx.catalog or Catalog.default(), first, END, _ulid)
    return list(builder.build(n))


# --- quotes and contracts -------------------------------------------------------------------------


def build_quotes(ctx: Context, n: int) -> list[Record]:
    """Quotes from the agency's first years to "now" (see :mod:`benchmarks.agreements`)."""
    from benchmarks.agreements import build_quotes as build
    from benchmarks.orders import Catalog

    return build(ctx, n, ctx.catalog or Catalog.default(), END)


def build_visits(ctx: Context, n: int) -> list[Record]:
    """Return visits done, skipped and owed (see :mod:`benchmarks.visits`)."""
    from benchmarks.visits import build_visits as build

    return build(ctx, n, END)


def build_contracts(ctx: Context, n: int) -> list[Record]:
    """Placements, packages and regular service (see :mod:`benchmarks.agreements`)."""
    from benchmarks.agreements import build_contracts as build
    from benchmarks.orders import Catalog

    return build(ctx, n, ctx.catalog or Catalog.default(), END)


# --- the plan -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class KindPlan:
    """One record kind of the benchmark archive: how many at scale 1, and how to build them.

    ``build`` is None for a kind DESIGN §6 counts whose record model does not exist yet: the
    plan keeps its place (and its count) so that adding the kind means writing its builder.
    """

    kind: str
    per_scale: int
    build: Callable[[Context, int], list[Record]] | None


PLANS: list[KindPlan] = [
    KindPlan("worker", 300, build_workers),
    KindPlan("customer", 10_000, build_customers),
    # Quotes (报价单) and contracts (合同) come before orders: an accepted quote becomes a
    # contract or orders, and a contract's schedule generates orders that name it. Their
    # builders will draw on customers and workers above, and set orders' quote and contract.
    KindPlan("quote", 3_000, build_quotes),
    KindPlan("contract", 2_000, build_contracts),
    KindPlan("order", 100_000, build_orders),
    # Return visits (回访) follow orders: after a first service, a low rating, a complaint.
    KindPlan("visit", 30_000, build_visits),
]
"""Built in this order; a builder may refer to the records of the kinds above it."""


def build(
    scale: float,
    seed: int,
    catalog: Catalog | None = None,
    only: Sequence[str] | None = None,
) -> dict[str, list[Record]]:
    """Every record of the benchmark archive, by kind (no I/O).

    ``catalog`` is what orders are priced from: the target archive's, or by default the
    catalog and settings ``hk init`` writes (the same prices and rules). ``only`` limits the
    archive to these kinds (the customers-only archive of DESIGN §6 is workers and
    customers); a kind must not need one left out.
    """
    ctx = Context(rng=random.Random(seed), catalog=catalog)
    for plan in PLANS:
        if plan.build is not None and (only is None or plan.kind in only):
            ctx.records[plan.kind] = plan.build(ctx, max(1, round(plan.per_scale * scale)))
    return ctx.records


def pending_kinds() -> list[str]:
    """Kinds the plan counts but cannot build yet (their record models are still to come)."""
    return [plan.kind for plan in PLANS if plan.build is None]


@dataclass
class Generated:
    counts: dict[str, int]
    build_seconds: float
    save_seconds: float
    key_dir: Path


DIRECT_KINDS = ("order", "visit")
"""Kinds whose files the generator writes itself: nothing to seal, 100 000 orders and 30 000
return visits.

The bulk write path would spend most of a minute on them (a walk for sensitive values, a
temporary file and a rename per file, index rows); they are validated records all the same,
serialised by :func:`hk.store.files.serialise` to the path :func:`relpath_for` gives, and
committed in the same commit as the records that go through the write path. The index picks
them up on its first refresh (``hk reindex``), as it would after a ``git pull``.
"""


def write_direct(root: Path, records: Sequence[Record]) -> list[str]:
    """Write each record's canonical file; return the paths, relative to ``root``."""
    from hk.store.files import relpath_for, serialise

    paths = []
    folders: set[Path] = set()
    for record in records:
        path = relpath_for(type(record), record.id)
        full = root / path
        if full.parent not in folders:
            full.parent.mkdir(parents=True, exist_ok=True)
            folders.add(full.parent)
        with open(full, "xb") as handle:
            handle.write(serialise(record).encode("utf-8"))
        paths.append(path)
    return paths


def generate(
    out: Path, scale: float = 1.0, seed: int = 1, only: Sequence[str] | None = None
) -> Generated:
    """Create a new archive at ``out`` and fill it in one commit.

    People go through the bulk write path (which seals their sensitive values and indexes
    them); the kinds of :data:`DIRECT_KINDS` are written directly and staged in the same commit.
    """
    from benchmarks.orders import Catalog
    from hk.services.archive import init
    from hk.store.archive import Archive
    from hk.store.writer import save_new_bulk

    report = init(out, company="蓉城优家家政服务有限公司")
    archive = Archive(report.root)
    started = time.perf_counter()
    records = build(scale, seed, Catalog.of_archive(archive), only)
    built = time.perf_counter()
    direct = [r for kind in DIRECT_KINDS for r in records.get(kind, [])]
    through_writer = [
        r for kind, group in records.items() if kind not in DIRECT_KINDS for r in group
    ]
    counts = {kind: len(group) for kind, group in records.items()}
    summary = "benchmark: generate " + ", ".join(f"{n} {kind}s" for kind, n in counts.items())
    paths = write_direct(archive.root, direct)
    save_new_bulk(archive, through_writer, summary, extra_paths=paths)
    archive.index.close()
    return Generated(
        counts=counts,
        build_seconds=built - started,
        save_seconds=time.perf_counter() - built,
        key_dir=report.key_dir,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.generate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, required=True, help="folder of the new archive")
    parser.add_argument(
        "--scale", type=float, default=1.0, help="1 = 300 workers, 10 000 customers, 100 000 orders"
    )
    parser.add_argument("--seed", type=int, default=1, help="same seed, same records")
    parser.add_argument(
        "--only",
        type=lambda text: [k.strip() for k in text.split(",") if k.strip()],
        default=None,
        help="only these kinds, comma-separated (worker,customer: the customers-only archive)",
    )
    args = parser.parse_args(argv)
    unknown = set(args.only or []) - {plan.kind for plan in PLANS}
    if unknown:
        print(f"--only: no kind {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    if args.out.exists() and any(args.out.iterdir()):
        print(f"{args.out} exists and is not empty; choose a new folder", file=sys.stderr)
        return 2
    result = generate(args.out, args.scale, args.seed, args.only)
    what = ", ".join(f"{n} {kind}s" for kind, n in result.counts.items())
    print(f"wrote {what} to {args.out.resolve()} (seed {args.seed}, scale {args.scale:g})")
    print(f"  build {result.build_seconds:.1f} s, save and commit {result.save_seconds:.1f} s")
    print(f"  key folder: {result.key_dir}")
    if any(result.counts.get(kind) for kind in DIRECT_KINDS):
        print(
            f"  {', '.join(DIRECT_KINDS)} files are indexed by the first command that reads "
            "them (or `hk reindex`)"
        )
    if pending_kinds():
        print(f"  not generated yet (no record kind): {', '.join(pending_kinds())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
