"""``hk remind --send``: every due occasion once per channel, however often cron runs.

One run, on one machine at a time (``.git/hk/remind.lock``):

1. commit the run file a killed run left behind, if any;
2. gather the day's items (:mod:`hk.remind.gather`) and look up what already went out
   (:mod:`hk.remind.sentlog`);
3. for each channel, in the order ``hk.toml`` lists them, render the messages of what it has
   not sent yet (:mod:`hk.remind.messages`) and deliver them one by one; after each delivery,
   rewrite this run's file with what went out (atomically, under the archive lock), so a kill
   at any point re-sends nothing that was delivered;
4. commit the run file: one commit per run.

A channel that fails is reported; the rest of the channels still send, the failed messages
stay unrecorded and go out on the next run. Three failures in a row on one channel stop it
for this run (it is down; no point hammering it). The archive lock is held only while the run
file is written and committed, never while a message is on its way.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

from hk.errors import HkError
from hk.remind.config import AUDIENCE_OF
from hk.remind.sentlog import SENT_DIR, SentLog, encode, run_path
from hk.store.lock import archive_lock
from hk.store.writer import commit_logs, write_log

if TYPE_CHECKING:
    from hk.domain.reminders import Due
    from hk.domain.settings import NotifyChannel
    from hk.remind.config import RemindConfig
    from hk.remind.gather import Found
    from hk.remind.messages import Message
    from hk.store.archive import Archive

STOP_AFTER_FAILURES = 3


@dataclass
class Failure:
    """A delivery that did not happen: which channel, why, how many occasions wait for it."""

    channel: str
    error: str
    occasions: int


@dataclass
class Outcome:
    """What a run did: occasions sent per channel, failures, the commit (if any)."""

    sent: dict[str, int] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    commit: str | None = None
    path: str | None = None
    broken: dict[str, str] = field(default_factory=dict)
    reached: dict[tuple[str, str, str], set[str]] = field(default_factory=dict)
    """(channel, channel kind, audience) → the people whose data the messages carried"""

    @property
    def total(self) -> int:
        return sum(self.sent.values())


class RunFile:
    """This run's entry in the sent log, rewritten after every delivery."""

    def __init__(self, archive: Archive, day: dt.date, started: dt.datetime) -> None:
        from hk.domain.ids import new_id

        self.archive = archive
        run = new_id()
        self.path = run_path(run, started)
        self.data: dict[str, object] = {
            "run": run,
            "date": day.isoformat(),
            "started": started.isoformat(),
            "operator": archive.operator(),
            "sent": [],
        }
        self.entries: list[dict[str, str]] = []

    def record(self, channel: str, message: Message, at: dt.datetime) -> None:
        self.entries += [
            {
                "occasion": key,
                "channel": channel,
                "audience": message.audience,
                "at": at.isoformat(),
            }
            for key in message.keys
        ]
        self.data["sent"] = self.entries
        write_log(self.archive, self.path, encode(self.data))


def _now(tz: str) -> dt.datetime:
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo(tz)).replace(microsecond=0)


def default_channel() -> NotifyChannel:
    from hk.domain.settings import NotifyChannel

    return NotifyChannel(name="stdout", kind="stdout")


def send(
    archive: Archive,
    day: dt.date,
    config: RemindConfig,
    audiences: tuple[str, ...],
    out: IO[str] | None = None,
) -> Outcome:
    """Send what is due on ``day`` and not yet sent, to ``audiences``; see the module text."""
    from hk.remind.gather import gather

    outcome = Outcome()
    settings = archive.settings
    channels = list(settings.notify.channels) or [default_channel()]
    with archive_lock(archive.hk_dir / "remind.lock", archive.settings.lock_timeout_s):
        leftovers = uncommitted_runs(archive)
        found = gather(archive.index, day, config)
        log = SentLog(archive.root)
        try:
            outcome.broken = log.refresh()
            sent = log.sent(i.key for i in found.items)
        finally:
            log.close()
        run = RunFile(archive, day, _now(config.timezone))
        try:
            for channel in channels:
                reach = {AUDIENCE_OF[a] for a in channel.audiences} & set(audiences)
                todo = [
                    i
                    for i in found.items
                    if i.audience in reach and channel.name not in sent.get(i.key, ())
                ]
                if todo:
                    _deliver(archive, found, channel, todo, config, run, outcome, out)
        finally:
            paths = leftovers + ([run.path] if run.entries else [])
            if paths:
                outcome.path = run.path if run.entries else None
                paths += _audit(archive, outcome.reached)
                outcome.commit = commit_runs(archive, paths, _message(outcome, leftovers))
    return outcome


SENT_FIELDS: dict[str, tuple[str, ...]] = {
    "customer": ("name", "appointment"),
    "worker": ("name", "address", "access_notes", "phones"),
    "office": ("name", "address", "phones"),
}
"""The kinds of personal data each audience's messages carry, for the audit trail: a worker's
day names her customers, their addresses and access notes; the office digest names people
and how to reach them."""


def _audit(archive: Archive, reached: dict[tuple[str, str, str], set[str]]) -> list[str]:
    """One audit entry per channel and audience: whose data went out, on which channel;
    written for the run's commit, which holds them with the sent log (their paths)."""
    from hk.services.audit import Access, record

    if not reached:
        return []
    made = record(
        archive,
        *(
            Access(
                "send",
                "worker" if audience == "worker" else "customer",
                sorted(ids),
                SENT_FIELDS.get(audience, ("name",)),
                "stdout" if kind == "stdout" else "channel",
                channel=name,
            )
            for (name, kind, audience), ids in sorted(reached.items())
        ),
        commit=False,
    )
    return [entry.relpath() for entry in made]


def _deliver(
    archive: Archive,
    found: Found,
    channel: NotifyChannel,
    items: list[Due],
    config: RemindConfig,
    run: RunFile,
    outcome: Outcome,
    out: IO[str] | None,
) -> None:
    """Render and deliver one channel's messages, recording each as it goes out."""
    from hk.remind import messages as build
    from hk.remind.channels import ChannelError, Sender, Stdout, sender_for

    sender: Sender
    if channel.kind == "stdout":
        sender = Stdout(channel, archive.root, settings_company(archive), out)
    else:
        sender = sender_for(channel, archive.root, settings_company(archive))
    person_of = {
        i.key: i.person or i.refs.get("customer") or i.refs.get("worker") or "" for i in items
    }
    office = [i for i in items if i.audience == "office"]
    people = [i for i in items if i.audience != "office"]
    queue = build.digest(archive, found, office, config.language, sender.limit) if office else []
    queue += build.personal(archive, found, people, config.language, sender.limit)
    try:
        sender.open()
    except ChannelError as exc:
        outcome.failures.append(Failure(channel.name, str(exc), len(items)))
        return
    in_a_row = 0
    try:
        for n, message in enumerate(queue):
            try:
                sender.send(message)
            except ChannelError as exc:
                in_a_row += 1
                if in_a_row >= STOP_AFTER_FAILURES:
                    waiting = sum(len(m.keys) for m in queue[n:])
                    outcome.failures.append(Failure(channel.name, str(exc), waiting))
                    return
                outcome.failures.append(Failure(channel.name, str(exc), len(message.keys)))
                continue
            in_a_row = 0
            run.record(channel.name, message, _now(config.timezone))
            whose = {person_of[k] for k in message.keys if person_of.get(k)}
            reach = outcome.reached.setdefault(
                (channel.name, channel.kind, message.audience), set()
            )
            reach.update(whose)
            outcome.sent[channel.name] = outcome.sent.get(channel.name, 0) + len(message.keys)
    finally:
        sender.close()


def settings_company(archive: Archive) -> str:
    return archive.settings.company.name


def _message(outcome: Outcome, leftovers: list[str]) -> str:
    parts = [f"{name} {n}" for name, n in outcome.sent.items()]
    subject = f"remind: {outcome.total} sent"
    if parts:
        subject += f" ({', '.join(parts)})"
    if leftovers:
        subject += f"; recorded {len(leftovers)} interrupted run{'s' if len(leftovers) > 1 else ''}"
    return subject


def uncommitted_runs(archive: Archive) -> list[str]:
    """Run files in the working tree that are not committed as they are (a killed run's)."""
    from hk.store import git

    if not (archive.root / SENT_DIR).is_dir():
        return []
    text = git.run(
        archive.root, ["status", "--porcelain=v1", "-z", "--untracked-files=all", "--", SENT_DIR]
    )
    paths = []
    for entry in text.split("\0"):
        if len(entry) > 3 and entry[3:].endswith(".json"):
            paths.append(entry[3:])
    return sorted(paths)


def commit_runs(archive: Archive, paths: list[str], subject: str) -> str:
    """Commit the run files (one commit) through the archive's write path."""
    from hk.store import git

    try:
        return commit_logs(archive, paths, subject)
    except git.GitError as exc:
        raise HkError(
            f"the sent log could not be committed: {exc.message}",
            hint="it is kept in the working tree; the next `hk remind --send` commits it",
        ) from None
