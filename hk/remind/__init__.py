"""Reminders (SPEC §4): the items due on a day, and the channels that send them.

- :mod:`hk.remind.config` — what ``hk.toml`` says about reminders, read without Pydantic;
- :mod:`hk.remind.gather` — the day's items from the index (the rules are
  :mod:`hk.domain.reminders`);
- :mod:`hk.remind.sentlog` — what was sent: one committed file per run, and a local cache;
- :mod:`hk.remind.messages` — the office digest and per-person messages, from templates;
- :mod:`hk.remind.channels` — stdout, e-mail (SMTP), WeCom and DingTalk group bots, webhooks;
- :mod:`hk.remind.send` — ``hk remind --send``: each occasion once per channel;
- :mod:`hk.remind.listing` — the table and JSON of ``hk remind`` and ``--dry-run``;
- :mod:`hk.remind.ics` — ``hk calendar export``; :mod:`hk.remind.cron` — the crontab line.
"""
