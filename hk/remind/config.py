"""What ``hk.toml`` says about reminders, in plain objects both read paths share.

``hk remind --send`` validates the whole of ``hk.toml`` with Pydantic first
(:class:`hk.domain.settings.Settings`) and builds this from the model; the warm listing
(``hk remind``, ``--dry-run``) reads the file with ``tomllib`` alone and builds it from the
raw tables, refusing anything it does not recognise, so that the full CLI reports the problem.
"""

from __future__ import annotations

from hk.domain.reminders import DEFAULT_CONSENT_WORDS, Leads

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from hk.domain.settings import Settings
    from hk.domain.visit.owed import Rules

AUDIENCE_OF = {"office": "office", "customers": "customer", "workers": "worker"}
"""Audiences as ``hk.toml`` and ``--audience`` name them → as reminder items name them."""
KINDS = ("stdout", "email", "wecom", "dingtalk", "webhook")
REMINDER_KEYS = {
    "daily_at": str,
    "contract_end_days": list,
    "certificate_days": int,
    "insurance_days": int,
    "quote_expiry_days": int,
    "complaint_sla_hours": int,
    "package_visits_left": int,
    "birthday_days": int,
}
"""``[reminders]`` as :class:`hk.domain.settings.Reminders` has it (a test keeps them equal)."""


class ChannelInfo:
    """A channel's name, kind and audiences: what listing and deciding what to send need."""

    __slots__ = ("audiences", "kind", "name")

    def __init__(self, name: str, kind: str, audiences: tuple[str, ...]) -> None:
        self.name, self.kind, self.audiences = name, kind, audiences


DEFAULT_CHANNEL = ChannelInfo("stdout", "stdout", ("office",))
"""With no channel configured, the digest goes to standard output (cron mails it)."""


class RemindConfig:
    """Timezone, language, lead times, channels and consent words of one archive."""

    __slots__ = ("channels", "consent_words", "daily_at", "language", "leads", "timezone", "visits")

    def __init__(
        self,
        timezone: str = "Asia/Shanghai",
        language: str = "zh_CN",
        leads: Leads | None = None,
        channels: list[ChannelInfo] | None = None,
        consent_words: tuple[str, ...] = DEFAULT_CONSENT_WORDS,
        daily_at: str = "08:00",
        visits: Rules | None = None,
    ) -> None:
        from hk.domain.visit.owed import Rules

        self.timezone, self.language = timezone, language
        self.leads = leads or Leads()
        self.channels = channels or [DEFAULT_CHANNEL]
        self.consent_words = consent_words
        self.daily_at = daily_at
        self.visits = visits or Rules()

    @classmethod
    def from_settings(cls, settings: Settings) -> RemindConfig:
        r = settings.reminders
        leads = Leads(
            r.contract_end_days,
            r.certificate_days,
            r.insurance_days,
            r.quote_expiry_days,
            r.package_visits_left,
            r.birthday_days,
            settings.customers.lapsed_days,
        )
        channels = [
            ChannelInfo(c.name, c.kind, tuple(AUDIENCE_OF[a] for a in c.audiences))
            for c in settings.notify.channels
        ]
        from hk.domain.visit.owed import Rules

        return cls(
            settings.locale.timezone,
            settings.locale.language,
            leads,
            channels,
            tuple(settings.notify.marketing_consent),
            r.daily_at,
            Rules.of(settings.visits),
        )

    @classmethod
    def from_toml(cls, data: dict[str, Any]) -> RemindConfig:
        """From ``hk.toml`` as ``tomllib`` parsed it; ValueError for anything unexpected."""
        locale = _table(data, "locale")
        reminders = _table(data, "reminders")
        for key, value in reminders.items():
            kind = REMINDER_KEYS.get(key)
            if kind is None or type(value) is not kind:
                raise ValueError(f"[reminders] {key}")
        days = reminders.get("contract_end_days", [30, 7])
        if not all(type(d) is int and d >= 0 for d in days):
            raise ValueError("[reminders] contract_end_days")
        lapsed_days = _table(data, "customers").get("lapsed_days", 90)
        if type(lapsed_days) is not int or lapsed_days <= 0:
            raise ValueError("[customers] lapsed_days")
        leads = Leads(
            days,
            **{
                k: v
                for k, v in reminders.items()
                if k not in ("contract_end_days", "daily_at", "complaint_sla_hours")
            },
            lapsed_days=lapsed_days,
        )
        notify = _table(data, "notify")
        if set(notify) - {"channels", "marketing_consent"}:
            raise ValueError("[notify]")
        channels = [_channel(c) for c in notify.get("channels", [])]
        if len({c.name for c in channels}) != len(channels):
            raise ValueError("[notify] channel names")
        words = notify.get("marketing_consent", list(DEFAULT_CONSENT_WORDS))
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise ValueError("[notify] marketing_consent")
        timezone = locale.get("timezone", "Asia/Shanghai")
        language = locale.get("language", "zh_CN")
        if not isinstance(timezone, str) or language not in ("zh_CN", "en"):
            raise ValueError("[locale]")
        return cls(
            timezone,
            language,
            leads,
            channels,
            tuple(words),
            reminders.get("daily_at", "08:00"),
            _visit_rules(_table(data, "visits")),
        )

    def channels_for(self, audience: str) -> list[ChannelInfo]:
        return [c for c in self.channels if audience in c.audiences]


def _table(data: dict[str, Any], name: str) -> dict[str, Any]:
    table = data.get(name, {})
    if not isinstance(table, dict):
        raise ValueError(f"[{name}]")
    return table


def _visit_rules(table: dict[str, Any]) -> Rules:
    """``[visits]`` as the visit rules take it; ValueError for an unknown key or a wrong type."""
    from dataclasses import fields

    from hk.domain.visit.owed import Rules

    types = {f.name: type(getattr(Rules(), f.name)) for f in fields(Rules)}
    for key, value in table.items():
        if key not in types or type(value) is not types[key]:
            raise ValueError(f"[visits] {key}")
    return Rules(**table)


def _channel(table: object) -> ChannelInfo:
    if not isinstance(table, dict):
        raise ValueError("[[notify.channels]]")
    name, kind = table.get("name"), table.get("kind")
    audiences = table.get("audiences", ["office"])
    if (
        not isinstance(name, str)
        or not name
        or kind not in KINDS
        or not isinstance(audiences, list)
        or not audiences
        or any(a not in AUDIENCE_OF for a in audiences)
    ):
        raise ValueError("[[notify.channels]]")
    return ChannelInfo(name, str(kind), tuple(AUDIENCE_OF[a] for a in audiences))
