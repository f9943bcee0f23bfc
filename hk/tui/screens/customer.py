"""A customer's page (客户 360): who they are, their home, what they want and must not have,
what they agreed to, and everything they ordered, signed and said about us.

Enter on a contract opens the worker placed there.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text

from hk.domain.fields import format_phone
from hk.domain.layout import Kind
from hk.domain.money import format_money
from hk.tui.format import address_line, joined
from hk.tui.keys import bind
from hk.tui.screens.record import RecordScreen, tab_keys
from hk.tui.widgets.fields import Pair, TextPanel
from hk.tui.widgets.results import ResultTable

if TYPE_CHECKING:
    from hk.store.archive import Archive
    from hk.tui.data.pages import Page

SENSITIVE = ("id_number", "health_notes", "children_details")


class CustomerScreen(RecordScreen):
    """One customer's page, by ID."""

    TITLE_KEY: ClassVar[str] = "screen.customer"
    KIND: ClassVar[Kind] = "customer"
    TABS: ClassVar[list[str]] = [
        "profile",
        "orders",
        "contracts",
        "visits",
        "complaints",
        "surveys",
        "history",
    ]
    BINDINGS: ClassVar[list[Any]] = [
        *tab_keys(TABS),
        bind("n", "new_order", "new_order"),
        bind("c", "consent", "consent_add"),
        bind("C", "withdraw_consent", "consent_withdraw"),
    ]
    PANELS: ClassVar[tuple[str, ...]] = (
        "basics",
        "points",
        "addresses",
        "household",
        "preferences",
        "taboos",
        "workers",
        "consents",
        "sensitive",
        "notes",
    )
    PROFILE_HELP: ClassVar[str] = "help.profile"

    def show(self, found: Page) -> None:
        t = self.texts
        data = found.data
        self.panel("panel-basics").show(self._basics(found))
        self.panel("panel-points").show(self._points(found.points))
        self.panel("panel-addresses").show(self._addresses(data))
        self.panel("panel-household").show(self._household(data))
        self.panel("panel-preferences").show(self._preferences(data.get("preferences", {})))
        self.panel("panel-taboos").show([("•", taboo) for taboo in data.get("taboos", [])])
        names = found.names
        workers: list[Pair] = []
        if data.get("preferred_workers"):
            workers.append(
                (t("page.preferred"), joined([names.get(w, w) for w in data["preferred_workers"]]))
            )
        if data.get("blocked_workers"):
            workers.append(
                (
                    t("page.blocked"),
                    Text(joined([names.get(w, w) for w in data["blocked_workers"]]), style="red"),
                )
            )
        self.panel("panel-workers").show(workers)
        self.panel("panel-consents").show(self._consents(data))
        sensitive = self.panel("panel-sensitive")
        sensitive.border_subtitle = t("page.revealed" if found.revealed else "page.masked")
        sensitive.show(
            [
                (t(f"f.{key}"), Text(str(data[key]), style="red" if found.revealed else "dim"))
                for key in SENSITIVE
                if data.get(key)
            ]
        )
        self.query_one("#panel-notes", TextPanel).update(Text(data.get("notes", "")))
        self.query_one("#contracts-table", ResultTable).show_rows(
            [
                (f"{i}:{c.get('worker') or ''}", self._contract(c, names))
                for i, c in enumerate(found.contracts)
            ]
        )
        self.query_one("#surveys-table", ResultTable).show_rows(
            [(f"s{i}", self._survey(s)) for i, s in enumerate(found.surveys)]
        )
        self.query_one("#visits-table", ResultTable).show_rows(
            [(f"v{i}", self._visit(v)) for i, v in enumerate(found.visits)]
        )
        self.query_one("#complaints-table", ResultTable).show_rows(
            [(f"c{i}", self._complaint(c, names)) for i, c in enumerate(found.complaints)]
        )

    def _visit(self, visit: dict[str, Any]) -> list[Text | str]:
        from hk.domain.visit.model import STATUS_ZH, TYPE_ZH

        t = self.texts
        late = visit["status"] == "due" and visit["due"] < self.hk.today().isoformat()
        status = Text(t.label(STATUS_ZH, visit["status"]), style="red" if late else "")
        return [
            visit["due"],
            t.label(TYPE_ZH, visit["type"]),
            status,
            visit.get("reason") or "",
            (visit.get("done_at") or "")[:10],
        ]

    def _complaint(self, complaint: dict[str, Any], names: dict[str, str]) -> list[Text | str]:
        from hk.domain.complaint import CATEGORY_ZH, SEVERITY_ZH, STATUS_ZH

        t = self.texts
        open_ = complaint["status"] in ("open", "in_progress")
        worker = complaint.get("worker") or ""
        return [
            complaint["received_at"][:10],
            t.label(CATEGORY_ZH, complaint["category"]),
            t.label(SEVERITY_ZH, complaint["severity"]),
            Text(t.label(STATUS_ZH, complaint["status"]), style="yellow" if open_ else ""),
            names.get(worker, worker),
            (complaint.get("closed_at") or "")[:10],
        ]

    def _basics(self, found: Page) -> list[Pair]:
        t = self.texts
        data = found.data
        referrer = data.get("referrer")
        pairs: list[tuple[str, Any]] = [
            (t("f.phones"), joined([format_phone(p) for p in data.get("phones", [])], "  ")),
            (t("f.wechat"), data.get("wechat", "")),
            (t("f.category"), data.get("category", "")),
            (t("f.tier"), data.get("tier", "")),
            (t("f.stage"), t(f"stage.{found.stage}") if found.stage else ""),
            (t("f.channel"), data.get("channel", "")),
            (t("f.referrer"), found.names.get(referrer, referrer) if referrer else ""),
            (t("f.birthday"), str(data.get("birthday") or "")),
            (t("f.tags"), joined(data.get("tags", []))),
            (t("f.created"), str(data.get("created", ""))[:10]),
        ]
        return [(label, value) for label, value in pairs if value]

    def _points(self, points: dict[str, Any]) -> list[Pair]:
        """Balance, what expires within 30 days, the latest entries (积分)."""
        t = self.texts
        pairs: list[Pair] = [
            (t("points.balance"), Text(t("points.value", n=points.get("balance", 0)), style="bold"))
        ]
        soon = points.get("expiring", [])
        if soon:
            pairs.append(
                (
                    t("points.expiring"),
                    Text(
                        t.join_clauses(
                            [
                                t("points.expiring_on", n=lot["points"], day=lot["expires"])
                                for lot in soon
                            ]
                        ),
                        style="yellow",
                    ),
                )
            )
        for entry in points.get("entries", []):
            pairs.append(
                (
                    entry["at"][:10],
                    f"{t('points.' + entry['type'])} {int(entry['points']):+d}  {entry['reason']}",
                )
            )
        return pairs

    def _addresses(self, data: dict[str, Any]) -> list[Pair]:
        t = self.texts
        pairs: list[Pair] = []
        for i, address in enumerate(data.get("addresses", []), 1):
            pairs.append((address.get("label") or str(i), address_line(address)))
            if address.get("access_notes"):
                pairs.append(
                    (
                        "",
                        Text(
                            t.labelled(t("f.access_notes"), address["access_notes"]), style="italic"
                        ),
                    )
                )
        return pairs

    def _household(self, data: dict[str, Any]) -> list[Pair]:
        t = self.texts
        today = self.hk.today()
        pairs: list[Pair] = []
        for member in data.get("household", []):
            parts = []
            if member.get("birth_year"):
                year = int(member["birth_year"])
                parts.append(f"{year}{t.paren(t('page.age', age=today.year - year))}")
            if member.get("notes"):
                parts.append(member["notes"])
            if member.get("care_notes"):
                parts.append(t.labelled(t("f.care_notes"), member["care_notes"]))
            pairs.append((member.get("relation", ""), t.join_clauses(parts)))
        return pairs

    def _preferences(self, prefs: dict[str, Any]) -> list[Pair]:
        t = self.texts
        low, high = prefs.get("worker_age_min"), prefs.get("worker_age_max")
        age = f"{low or ''}–{high or ''}" if low or high else ""
        pairs = [
            (t("f.worker_gender"), prefs.get("worker_gender") or ""),
            (t("f.worker_age"), age),
            (t("f.native_places"), joined(prefs.get("native_places", []))),
            (t("f.dialects"), joined(prefs.get("dialects", []))),
            (t("f.skills"), joined(prefs.get("skills", []))),
            (t("f.cleaning_agents"), prefs.get("cleaning_agents", "")),
            (t("f.cooking_taste"), prefs.get("cooking_taste", "")),
        ]
        return [(label, value) for label, value in pairs if value]

    def _consents(self, data: dict[str, Any]) -> list[Pair]:
        t = self.texts
        pairs: list[Pair] = []
        for consent in data.get("consents", []):
            words = [
                consent.get("scope", ""),
                str(consent.get("date", "")),
                consent.get("method", ""),
            ]
            line = Text(" · ".join(w for w in words if w))
            if consent.get("withdrawn"):
                line = Text(
                    f"{line.plain} · {t('page.withdrawn', day=consent['withdrawn'])}",
                    style="strike dim",
                )
            pairs.append((consent.get("purpose", ""), line))
        return pairs

    def _contract(self, contract: dict[str, Any], names: dict[str, str]) -> list[Text | str]:
        from hk.domain.contract import TYPE_ZH

        t = self.texts
        kind = contract.get("contract_type", "")
        worker = str(contract.get("worker") or "")
        fee = format_money(int(contract.get("service_fee_fen") or 0))
        return [
            contract.get("number") or "",
            TYPE_ZH.get(kind, kind) if t.zh else kind,
            t.contract_status(contract.get("status", "")),
            contract.get("start", ""),
            contract.get("end", ""),
            names.get(worker, worker),
            fee,
        ]

    def _survey(self, survey: dict[str, Any]) -> list[Text | str]:
        from hk.domain.survey import CHANNEL_ZH, DIMENSIONS

        t = self.texts
        channel = survey.get("channel", "")
        scores = "/".join(str(survey.get(d, "")) for d in DIMENSIONS)
        nps = survey.get("nps")
        return [
            str(survey.get("at", ""))[:10],
            CHANNEL_ZH.get(channel, channel) if t.zh else channel,
            scores,
            "" if nps is None else str(nps),
        ]

    def action_new_order(self) -> None:
        """An order for this customer in a form; the orders tab shows it once it is taken."""
        from hk.tui.screens.forms import open_form_screen

        open_form_screen(self, "order", customer=self.record_id)

    def action_consent(self) -> None:
        """Record a consent the customer gave (as ``hk consent add``), in a short form."""
        from hk.domain.common import PURPOSES
        from hk.services.consent import ConsentGiven, add_consent
        from hk.tui.screens.dialogs import Field, FormDialog

        t = self.texts
        record_id = self.record_id
        purposes = tuple((key, t(f"consent.{key}")) for key in PURPOSES)
        fields = [
            Field("purpose", t("consent.purpose"), "sensitive", purposes),
            Field("how", t("consent.how")),
            Field("scope", t("consent.scope")),
        ]

        def given(values: dict[str, str] | None) -> None:
            if values is None:
                return
            consent = ConsentGiven(values["purpose"], values.get("scope", ""), values["how"])

            def job(archive: Archive) -> object:
                return add_consent(archive, record_id, consent)

            self.work("consent", job, lambda _: self._consents_changed("consent.added"))

        self.app.push_screen(FormDialog(t("consent.title"), fields, t("consent.hint")), given)

    def action_withdraw_consent(self) -> None:
        """Withdraw one of the customer's consents in force (as ``hk consent withdraw``)."""
        from hk.domain.common import PURPOSES, Consent
        from hk.services.consent import withdraw_consent
        from hk.tui.screens.dialogs import ChoiceDialog

        t = self.texts
        record_id = self.record_id
        today = self.hk.today()
        data = self.page.data if self.page else {}
        consents = [Consent.model_validate(c) for c in data.get("consents", [])]
        in_force = [c for c in consents if c.in_force(today)]
        if not in_force:
            self.notify(t("consent.none"), timeout=5)
            return
        keys = [next((k for k in PURPOSES if c.is_for(k)), c.purpose) for c in in_force]
        choices = [
            (key, f"{c.purpose} · {c.method} · {c.date}")
            for key, c in zip(keys, in_force, strict=True)
        ]

        def chosen(purpose: str | None) -> None:
            if purpose is None:
                return

            def job(archive: Archive) -> object:
                return withdraw_consent(archive, record_id, purpose, today)

            self.work("consent", job, lambda _: self._consents_changed("consent.withdrawn"))

        self.app.push_screen(ChoiceDialog(t("consent.withdraw_title"), choices), chosen)

    def _consents_changed(self, key: str) -> None:
        self.notify(self.texts(key), timeout=5)
        self.hk.generation += 1
        self.load()

    def on_result_table_chosen(self, event: ResultTable.Chosen) -> None:
        event.stop()
        worker = event.record_id.partition(":")[2]
        if event.table.id == "contracts-table" and worker:
            self.hk.open_record("worker", worker)
