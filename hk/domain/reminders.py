"""Reminder rules (SPEC §4): what is due on a day, each item with a stable occasion key.

Pure functions over records as plain data (the JSON the index keeps of each record), with no
I/O: ``hk remind --dry-run`` reads the index, never every record's file (DESIGN §6).
:mod:`hk.remind.gather` reads the index and calls these; the channels
in :mod:`hk.remind` send what they return.

**Occasions.** Each item has a key naming the occasion it reminds of, built from record IDs,
dates and fixed words only, never personal data, and the same on every machine and every run:
``contract-end:<contract id>:7`` is "contract … ends within 7 days", sent once however often
cron runs. A key ends in ``:customer`` or ``:worker:<id>`` when the item goes to that person
rather than to the office. What changes the occasion is in the key: a rescheduled
appointment (its day), a renewed certificate (its expiry), a quote given more time (its last
day), a new package period (its first day); the same occasion is never reminded twice.

**Catching up.** Cron may miss days (a machine switched off over 春节), so a rule asks
"is the occasion due by today and not over yet?" rather than "is it exactly today?": a
contract ending in 5 days gets its 7-day reminder even if the run on day 7 did not happen.
Two rules look back a bounded time (:data:`CATCH_UP_DAYS`): lapsed customers and overdue
return visits, whose backlog on an archive with years of history would flood a first run.

**Birthdays.** Only customers have a birthday field; household members have birth years only,
which say nothing about a day, so no reminder is made for them. 29 February is kept on
28 February in years without it.
"""

from __future__ import annotations

import datetime as dt

from hk.domain.complaint import sla_state
from hk.domain.visit.model import TYPE_ZH as VISIT_ZH

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: this module imports nothing it does not use
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from typing import Any

    Data = Mapping[str, Any]

AUDIENCES = ("office", "customer", "worker")
"""Who an item is for: the office digest, or one customer or worker in person."""
RULES = (
    "appointment",
    "contract_end",
    "certificate",
    "insurance",
    "employment",
    "deposit",
    "quote_expiry",
    "package_low",
    "birthday",
    "lapsed",
    "visit",
    "complaint",
)
"""Every rule, in the order a digest lists them."""
BOOKED = ("pending", "confirmed", "to_dispatch", "dispatched")
"""Order statuses of an appointment still to come (not started, not cancelled)."""
OPEN_QUOTES = ("draft", "sent")
LIVE_CONTRACTS = ("signed", "active")
MARKETING = ("birthday", "package_low")
"""Rules whose message to a customer is marketing: sent only with the customer's consent."""
CATCH_UP_DAYS = 30
"""A customer lapsed, or a return visit overdue, for this many days or more is not reminded
any more (it was, when it happened, if cron ran): a first run on an archive with years of
history must not flood the digest. ``hk visit list`` still shows every overdue visit."""
DEFAULT_CONSENT_WORDS = ("优惠", "营销", "推广", "促销", "生日", "marketing", "offers")


class Leads:
    """How early each reminder comes (``[reminders]`` and ``[customers] lapsed_days``).

    Built from the settings by :meth:`hk.remind.config.RemindConfig.from_settings`; the
    defaults here serve the rules' tests, and a test keeps them those of
    :class:`hk.domain.settings.Reminders`.
    """

    __slots__ = (
        "birthday_days",
        "certificate_days",
        "contract_end_days",
        "insurance_days",
        "lapsed_days",
        "package_visits_left",
        "quote_expiry_days",
    )

    def __init__(
        self,
        contract_end_days: Sequence[int] = (30, 7),
        certificate_days: int = 30,
        insurance_days: int = 30,
        quote_expiry_days: int = 3,
        package_visits_left: int = 2,
        birthday_days: int = 1,
        lapsed_days: int = 90,
    ) -> None:
        self.contract_end_days = tuple(sorted({int(d) for d in contract_end_days}))
        self.certificate_days = int(certificate_days)
        self.insurance_days = int(insurance_days)
        self.quote_expiry_days = int(quote_expiry_days)
        self.package_visits_left = int(package_visits_left)
        self.birthday_days = int(birthday_days)
        self.lapsed_days = int(lapsed_days)


class Due:
    """One thing to remind someone of.

    ``refs`` name the records the item is about by role (``customer``, ``worker``, ``order``
    …) so that names and codes can be looked up for the message; ``facts`` are plain values
    from the records (times, amounts, days left) the templates show.
    """

    __slots__ = ("audience", "day", "facts", "key", "person", "refs", "rule")

    def __init__(
        self,
        key: str,
        rule: str,
        audience: str,
        day: dt.date,
        person: str = "",
        refs: dict[str, Any] | None = None,
        facts: dict[str, Any] | None = None,
    ) -> None:
        self.key, self.rule, self.audience, self.day = key, rule, audience, day
        self.person = person
        self.refs = refs or {}
        self.facts = facts or {}

    def __repr__(self) -> str:
        return f"Due({self.key!r})"

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "rule": self.rule,
            "audience": self.audience,
            "day": self.day.isoformat(),
            "person": self.person or None,
            "refs": self.refs,
            "facts": self.facts,
        }


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text[:10]) if text else None


def _moment(text: str, tz: dt.tzinfo) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(tz)


# --- orders -----------------------------------------------------------------------------------


def appointments(orders: Iterable[Data], day: dt.date, tz: dt.tzinfo) -> list[Due]:
    """Appointments on ``day`` (tomorrow): to the office, the customer, each assigned worker.

    The day is the start's day in the archive's timezone; an order not yet started and not
    cancelled counts, assigned or not (the office sees which still lack a worker).
    """
    out: list[Due] = []
    for order in orders:
        if order.get("status") not in BOOKED:
            continue
        start = _moment(order["window"]["start"], tz)
        if start.date() != day:
            continue
        end = _moment(order["window"]["end"], tz)
        planned = order.get("planned_start")
        address = order.get("address") or {}
        workers = list(order.get("workers") or [])
        facts = {
            "start": (_moment(planned, tz) if planned else start).strftime("%H:%M"),
            "end": end.strftime("%H:%M") if end.date() == day else end.strftime("%m-%d %H:%M"),
            "services": [line.get("name") or line["service"] for line in order.get("lines", [])],
            "status": order["status"],
            "community": address.get("community", ""),
            "district": address.get("district", ""),
            "unassigned": not workers,
        }
        base = f"appointment:{order['id']}:{day.isoformat()}"
        refs = {"order": order["id"], "customer": order["customer"], "workers": workers}
        out.append(Due(base, "appointment", "office", day, refs=refs, facts=facts))
        out.append(
            Due(
                f"{base}:customer",
                "appointment",
                "customer",
                day,
                person=order["customer"],
                refs=refs,
                facts=facts,
            )
        )
        visit = {
            **facts,
            "detail": address.get("detail", ""),
            "access_notes": address.get("access_notes", ""),
            "notes": order.get("notes", ""),
        }
        for worker in workers:
            out.append(
                Due(
                    f"{base}:worker:{worker}",
                    "appointment",
                    "worker",
                    day,
                    person=worker,
                    refs=refs,
                    facts=visit,
                )
            )
    return out


def deposit_outstanding(order: Data) -> int:
    """Deposit asked for and not yet received, in fen (as :meth:`Order.deposit_outstanding`)."""
    if order.get("status") == "cancelled":
        return 0
    paid = sum(p["amount_fen"] for p in order.get("payments", []) if p.get("kind") == "deposit")
    return max(0, int(order.get("deposit_fen", 0)) - paid)


def deposits(orders: Iterable[Data], today: dt.date, tz: dt.tzinfo) -> list[Due]:
    """Orders still to come whose deposit (定金) is not (fully) in: once per order."""
    out: list[Due] = []
    for order in orders:
        if order.get("status") not in BOOKED:
            continue
        owed = deposit_outstanding(order)
        start = _moment(order["window"]["start"], tz)
        if not owed or start.date() < today:
            continue
        refs = {"order": order["id"], "customer": order["customer"]}
        facts = {
            "outstanding_fen": owed,
            "deposit_fen": order.get("deposit_fen", 0),
            "start": start.strftime("%Y-%m-%d %H:%M"),
            "services": [line.get("name") or line["service"] for line in order["lines"]],
        }
        key = f"deposit:{order['id']}"
        out.append(Due(key, "deposit", "office", start.date(), refs=refs, facts=facts))
        out.append(
            Due(
                f"{key}:customer",
                "deposit",
                "customer",
                start.date(),
                person=order["customer"],
                refs=refs,
                facts=facts,
            )
        )
    return out


def packages_low(
    orders: Iterable[Data], packages: Mapping[str, Data], today: dt.date, visits_left: int
) -> list[Due]:
    """Customers whose current package period has ``visits_left`` visits or fewer left.

    Periods are chained as :func:`hk.services.orders.rules.package_balance` chains them: the
    first order using the package starts a period of its validity; the first order after a
    period ends starts the next (the customer renewed). The period holding ``today`` counts
    every visit its orders took, booked for earlier or later days; cancelled orders give their
    visits back. Once per period: a renewal starts a new occasion.
    """
    uses: dict[tuple[str, str], list[tuple[dt.date, dict[str, int]]]] = {}
    for order in orders:
        code = order.get("package")
        if not code or code not in packages or order.get("status") == "cancelled":
            continue
        visits: dict[str, int] = {}
        for line in order.get("lines", []):
            if line.get("package_visits"):
                visits[line["service"]] = visits.get(line["service"], 0) + line["package_visits"]
        day = dt.date.fromisoformat(order["window"]["start"][:10])
        uses.setdefault((order["customer"], code), []).append((day, visits))
    out: list[Due] = []
    for (customer, code), entries in sorted(uses.items()):
        package = packages[code]
        span = dt.timedelta(days=int(package["validity_days"]) - 1)
        periods: list[tuple[dt.date, list[dict[str, int]]]] = []
        for day, visits in sorted(entries, key=lambda entry: entry[0]):
            if not periods or day > periods[-1][0] + span:
                periods.append((day, []))
            periods[-1][1].append(visits)
        current = next((p for p in periods if p[0] <= today <= p[0] + span), None)
        if current is None:
            continue
        start, taken = current
        left = {i["service"]: int(i["visits"]) for i in package.get("items", [])}
        for visits in taken:
            for service, n in visits.items():
                left[service] = max(0, left.get(service, 0) - n)
        total = sum(left.values())
        if total > visits_left:
            continue
        key = f"package-low:{customer}:{code}:{start.isoformat()}"
        facts = {
            "package": code,
            "package_name": package.get("name", code),
            "left": total,
            "left_by_service": left,
            "valid_until": (start + span).isoformat(),
        }
        refs = {"customer": customer}
        out.append(Due(key, "package_low", "office", start + span, refs=refs, facts=facts))
        out.append(
            Due(
                f"{key}:customer",
                "package_low",
                "customer",
                start + span,
                person=customer,
                refs=refs,
                facts=facts,
            )
        )
    return out


# --- contracts and quotes -----------------------------------------------------------------------


def contract_ends(contracts: Iterable[Data], today: dt.date, lead_days: Sequence[int]) -> list[Due]:
    """Live contracts ending within the largest lead (SPEC §3: T-30, T-7), to the office.

    The occasion is the smallest lead the days left fit in: a contract 20 days from its end
    is in its 30-day reminder, 7 days from it in its 7-day one, and one drafted 5 days before
    its end gets only the 7-day one. A contract ending today is still due (0 days left).
    """
    leads = sorted(set(lead_days))
    out: list[Due] = []
    for contract in contracts:
        if contract.get("status") not in LIVE_CONTRACTS or contract.get("renewed_by"):
            continue
        end = dt.date.fromisoformat(contract["end"])
        left = (end - today).days
        lead = next((n for n in leads if left <= n), None)
        if left < 0 or lead is None:
            continue
        replacements = contract.get("replacements") or []
        worker = replacements[-1]["new"] if replacements else contract.get("worker")
        refs = {"contract": contract["id"], "customer": contract["customer"], "worker": worker}
        facts = {
            "end": end.isoformat(),
            "days_left": left,
            "lead": lead,
            "number": contract.get("number", ""),
            "type": contract.get("contract_type", ""),
            "status": contract["status"],
        }
        out.append(
            Due(
                f"contract-end:{contract['id']}:{lead}",
                "contract_end",
                "office",
                end,
                refs=refs,
                facts=facts,
            )
        )
    return out


def quotes_expiring(quotes: Iterable[Data], today: dt.date, days: int) -> list[Due]:
    """Open quotes whose last valid day is within ``days`` (today included), to the office;
    a sent one to the customer too, who may still want to accept it."""
    out: list[Due] = []
    for quote in quotes:
        if quote.get("status") not in OPEN_QUOTES:
            continue
        last = dt.date.fromisoformat(quote["valid_until"])
        left = (last - today).days
        if not 0 <= left <= days:
            continue
        key = f"quote-expiry:{quote['id']}:{last.isoformat()}"
        refs = {"quote": quote["id"], "customer": quote["customer"]}
        facts = {
            "valid_until": last.isoformat(),
            "days_left": left,
            "total_fen": quote.get("total_fen", 0),
            "status": quote["status"],
            "services": [line.get("name") or line["service"] for line in quote["lines"]],
        }
        out.append(Due(key, "quote_expiry", "office", last, refs=refs, facts=facts))
        if quote["status"] == "sent":
            out.append(
                Due(
                    f"{key}:customer",
                    "quote_expiry",
                    "customer",
                    last,
                    person=quote["customer"],
                    refs=refs,
                    facts=facts,
                )
            )
    return out


# --- workers ------------------------------------------------------------------------------------


def _expiry(
    rule: str,
    subject: str,
    worker: str,
    expires: dt.date,
    today: dt.date,
    within: int,
    facts: dict[str, Any],
) -> list[Due]:
    """The office's and the worker's item for a paper expiring within ``within`` days or
    already expired: two occasions, "soon" and "expired", each reminded once."""
    left = (expires - today).days
    if left > within:
        return []
    stage = "expired" if left < 0 else "soon"
    key = f"{rule}:{worker}:{subject}{expires.isoformat()}:{stage}"
    facts = {**facts, "expires": expires.isoformat(), "days_left": left, "expired": left < 0}
    refs = {"worker": worker}
    return [
        Due(key, rule, "office", expires, refs=refs, facts=facts),
        Due(f"{key}:worker", rule, "worker", expires, person=worker, refs=refs, facts=facts),
    ]


def papers(workers: Iterable[Data], today: dt.date, leads: Leads) -> list[Due]:
    """Certificates (健康证 …), insurance and the worker's own contract with the company,
    expiring within their lead or already expired; workers who left (inactive) are skipped."""
    out: list[Due] = []
    for worker in workers:
        if worker.get("status") == "inactive":
            continue
        wid = worker["id"]
        for cert in worker.get("certificates", []):
            expires = _date(cert.get("expires"))
            if expires is not None:
                out += _expiry(
                    "certificate",
                    f"{cert['kind']}:",
                    wid,
                    expires,
                    today,
                    leads.certificate_days,
                    {"kind": cert["kind"]},
                )
        insurance = worker.get("insurance")
        if insurance:
            out += _expiry(
                "insurance",
                "",
                wid,
                dt.date.fromisoformat(insurance["expires"]),
                today,
                leads.insurance_days,
                {"insurer": insurance.get("insurer", "")},
            )
        employment = worker.get("employment") or {}
        expires = _date(employment.get("expires"))
        if expires is not None:
            out += _expiry(
                "employment",
                "",
                wid,
                expires,
                today,
                leads.certificate_days,
                {"model": employment.get("model", "")},
            )
    return out


# --- customers ----------------------------------------------------------------------------------


def birthday_in(born: dt.date, year: int) -> dt.date:
    """The day a birthday is kept in ``year``: 29 February falls on the 28th without a leap day."""
    try:
        return born.replace(year=year)
    except ValueError:
        return dt.date(year, 2, 28)


def birthdays(customers: Iterable[Data], today: dt.date, days: int) -> list[Due]:
    """Customers' birthdays within ``days`` to the office (a call, a small gift), and a
    greeting to the customer on the day itself."""
    out: list[Due] = []
    for customer in customers:
        born = _date(customer.get("birthday"))
        if born is None:
            continue
        day = birthday_in(born, today.year)
        if day < today:
            day = birthday_in(born, today.year + 1)
        if (day - today).days > days:
            continue
        key = f"birthday:{customer['id']}:{day.year}"
        refs = {"customer": customer["id"]}
        facts = {
            "date": day.isoformat(),
            "days_left": (day - today).days,
            "age": day.year - born.year,
        }
        out.append(Due(key, "birthday", "office", day, refs=refs, facts=facts))
        if day == today:
            out.append(
                Due(
                    f"{key}:customer",
                    "birthday",
                    "customer",
                    day,
                    person=customer["id"],
                    refs=refs,
                    facts=facts,
                )
            )
    return out


def lapsed(
    last_order: Mapping[str, dt.date], today: dt.date, lapsed_days: int, exempt: Iterable[str] = ()
) -> list[Due]:
    """Customers whose last order was ``lapsed_days`` or more ago (SPEC §3: lapsed), to win
    back; once per lapse (a new order and a new lapse make a new occasion). Customers in
    ``exempt`` (a long-term contract running) are active whatever their orders say."""
    skip = set(exempt)
    out: list[Due] = []
    for customer, last in sorted(last_order.items()):
        since = (today - last).days
        if customer in skip or not lapsed_days <= since < lapsed_days + CATCH_UP_DAYS:
            continue
        out.append(
            Due(
                f"lapsed:{customer}:{last.isoformat()}",
                "lapsed",
                "office",
                last,
                refs={"customer": customer},
                facts={"last_order": last.isoformat(), "days_since": since},
            )
        )
    return out


# --- return visits and complaints -----------------------------------------------------------------


def return_visits(owed: Iterable[Any], today: dt.date) -> list[Due]:
    """Return visits (回访) due today or overdue, to the office: one reminder when a visit falls
    due, one more once it is overdue. ``owed`` are :class:`hk.domain.visit.owed.Owed` (the visit
    rules decide what is owed; their ``key`` names the visit)."""
    out: list[Due] = []
    for o in owed:
        late = (today - o.due).days
        if late < 0 or late >= CATCH_UP_DAYS:
            continue
        stage = "overdue" if late else "due"
        refs = {
            role: getattr(o, role)
            for role in ("customer", "visit", "order", "contract", "complaint", "worker")
            if getattr(o, role)
        }
        out.append(
            Due(
                f"return-visit:{o.key}:{stage}",
                "visit",
                "office",
                o.due,
                refs=refs,
                facts={
                    "type": o.type,
                    "type_zh": VISIT_ZH.get(o.type, o.type),
                    "due": o.due.isoformat(),
                    "overdue_days": late,
                    "reason": o.reason,
                },
            )
        )
    return out


def complaints(rows: Iterable[Data], now: dt.datetime) -> list[Due]:
    """Open complaints near or past their response deadline, to the office: one reminder as
    the deadline nears, one once it has passed. ``rows`` are complaints' index summaries, with
    their title (``name``: the day received and the category in words)."""
    out: list[Due] = []
    for row in rows:
        if row.get("status") != "open" or row.get("responded_at"):
            continue
        due = dt.datetime.fromisoformat(row["response_due"])
        state = sla_state(dt.datetime.fromisoformat(row["received_at"]), due, None, now)
        if state == "running":
            continue
        refs = {role: row[role] for role in ("customer", "order", "worker") if row.get(role)}
        refs["complaint"] = row["id"]
        local = due.astimezone(now.tzinfo)
        out.append(
            Due(
                f"complaint:{row['id']}:{state}",
                "complaint",
                "office",
                local.date(),
                refs=refs,
                facts={
                    "category": row.get("category", ""),
                    "category_zh": str(row.get("name", "")).partition(" ")[2]
                    or row.get("category", ""),
                    "severity": row.get("severity", ""),
                    "sla_due": local.strftime("%Y-%m-%d %H:%M"),
                    "overdue": state == "overdue",
                    "hours_left": round((due - now).total_seconds() / 3600, 1),
                },
            )
        )
    return out


def consents_to_marketing(
    customer: Data, today: dt.date, words: Sequence[str] = DEFAULT_CONSENT_WORDS
) -> bool:
    """Whether the customer agreed to offers and greetings (PIPL): a consent in force whose
    purpose or scope names one of ``words`` (``回访与优惠信息`` names 优惠)."""
    for consent in customer.get("consents", []):
        withdrawn = _date(consent.get("withdrawn"))
        if withdrawn is not None and withdrawn <= today:
            continue
        text = f"{consent.get('purpose', '')} {consent.get('scope', '')}".lower()
        if any(word.lower() in text for word in words):
            return True
    return False


def without_unconsented(items: Iterable[Due], allowed: Iterable[str]) -> list[Due]:
    """Drop marketing messages to customers not in ``allowed``; the office still gets them."""
    ok = set(allowed)
    return [
        i
        for i in items
        if not (i.audience == "customer" and i.rule in MARKETING and i.person not in ok)
    ]


def ordered(items: Iterable[Due]) -> list[Due]:
    """Items in digest order: by rule, then day, then key (stable across runs)."""
    rank = {rule: n for n, rule in enumerate(RULES)}
    return sorted(items, key=lambda i: (rank.get(i.rule, len(rank)), i.day, i.key))
