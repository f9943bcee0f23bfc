"""What the settings say about reminders, in the plain objects gathering and sending take.

Built from the loaded :class:`hk.domain.settings.Settings` (``hk.toml`` with the operator's
``hk.local.toml`` and ``HK_*`` over it, read by ``hk.store.settings``), never from the file.
"""

from __future__ import annotations

from hk.domain.reminders import DEFAULT_CONSENT_WORDS, Leads

TYPE_CHECKING = False
if TYPE_CHECKING:
    from hk.domain.settings import Settings
    from hk.domain.visit.owed import Rules

AUDIENCE_OF = {"office": "office", "customers": "customer", "workers": "worker"}
"""Audiences as ``hk.toml`` and ``--audience`` name them → as reminder items name them."""


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

    def channels_for(self, audience: str) -> list[ChannelInfo]:
        return [c for c in self.channels if audience in c.audiences]
