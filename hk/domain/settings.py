"""Settings (``hk.toml``), SPEC §2 and §4: every default an operator may want to change.

Each section is a model that refuses unknown keys, so a typo in ``hk.toml`` is reported, not
ignored. Later parts of hk (notifications, dispatch, key bindings) add their own sections.

The model says everything about a setting in one place: its type and default, what it is for
(``description`` or the docstring under the field, read by :func:`field_docs`), which
``HK_*`` environment variable overrides it (``json_schema_extra={"env": ...}``, see
:func:`env_overrides`) and whether its value is a secret that is never printed
(``{"secret": True}``). Reading the files and the environment is the store's job
(``hk.store.settings``); nothing here does I/O.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from hk.domain.catalog import Unit
from hk.domain.common import WEEKDAYS, TimeRange, Weekday, duplicates
from hk.domain.fields import Fen
from hk.domain.reminders import DEFAULT_CONSENT_WORDS


class Section(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        str_strip_whitespace=True,
        defer_build=True,
    )


class Company(Section):
    """Shown on quotes, contracts and messages."""

    name: str = "我的家政服务有限公司"
    """The company name (公司名称) printed on quotes, contracts and messages."""
    phone: str = ""
    """The office phone customers call."""
    address: str = ""
    """The office address."""
    email: str = ""
    """The office e-mail address."""
    license: str = Field("", description="统一社会信用代码 / 营业执照号")


class Locale(Section):
    timezone: str = "Asia/Shanghai"
    """The zone every time of day is read in (IANA name, e.g. Asia/Shanghai)."""
    currency: str = "CNY"
    """The currency of every amount; amounts are kept in fen (分)."""
    language: str = Field("zh_CN", description="zh_CN or en")
    phone_region: str = Field("CN", description="region assumed for numbers without +country")
    city: str = Field("", description="default city for new addresses")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown timezone '{value}', e.g. Asia/Shanghai") from None
        return value


class Tier(Section):
    """A membership tier (会员等级) and what it gives."""

    name: str
    """The tier as customers know it (白银, 黄金, 铂金 …)."""
    discount_percent: int = Field(0, ge=0, le=100)
    """Discount on catalog prices for customers of this tier."""
    min_spend_fen: Fen = 0


class Customers(Section):
    """Lists operators choose from; a value outside them is refused on save."""

    categories: list[str] = Field(
        default_factory=lambda: [
            "家庭保洁",
            "钟点工",
            "保姆",
            "育儿嫂",
            "月嫂",
            "老人陪护",
            "家电清洗",
            "企业客户",
        ]
    )
    """Customer categories (客户类别) an operator chooses from."""
    channels: list[str] = Field(
        default_factory=lambda: [
            "线上推广",
            "门店",
            "老客户介绍",
            "社区合作",
            "美团",
            "58同城",
            "抖音",
            "电话",
        ]
    )
    """Acquisition channels (获客渠道) an operator chooses from."""
    lapsed_days: int = Field(90, gt=0, description="no order for this long: lapsed")
    at_risk_factor: float = Field(1.5, gt=1, description="overdue by this × usual interval")
    at_risk_score: int = Field(2, ge=1, le=5, description="a latest survey score this low: at risk")
    at_risk_score_days: int = Field(90, ge=0, description="… for this many days after it")


class Reminders(Section):
    """SPEC §4: what `hk remind` lists, and how early."""

    daily_at: str = Field("08:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    """When the daily reminder run (`hk cron install`) sends, in the archive's timezone."""
    contract_end_days: list[int] = Field(default_factory=lambda: [30, 7])
    """Remind this many days before a contract ends (each number once)."""
    certificate_days: int = 30
    """Remind this many days before a worker's certificate expires."""
    insurance_days: int = 30
    """Remind this many days before a worker's insurance expires."""
    quote_expiry_days: int = 3
    """Remind this many days before a sent quote's last valid day."""
    complaint_sla_hours: int = 24
    """A complaint must be answered within this many hours of receipt."""
    package_visits_left: int = 2
    """Remind when a package has this many visits left or fewer."""
    birthday_days: int = 1
    """Remind this many days before a customer's birthday."""


class Quotes(Section):
    """How long a quote (报价单) holds; ``[reminders] quote_expiry_days`` is how early the
    reminder before its last day comes."""

    valid_days: int = Field(15, ge=0, le=365, description="a new quote is valid this many days")


class Visits(Section):
    """SPEC §4: the return-visit (回访) schedule."""

    first_within_days: int = 7
    """The first return visit is due this many days after a new customer's first service."""
    active_every_months: int = 3
    """Then one every this many months for an active customer."""
    one_off_every_months: int = 6
    """And every this many months for a one-off customer."""
    after_complaint: bool = True
    """A return visit after a complaint is resolved."""
    after_replacement: bool = True
    """A return visit after a worker is replaced on a contract."""
    low_score: int = Field(2, ge=1, le=5)
    """A survey score this low or lower brings a return visit."""
    low_score_within_days: int = Field(
        1, ge=0, le=30, description="a low score is followed up this many days later"
    )


class Points(Section):
    yuan_per_point: int = Field(10, gt=0)
    """A completed and rated order earns one point per this many yuan."""
    expire_months: int = Field(12, gt=0)
    """Points expire this many months after they were earned, oldest first."""
    yearly_cap: int = Field(5000, ge=0)
    """At most this many points a customer earns in a year; 0: no cap."""


class Privacy(Section):
    retention_years: int = Field(3, ge=1, le=30)
    """A person with no business for this many years is listed by `hk privacy due`, for the
    office to decide whether to erase them (PIPL Art. 47: keep data no longer than needed)."""


class DepositRule(Section):
    """Which lines take a deposit (定金) and how much; the first rule that matches a line decides.

    A rule matches a line when every filter it names matches (``service`` code, ``category``,
    ``unit``); a rule naming none matches every line. A matching rule whose amounts are all
    zero says "no deposit", which lets a narrow exception come before a broad rule.
    """

    service: str = Field("", description="catalog code, e.g. BM-LIVEIN")
    category: str = Field("", description="catalog category, e.g. 月嫂")
    unit: Unit | None = Field(None, description="hour, visit, day, month or m2")
    months: int = Field(0, ge=0, le=12, description="this many months of the (discounted) fee")
    percent: int = Field(0, ge=0, le=100, description="this share of the line's amount")
    fixed_fen: Fen = Field(0, description="a fixed amount per line")

    @model_validator(mode="after")
    def _one_amount(self) -> DepositRule:
        given = [k for k in ("months", "percent", "fixed_fen") if getattr(self, k)]
        if len(given) > 1:
            raise ValueError(
                f"a deposit rule takes one of months, percent or fixed_fen, "
                f"not {' and '.join(given)}"
            )
        if self.months and self.unit not in (None, "month"):
            raise ValueError('a deposit in months needs items priced per month (unit = "month")')
        return self

    def matches(self, code: str, category: str, unit: str) -> bool:
        return (
            (not self.service or self.service == code)
            and (not self.category or self.category == category)
            and (self.unit is None or self.unit == unit)
        )


def _default_deposits() -> list[DepositRule]:
    return [
        DepositRule(unit="month", months=1),
        DepositRule(category="月嫂", percent=20),
    ]


class Pricing(Section):
    """How orders and quotes are priced from the catalog (see ``hk.domain.pricing``)."""

    rounding: Literal["fen", "jiao", "yuan"] = Field(
        "fen", description="each line's amount is rounded half up to this"
    )
    min_hours: Decimal = Field(
        Decimal(2), ge=0, description="least hours charged for an hourly service; 0: none"
    )
    minimum: dict[str, Annotated[Decimal, Field(ge=0)]] = Field(
        default_factory=dict,
        description="catalog code or category → least quantity charged, in the item's unit",
    )
    no_tier_discount: list[str] = Field(
        default_factory=list, description="catalog codes or categories member discounts skip"
    )
    deposits: list[DepositRule] = Field(default_factory=_default_deposits)
    """Deposit rules (定金), the first matching one deciding each line."""
    deposit_cap_percent: int = Field(
        100, ge=0, le=100, description="a deposit never exceeds this share of the total"
    )
    free_cancel_hours: int = Field(24, ge=0, description="cancel at least this early: no fee")
    late_cancel_fee_fen: Fen = Field(5000, description="fee for a later cancellation")
    late_cancel_percent: int = Field(
        0, ge=0, le=100, description="or this share of the order, if more"
    )


_CLOSED = re.compile(r"^(\d{4}-\d\d-\d\d)(?:\s*\.\.\s*(\d{4}-\d\d-\d\d))?(?:\s+(.*))?$")


def _closed_days(value: object) -> object:
    """A closure as one text: ``2027-02-16``, ``2027-02-10..2027-02-17``, then an optional
    reason (``2027-02-10..2027-02-17 春节``); a TOML date (unquoted) is read as that day."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if not isinstance(value, str):
        return value
    match = _CLOSED.match(value.strip())
    if not match:
        raise ValueError(
            f"'{value}' is not a day or a range of days; write 2027-02-16 or "
            "2027-02-10..2027-02-17, then a reason if you like"
        )
    first, last, reason = match[1], match[2], (match[3] or "").strip()
    try:
        start = dt.date.fromisoformat(first)
        end = dt.date.fromisoformat(last) if last else start
    except ValueError:
        raise ValueError(f"'{value}' holds a day that is not in the calendar") from None
    if end < start:
        raise ValueError(f"'{value}' ends before it starts")
    days = first if end == start else f"{first}..{last}"
    return f"{days} {reason}" if reason else days


ClosedDays = Annotated[str, BeforeValidator(_closed_days)]


class ClosedSpan(BaseModel):
    """Days the company is closed, both ends included, and why (may be empty)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: dt.date
    end: dt.date
    reason: str = ""

    def covers(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


class Calendar(Section):
    """Days the company sends nobody: holidays (春节), closures, a weekly day off.

    Recurring service (``hk order generate``) creates no order on such a day; an order taken
    by hand is not refused, since an operator who books one knows what they are doing.
    """

    closed: list[ClosedDays] = Field(
        default_factory=list,
        description="days or ranges, e.g. 2027-02-16 or 2027-02-10..2027-02-17 春节",
    )
    closed_weekdays: list[Weekday] = Field(
        default_factory=list, description="closed every week on these days, e.g. sun"
    )

    @field_validator("closed_weekdays")
    @classmethod
    def _each_day_once(cls, days: list[Weekday]) -> list[Weekday]:
        twice = duplicates(list(days))
        if twice:
            raise ValueError("weekday listed twice: " + ", ".join(twice))
        return days

    def spans(self) -> list[ClosedSpan]:
        """The closures of ``closed``, as typed, in the order given."""
        out = []
        for text in self.closed:
            days, _, reason = text.partition(" ")
            first, _, last = days.partition("..")
            start = dt.date.fromisoformat(first)
            out.append(
                ClosedSpan(
                    start=start,
                    end=dt.date.fromisoformat(last) if last else start,
                    reason=reason.strip(),
                )
            )
        return out

    def closed_on(self, day: dt.date) -> str | None:
        """Why the company is closed on ``day`` (``春节``, ``每周日休息`` …), or None if open.

        A closure without a reason still answers a text (``公司休息日``), so the result is
        truthy exactly when the day is closed.
        """
        for span in self.spans():
            if span.covers(day):
                return span.reason or "公司休息日"
        if WEEKDAYS[day.weekday()] in self.closed_weekdays:
            return f"每周{'一二三四五六日'[day.weekday()]}休息"
        return None


Latitude = Annotated[float, Field(ge=-90, le=90)]
Longitude = Annotated[float, Field(ge=-180, le=180)]
Coordinates = tuple[Latitude, Longitude]
"""(latitude, longitude) in degrees, WGS-84 as a phone's map shows them."""


class MatchWeights(Section):
    """How much each factor counts when ranking candidates for a long-term placement.

    Each factor scores 0–1 and is multiplied by its weight; the weights need not add up to
    100, but then the total is still shown out of their sum.
    """

    skills: int = Field(25, ge=0, le=100, description="the role's skills, and their levels")
    certificates: int = Field(15, ge=0, le=100, description="certificates valid over the term")
    experience: int = Field(15, ge=0, le=100, description="years of experience")
    rating: int = Field(15, ge=0, le=100, description="customers' scores of her past work")
    fit: int = Field(
        10, ge=0, le=100, description="native place, dialect and cooking the customer prefers"
    )
    age: int = Field(5, ge=0, le=100, description="inside the customer's age range")
    available: int = Field(10, ge=0, le=100, description="free from the day the role starts")
    distance: int = Field(5, ge=0, le=100, description="lives near the customer")


class Dispatch(Section):
    """Daily routing (派工) and placement matching, SPEC §5.

    Travel time is the straight-line distance × ``detour`` ÷ ``speed_kmh``: close enough for
    a city's housekeeping rounds by e-bike, bus or metro, and needs no map service. An
    address without coordinates takes those of its community (小区), else its district,
    from ``places``.
    """

    speed_kmh: float = Field(15, gt=0, le=120, description="average door-to-door speed")
    detour: float = Field(1.4, ge=1, le=5, description="road distance ÷ straight line")
    places: dict[str, Coordinates] = Field(
        default_factory=dict,
        description="community or district → [lat, lon], for addresses without coordinates",
    )
    day: TimeRange = Field(
        "08:00-20:00", description="working hours of a worker with no weekly hours"
    )
    max_jobs: int = Field(5, ge=1, le=50, description="jobs per worker per day, at most")
    max_hours: float = Field(8, gt=0, le=24, description="hours of service per worker per day")
    lunch: TimeRange = Field("11:30-13:30", description="when a lunch break may start")
    lunch_minutes: int = Field(
        0, ge=0, le=180, description="lunch break for a day spanning it; 0: none"
    )
    preferred_minutes: int = Field(
        30,
        ge=0,
        le=240,
        description="extra travel worth accepting to send the customer's preferred worker",
    )
    continuity_minutes: int = Field(
        15,
        ge=0,
        le=240,
        description="extra travel worth accepting to send a worker who served them before",
    )
    continuity_days: int = Field(180, ge=1, description="how far back 'served before' looks")
    time_limit_s: float = Field(8, gt=0, le=600, description="the planner stops by then")
    match: MatchWeights = Field(default_factory=MatchWeights)
    """How much each factor counts when ranking candidates for a placement."""

    @field_validator("places")
    @classmethod
    def _named(cls, places: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        blank = [name for name in places if not name.strip()]
        if blank:
            raise ValueError("a place needs a name (a community or a district)")
        return places


Audience = Literal["office", "customers", "workers"]
ChannelKind = Literal["stdout", "email", "wecom", "dingtalk", "webhook"]
CHANNEL_FIELDS: dict[str, frozenset[str]] = {
    "stdout": frozenset(),
    "email": frozenset(
        {
            "host",
            "port",
            "security",
            "user",
            "password_env",
            "password_file",
            "sender",
            "to",
            "ca_file",
            "timeout_s",
        }
    ),
    "wecom": frozenset({"url", "url_env", "url_file", "format", "per_minute", "timeout_s"}),
    "dingtalk": frozenset(
        {
            "url",
            "url_env",
            "url_file",
            "secret_env",
            "secret_file",
            "format",
            "per_minute",
            "timeout_s",
        }
    ),
    "webhook": frozenset({"url", "url_env", "url_file", "secret_env", "secret_file", "timeout_s"}),
}
"""The keys each kind of channel takes, besides name, kind and audiences."""
CHANNEL_AUDIENCES: dict[str, frozenset[str]] = {
    "stdout": frozenset({"office", "customers", "workers"}),
    "email": frozenset({"office"}),
    "wecom": frozenset({"office", "workers"}),
    "dingtalk": frozenset({"office", "workers"}),
    "webhook": frozenset({"office", "customers", "workers"}),
}
"""Who each kind can reach: hk keeps no e-mail address of customers or workers, and a group
chat is no place for a customer's messages (a workers' group is: each message @-mentions one
worker by phone)."""


class NotifyChannel(Section):
    """One way reminders go out (``[[notify.channels]]``), SPEC §1: the digest the operator
    reads in the morning, and messages to customers and workers.

    Secrets never go into ``hk.toml`` (it is committed and pushed): a password, a DingTalk
    signing secret or a webhook token is read from an environment variable (``*_env``) or a
    file outside the archive (``*_file``). A group bot's URL holds its key too, so it may be
    given the same way (``url_env``, ``url_file``) instead of ``url``.
    """

    name: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$",
        description="names the channel in the sent log; a new name sends again",
    )
    kind: ChannelKind = Field(description="stdout, email, wecom, dingtalk or webhook")
    audiences: list[Audience] = Field(
        default_factory=lambda: list[Audience](["office"]),
        description="office (the digest), customers, workers",
    )
    host: str = Field("", description="email: the SMTP server")
    port: int = Field(0, ge=0, le=65535, description="email: 0 means 465 (ssl), 587, or 25")
    security: Literal["starttls", "ssl", "none"] = "starttls"
    """email: starttls, ssl (implicit TLS) or none."""
    user: str = Field("", description="email: login name, if the server asks for one")
    password_env: str = Field("", description="email: variable holding the password")
    password_file: str = Field("", description="email: file (outside the archive) holding it")
    sender: str = Field("", description="email: From address")
    to: list[str] = Field(default_factory=list, description="email: the office's addresses")
    ca_file: str = Field("", description="email: CA certificates for a private server")
    url: str = Field(
        "",
        description="webhook URL (a group bot's includes its key)",
        json_schema_extra={"secret": True},
    )
    url_env: str = Field("", description="variable holding the URL")
    url_file: str = Field("", description="file (outside the archive) holding the URL")
    secret_env: str = Field("", description="DingTalk signing secret, or a webhook's token")
    secret_file: str = Field("", description="the same, from a file outside the archive")
    format: Literal["markdown", "text"] = Field("markdown", description="group bots' digest")
    per_minute: int = Field(20, ge=1, le=600, description="group bots allow 20 a minute")
    timeout_s: float = Field(20, gt=0, le=300)
    """Seconds to wait for the server before the delivery counts as failed."""

    def secret_sources(self) -> list[tuple[str, str]]:
        """The secrets this channel reads, as (what, from where): ``("password", "env X")``,
        ``("url", "file ~/.hk/bot")``. Where, never what: the values stay unread here."""
        found = []
        for stem in ("password", "url", "secret"):
            var, path = getattr(self, f"{stem}_env", ""), getattr(self, f"{stem}_file", "")
            if var or path:
                found.append((stem, f"env {var}" if var else f"file {path}"))
        return found

    @model_validator(mode="before")
    @classmethod
    def _no_secret_inline(cls, data: object) -> object:
        if isinstance(data, dict):
            for key in ("password", "secret", "token"):
                if key in data:
                    stem = "password" if key == "password" else "secret"
                    raise ValueError(
                        f"{key} never goes into hk.toml (it is committed and pushed): name an "
                        f"environment variable ({stem}_env) or a file outside the archive "
                        f"({stem}_file)"
                    )
        return data

    @model_validator(mode="after")
    def _fits_kind(self) -> NotifyChannel:
        stray = sorted(
            self.model_fields_set - CHANNEL_FIELDS[self.kind] - {"name", "kind", "audiences"}
        )
        if stray:
            raise ValueError(f"a {self.kind} channel takes no {', '.join(stray)}")
        reach = [a for a in self.audiences if a not in CHANNEL_AUDIENCES[self.kind]]
        if reach:
            raise ValueError(
                f"a {self.kind} channel cannot reach {', '.join(reach)}; it "
                f"reaches {', '.join(sorted(CHANNEL_AUDIENCES[self.kind]))}"
            )
        if not self.audiences or len(set(self.audiences)) != len(self.audiences):
            raise ValueError("audiences lists office, customers or workers, each once")
        if self.kind == "email":
            missing = [k for k in ("host", "sender", "to") if not getattr(self, k)]
            if missing:
                raise ValueError(f"an email channel needs {', '.join(missing)}")
            if self.password_env and self.password_file:
                raise ValueError("give password_env or password_file, not both")
            if self.user and not (self.password_env or self.password_file):
                raise ValueError("a user needs a password: password_env or password_file")
        if self.kind in ("wecom", "dingtalk", "webhook"):
            given = [k for k in ("url", "url_env", "url_file") if getattr(self, k)]
            if len(given) != 1:
                raise ValueError("give the URL one way: url, url_env or url_file")
            if self.url and not self.url.startswith(("https://", "http://")):
                raise ValueError(f"'{self.url}' is not an http(s) URL")
            if self.secret_env and self.secret_file:
                raise ValueError("give secret_env or secret_file, not both")
        return self


class Notify(Section):
    """Where reminders go (``hk remind --send``). No channel: the digest goes to standard
    output, which cron mails to the user running it."""

    channels: list[NotifyChannel] = Field(default_factory=list)
    """Every way reminders go out, each with a name of its own."""
    marketing_consent: list[str] = Field(
        default_factory=lambda: list(DEFAULT_CONSENT_WORDS),
        description="a customer gets greetings and offers only with a consent naming one",
    )

    @field_validator("channels")
    @classmethod
    def _names_once(cls, channels: list[NotifyChannel]) -> list[NotifyChannel]:
        twice = duplicates([c.name for c in channels])
        if twice:
            raise ValueError("channel name used twice: " + ", ".join(twice))
        return channels


KEY_LIST = re.compile(r"^[a-z0-9_+\-]+(,[a-z0-9_+\-]+)*$")
"""Keys as Textual names them (``f3``, ``ctrl+k``, ``escape``), several separated by commas."""


class Tui(Section):
    """The office TUI (``hk`` on a terminal, ``hk tui``): language, theme, key bindings.

    An operator may override any of these for themselves in ``hk.local.toml`` (never
    committed) under the same ``[tui]`` heading; ``hk.toml`` holds the office's defaults.
    """

    language: Literal["", "zh_CN", "en"] = Field(
        "", description="zh_CN or en; empty: the [locale] language"
    )
    theme: Literal["dark", "light"] = Field("dark", description="dark or light")
    keys: dict[str, str] = Field(
        default_factory=dict,
        description='binding id → keys, e.g. customers = "f3,ctrl+k" (F1 lists the ids)',
    )
    refresh_seconds: float = Field(
        2,
        ge=0.5,
        le=600,
        description="how often changes made outside the TUI (CLI, cron, git pull) are looked for",
    )

    @field_validator("keys")
    @classmethod
    def _key_names(cls, keys: dict[str, str]) -> dict[str, str]:
        for binding, value in keys.items():
            if not KEY_LIST.match(value.replace(" ", "").lower()):
                raise ValueError(
                    f"keys for '{binding}': '{value}' is not a list of key names "
                    'such as "f3" or "ctrl+k,f3"'
                )
        return {binding: value.replace(" ", "").lower() for binding, value in keys.items()}


class Settings(Section):
    """The whole of ``hk.toml``, with the operator's ``hk.local.toml`` and ``HK_*`` over it."""

    archive_id: str = Field(description="names this archive's key folder; never change it")
    schema_version: int = 1
    """The layout of this file; hk raises it when a new version changes the meaning of a key."""
    operator: str = Field("", json_schema_extra={"env": "HK_OPERATOR"})
    """Who is recorded as making changes (the ``Operator:`` trailer of each commit).

    Usually set per person, in ``hk.local.toml`` or ``HK_OPERATOR``; ``hk.toml`` may name a
    shared front desk. Empty everywhere: git's ``user.name``, then the login name."""
    key_dir: str = Field("", json_schema_extra={"env": "HK_KEY_DIR"})
    """The folder holding this archive's master key and per-person data keys.

    Empty: ``$XDG_DATA_HOME/hk/keys/<archive_id>``. It belongs to one machine, so it goes in
    ``hk.local.toml`` or ``HK_KEY_DIR``; it must lie outside the archive, which is pushed."""
    lock_timeout_s: float = Field(30, gt=0, le=3600, json_schema_extra={"env": "HK_LOCK_TIMEOUT"})
    """Seconds a write waits for another hk process (cron, the TUI) to finish before giving
    up with exit code 3."""
    company: Company = Field(default_factory=Company)
    """The company as documents and messages name it."""
    locale: Locale = Field(default_factory=Locale)
    """Timezone, currency, language and the phone region."""
    customers: Customers = Field(default_factory=Customers)
    """Customer categories, channels and the lifecycle-stage thresholds."""
    tiers: list[Tier] = Field(
        default_factory=lambda: [
            Tier(name="白银", discount_percent=0),
            Tier(name="黄金", discount_percent=5, min_spend_fen=500000),
            Tier(name="铂金", discount_percent=10, min_spend_fen=2000000),
        ]
    )
    """Membership tiers (会员等级), lowest first."""
    reminders: Reminders = Field(default_factory=Reminders)
    """What `hk remind` lists, and how early."""
    visits: Visits = Field(default_factory=Visits)
    """The return-visit (回访) schedule."""
    points: Points = Field(default_factory=Points)
    """The points ledger (积分) rules."""
    pricing: Pricing = Field(default_factory=Pricing)
    """How orders and quotes are priced from the catalog."""
    calendar: Calendar = Field(default_factory=Calendar)
    """Days the company is closed."""
    quotes: Quotes = Field(default_factory=Quotes)
    """How long a quote holds."""
    dispatch: Dispatch = Field(default_factory=Dispatch)
    """Daily routing and placement matching."""
    tui: Tui = Field(default_factory=Tui)
    """The office TUI: language, theme, key bindings."""
    notify: Notify = Field(default_factory=Notify)
    """Where reminders go."""
    privacy: Privacy = Field(default_factory=Privacy)
    """How long personal data is kept without business."""

    def tier_names(self) -> list[str]:
        return [t.name for t in self.tiers]


LOCAL_ONLY_NOT = frozenset({"archive_id", "schema_version"})
"""Keys that describe the shared archive itself, so ``hk.local.toml`` may not change them."""

PROCESS_ENV: dict[str, str] = {
    "HK_ARCHIVE": "the archive to open, as --archive does (read before any hk.toml is found)",
    "HK_EDITOR": "the editor of `hk edit` and the TUI, before VISUAL and EDITOR",
    "HK_NO_WATCH": "set: never ask the file watcher, stat the files instead",
    "HK_BULK_PAUSE": "for kill tests: a bulk write stops itself (SIGSTOP) once this many of its"
    " files are in place (0: none yet), or after its commit ('commit')",
}
"""``HK_*`` variables that are not settings: they act before an archive is open or steer one
process. With the ``env`` of the fields of :class:`Settings`, these are all hk reads."""


def env_overrides(model: type[BaseModel] = Settings) -> dict[str, tuple[str, ...]]:
    """Each ``HK_*`` variable that overrides a setting → the setting's path in ``model``.

    Read from the fields' ``json_schema_extra={"env": ...}``, so a setting and its variable are
    declared together, once.
    """
    found: dict[str, tuple[str, ...]] = {}
    for name, info in model.model_fields.items():
        extra = info.json_schema_extra
        if isinstance(extra, dict) and isinstance(var := extra.get("env"), str):
            found[var] = (name,)
        kind = info.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            found.update({var: (name, *path) for var, path in env_overrides(kind).items()})
    return found


def is_secret(model: type[BaseModel], name: str) -> bool:
    """Whether field ``name`` of ``model`` holds a secret, shown only masked."""
    extra = model.model_fields[name].json_schema_extra
    return isinstance(extra, dict) and extra.get("secret") is True


def field_docs(model: type[BaseModel]) -> dict[str, str]:
    """What each field of a settings section is for: its ``description``, else the docstring
    written under it. Read from the source only when asked (``hk config show``, the tests),
    since parsing it on every start would cost each command tens of milliseconds."""
    import ast
    import inspect
    import itertools
    import textwrap

    docs = {name: info.description or "" for name, info in model.model_fields.items()}
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(model)))
    except (OSError, TypeError):  # no source (a frozen build): the descriptions alone
        return docs
    body = tree.body[0].body if tree.body and isinstance(tree.body[0], ast.ClassDef) else []
    for node, after in itertools.pairwise(body):
        if (
            isinstance(node, ast.AnnAssign)
            and isinstance(node.target, ast.Name)
            and isinstance(after, ast.Expr)
            and isinstance(after.value, ast.Constant)
            and isinstance(after.value.value, str)
            and not docs.get(node.target.id)
        ):
            docs[node.target.id] = inspect.cleandoc(after.value.value)
    return docs
