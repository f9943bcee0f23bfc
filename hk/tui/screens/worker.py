"""A worker's page (阿姨档案): skills, certificates, weekly hours, leave, employment, orders.

Certificates and insurance that run out within ``[reminders] certificate_days`` show in yellow,
within two weeks or past in red. Enter on an order opens its customer.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text

from hk.domain.fields import format_phone
from hk.domain.layout import Kind
from hk.tui.format import address_line, availability_lines, due, joined
from hk.tui.screens.record import RecordScreen, tab_keys
from hk.tui.widgets.fields import Pair, TextPanel
from hk.tui.widgets.results import ResultTable

if TYPE_CHECKING:
    from hk.tui.data.pages import Page


class WorkerScreen(RecordScreen):
    """One worker's page, by ID."""

    TITLE_KEY: ClassVar[str] = "screen.worker"
    KIND: ClassVar[Kind] = "worker"
    TABS: ClassVar[list[str]] = ["profile", "orders", "history"]
    BINDINGS: ClassVar[list[Any]] = tab_keys(TABS)
    PANELS: ClassVar[tuple[str, ...]] = (
        "basics",
        "skills",
        "certificates",
        "availability",
        "leave",
        "employment",
        "references",
        "notes",
    )
    PROFILE_HELP: ClassVar[str] = "help.worker_profile"

    def __init__(self, record_id: str) -> None:
        super().__init__(record_id)
        self._customer_of: dict[str, str] = {}

    def show(self, found: Page) -> None:
        t = self.texts
        data = found.data
        today = self.hk.today()
        within = self.hk.session.main.settings.reminders.certificate_days
        self.panel("panel-basics").show(self._basics(data, today))
        self.panel("panel-skills").show(
            [
                (
                    skill.get("name", ""),
                    t("page.level", level=skill.get("level", 1))
                    + (f" · {joined(skill['cuisines'])}" if skill.get("cuisines") else ""),
                )
                for skill in data.get("skills", [])
            ]
        )
        certificates: list[Pair] = []
        for cert in data.get("certificates", []):
            line = Text(cert.get("number", "") + " ")
            if cert.get("expires"):
                line.append_text(due(dt.date.fromisoformat(cert["expires"]), today, t, within))
            certificates.append((cert.get("kind", ""), line))
        self.panel("panel-certificates").show(certificates)
        self.panel("panel-availability").show(availability_lines(data.get("availability", {}), t))
        leave: list[Pair] = []
        for span in data.get("leave", []):
            current = span.get("start", "") <= today.isoformat() <= span.get("end", "")
            leave.append(
                (
                    f"{span.get('start')} – {span.get('end')}",
                    Text(span.get("reason", ""), style="bold" if current else ""),
                )
            )
        self.panel("panel-leave").show(leave)
        self.panel("panel-employment").show(self._employment(data, today, within))
        self.panel("panel-references").show(
            [
                (
                    ref.get("employer", ""),
                    t.join_clauses([ref.get("period", ""), ref.get("comment", "")]),
                )
                for ref in data.get("references", [])
            ]
        )
        self.query_one("#panel-notes", TextPanel).update(Text(data.get("notes", "")))
        self._customer_of = {o["id"]: o["customer"] for o in found.orders}

    def _basics(self, data: dict[str, Any], today: dt.date) -> list[Pair]:
        t = self.texts
        born = data.get("birth_year")
        home = data.get("home") or {}
        pairs: list[tuple[str, Any]] = [
            (t("f.status"), t.worker_status(data.get("status", ""))),
            (t("f.gender"), data.get("gender", "")),
            (
                t("f.birth_year"),
                f"{born}{t.paren(t('page.age', age=today.year - int(born)))}" if born else "",
            ),
            (t("f.native_place"), data.get("native_place", "")),
            (t("f.dialects"), joined(data.get("dialects", []))),
            (t("f.phone"), format_phone(data["phone"]) if data.get("phone") else ""),
            (t("f.wechat"), data.get("wechat", "")),
            (
                t("f.id_number"),
                Text(str(data.get("id_number") or ""), style="red" if self.revealed else "dim"),
            ),
            (t("f.home"), address_line(home)),
            (t("f.experience_years"), str(data.get("experience_years") or "")),
        ]
        return [(label, value) for label, value in pairs if value]

    def _employment(self, data: dict[str, Any], today: dt.date, within: int) -> list[Pair]:
        t = self.texts
        pairs: list[Pair] = []
        employment = data.get("employment")
        if employment:
            until = f" – {employment['expires']}" if employment.get("expires") else ""
            pairs.append(
                (
                    t("f.employment"),
                    f"{employment.get('model', '')} {employment.get('start', '')}{until}",
                )
            )
        insurance = data.get("insurance")
        if insurance:
            line = Text(f"{insurance.get('insurer', '')} {insurance.get('policy', '')} ")
            line.append_text(due(dt.date.fromisoformat(insurance["expires"]), today, t, within))
            pairs.append((t("f.insurance"), line))
        credit = data.get("credit_check")
        if credit:
            pairs.append(
                (
                    t("f.credit_check"),
                    f"{credit.get('result', '')} · "
                    f"{credit.get('date', '')} · "
                    f"{credit.get('source', '')}",
                )
            )
        return pairs

    def on_result_table_chosen(self, event: ResultTable.Chosen) -> None:
        event.stop()
        customer = self._customer_of.get(event.record_id)
        if event.table.id == "orders-table" and customer:
            self.hk.open_record("customer", customer)
