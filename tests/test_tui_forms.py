"""The TUI's forms driven by Pilot on real archives: what a form saves is in a commit, a
problem shows under its own input and nothing is written, a record changed meanwhile is not
overwritten and the operator's input survives, and an order is taken from the board. The
notes' editor runs in a real terminal (tmux), since headless Textual cannot suspend."""

from __future__ import annotations

import datetime as dt
import os
import shlex
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, Select, Static, TextArea

from hk.domain.customer import Customer
from hk.domain.worker import Worker
from hk.errors import InvalidData, Problem
from hk.services.orders.steps import load_order
from hk.services.people import CustomerChange, edit
from hk.services.records import load
from hk.store.archive import Archive
from hk.tui.app import HkApp
from hk.tui.data.forms import TOP, change_of, check, edit_text, messages_of, open_form, save
from hk.tui.screens.customer import CustomerScreen
from hk.tui.screens.dialogs import ChoiceDialog
from hk.tui.screens.forms import FormScreen
from hk.tui.screens.orders import OrdersScreen
from hk.tui.screens.worker import WorkerScreen
from tests.conftest import HK_BIN
from tests.test_tui import drive, type_text
from tests.test_tui_snapshots import TODAY, WANG, ZHANG, build_office, settle
from tests.test_tui_terminal import Tmux
from tests.test_tui_terminal import tmux as tmux  # the fixture


@pytest.fixture
def office(tmp_path: Path) -> Path:
    return build_office(tmp_path / "office")


def git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], check=True, capture_output=True, text=True
    ).stdout


def commits(root: Path) -> int:
    return int(git(root, "rev-list", "--count", "HEAD"))


def form_of(app: HkApp) -> FormScreen:
    screen = app.screen
    assert isinstance(screen, FormScreen)
    return screen


def message(form: FormScreen, name: str) -> str:
    box = form.query_one(f"#msg-{name}", Static)
    return str(box.render()) if box.display else ""


async def fill(pilot: Pilot[Any], form: FormScreen, name: str, text: str) -> None:
    """Type ``text`` into the input ``name`` as the operator would (focus, clear, keys)."""
    box = form.query_one(f"#input-{name}", Input)
    box.focus()
    box.value = ""
    await type_text(pilot, text)


def choose(form: FormScreen, name: str, value: str) -> None:
    form.query_one(f"#input-{name}", Select).value = value


async def open_customer_page(app: HkApp, pilot: Pilot[Any], record_id: str) -> None:
    app.open_record("customer", record_id)
    await settle(pilot)
    assert isinstance(app.screen, CustomerScreen)


# --- new records ----------------------------------------------------------------------------


def test_a_customer_made_in_the_form_is_one_commit_and_its_page_opens(office: Path) -> None:
    before = commits(office)

    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        form = form_of(app)
        await type_text(pilot, "赵六")
        await pilot.press("tab")
        await type_text(pilot, "138 0013 8006")
        choose(form, "category", "保姆")
        choose(form, "tier", "黄金")
        await fill(pilot, form, "district", "青羊区")
        await fill(pilot, form, "community", "清水河小区")
        await fill(pilot, form, "tags", "母婴护理需求 高端客户")
        await fill(pilot, form, "id_number", "510107196809120427")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form, "an ID number without a consent is refused"
        assert "recorded consent" in message(form, "id_number")
        await fill(pilot, form, "consent_sensitive", "纸质签字")
        await pilot.press("ctrl+s")
        await settle(pilot)
        page = app.screen
        assert isinstance(page, CustomerScreen)
        customer, _ = load(Archive(office), Customer, page.record_id)
        assert customer.name == "赵六" and customer.phones == ["+8613800138006"]
        assert customer.category == "保姆" and customer.tier == "黄金"
        assert customer.tags == ["母婴护理需求", "高端客户"]
        assert customer.addresses[0].district == "青羊区"
        assert customer.addresses[0].city == "成都市"
        assert customer.id_number is not None and customer.id_number.token
        assert (
            "510107196809120427"
            not in (office / load(Archive(office), Customer, page.record_id)[1].path).read_text()
        )

    drive(office, scenario)
    assert commits(office) == before + 1
    assert ": create" in git(office, "log", "-1", "--format=%s")


def test_an_invalid_phone_shows_under_the_phones_and_nothing_is_written(office: Path) -> None:
    before = commits(office)

    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        form = form_of(app)
        await type_text(pilot, "赵六")
        await pilot.press("tab")
        await type_text(pilot, "12345")
        await pilot.press("tab")
        await settle(pilot)
        assert "not a valid phone number" in message(form, "phones")
        assert message(form, "name") == ""
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form
        assert "not a valid phone number" in message(form, "phones")
        assert form.query_one("#input-phones", Input).value == "12345"
        assert form.query_one("#input-name", Input).value == "赵六"

    drive(office, scenario)
    assert commits(office) == before


def test_each_problem_shows_under_its_own_input_and_the_rest_at_the_top(office: Path) -> None:
    archive = Archive(office)
    form = open_form(archive, "customer")
    values = {
        **form.values,
        "name": "赵六",
        "id_number": "510107196809120428",
        "tier": "钻石",
        "birthday": "1980-13-40",
    }
    assert set(check(archive, form, values).messages) == {"birthday"}
    del values["birthday"]
    messages = check(archive, form, values).messages
    assert "check digit" in messages["id_number"][0]
    assert "钻石" in messages["tier"][0] and TOP not in messages
    edited = open_form(archive, "customer", ZHANG)
    assert "id_number" not in {f.name for f in edited.fields}  # sealed: never shown to edit
    refused = InvalidData(
        [
            Problem("the window is wrong", field="window.end"),
            Problem("something else", field="elsewhere"),
        ]
    )
    order = open_form(archive, "order", customer=ZHANG, today=TODAY)
    assert messages_of(order, refused) == {
        "start": ["the window is wrong"],
        TOP: ["elsewhere: something else"],
    }


def test_a_missing_name_is_named_under_the_name(office: Path) -> None:
    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        form = form_of(app)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "required" in message(form, "name")

    drive(office, scenario)


def test_a_worker_made_in_the_form_keeps_skills_with_levels(office: Path) -> None:
    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        await pilot.press("f4")
        await settle(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        form = form_of(app)
        await type_text(pilot, "陈阿姨")
        await fill(pilot, form, "birth_year", "1978")
        await fill(pilot, form, "phone", "13900282009")
        await fill(pilot, form, "skills", "保洁:4, 烹饪:3:川菜/粤菜")
        await pilot.press("ctrl+s")
        await settle(pilot)
        page = app.screen
        assert isinstance(page, WorkerScreen)
        worker, _ = load(Archive(office), Worker, page.record_id)
        assert worker.gender == "女" and worker.birth_year == 1978
        assert [(s.name, s.level, s.cuisines) for s in worker.skills] == [
            ("保洁", 4, []),
            ("烹饪", 3, ["川菜", "粤菜"]),
        ]

    drive(office, scenario)


# --- editing --------------------------------------------------------------------------------


def test_an_edit_opens_with_the_record_and_saves_only_what_changed(office: Path) -> None:
    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        app.open_record("worker", WANG)
        await settle(pilot)
        await pilot.press("e")
        await settle(pilot)
        form = form_of(app)
        assert form.query_one("#input-skills", Input).value == "保洁:5, 烹饪:3:川菜"
        await fill(pilot, form, "native_place", "四川广安")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, WorkerScreen)

    drive(office, scenario)
    worker, _ = load(Archive(office), Worker, WANG)
    assert worker.native_place == "四川广安" and len(worker.skills) == 2
    assert "update native_place" in git(office, "log", "-1", "--format=%s")


def test_an_emptied_input_clears_its_field_and_the_others_are_kept(office: Path) -> None:
    edit(Archive(office), "customer", ZHANG, {"birthday": "1980-03-01"})

    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        await open_customer_page(app, pilot, ZHANG)
        await pilot.press("e")
        await settle(pilot)
        form = form_of(app)
        assert form.query_one("#input-birthday", Input).value == "1980-03-01"
        for name in ("tags", "wechat", "birthday"):
            await fill(pilot, form, name, "")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)

    drive(office, scenario)
    customer, _ = load(Archive(office), Customer, ZHANG)
    assert (customer.tags, customer.wechat, customer.birthday) == ([], "", None)
    assert customer.taboos == ["不进书房", "进门穿鞋套"] and customer.preferred_workers == [WANG]
    assert customer.phones == ["+8613800138000", "+8613900139000"]
    assert git(office, "log", "-1", "--format=%s").strip().endswith("update wechat, tags, birthday")


def test_the_form_gives_the_cli_change_for_what_the_operator_changed(office: Path) -> None:
    form = open_form(Archive(office), "customer", ZHANG)
    assert change_of(form, form.values) == CustomerChange(name="张三")  # the name is required
    typed = {**form.values, "tags": " ", "detail": "5栋", "phones": "138 0013 8000, 13700137000"}
    assert change_of(form, typed) == CustomerChange(
        name="张三", tag=[], address="5栋", phone=["+8613800138000", "+8613700137000"]
    )


def test_a_worker_form_reads_as_the_cli_and_clears_the_birth_year(office: Path) -> None:
    archive = Archive(office)
    form = open_form(archive, "worker", WANG)
    values = {**form.values, "birth_year": "", "experience_years": "八年"}
    assert set(check(archive, form, values).messages) == {"experience_years"}
    values.update(experience_years="", skills="保洁:x")
    messages = check(archive, form, values).messages
    assert set(messages) == {"skills"} and "level is a number" in messages["skills"][0]
    values["skills"] = form.values["skills"]
    save(archive, form, values)
    worker, _ = load(Archive(office), Worker, WANG)
    assert (worker.birth_year, worker.experience_years) == (None, 0)
    assert len(worker.skills) == 2 and len(worker.certificates) == 1 and worker.availability


def test_a_save_over_a_record_changed_meanwhile_in_another_field_keeps_both(
    office: Path,
) -> None:
    """Someone else changed the notes while the form was open: the operator's new WeChat is
    merged onto the record as it is now, and nothing of theirs is lost (a clash in the same
    field is refused: see the next test)."""
    before, _ = load(Archive(office), Customer, ZHANG)

    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        await open_customer_page(app, pilot, ZHANG)
        await pilot.press("e")
        await settle(pilot)
        form = form_of(app)
        await fill(pilot, form, "wechat", "zhang_new")
        edit(Archive(office), "customer", ZHANG, {"notes": "别人改的备注"})
        count = commits(office)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CustomerScreen)
        assert commits(office) == count + 1

    drive(office, scenario)
    customer, _ = load(Archive(office), Customer, ZHANG)
    assert customer.wechat == "zhang_new" and customer.notes == "别人改的备注"
    kept = (customer.category, customer.channel, customer.tier)
    assert kept == ("家庭保洁", "老客户介绍", "黄金")
    assert customer.id_number is not None and before.id_number is not None
    assert customer.id_number.token == before.id_number.token  # still sealed, unchanged
    assert "update wechat" in git(office, "log", "-1", "--format=%s")


def test_a_clash_keeps_the_operators_text_and_names_the_other_value(office: Path) -> None:
    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        await open_customer_page(app, pilot, ZHANG)
        await pilot.press("e")
        await settle(pilot)
        form = form_of(app)
        await fill(pilot, form, "wechat", "mine")
        edit(Archive(office), "customer", ZHANG, {"wechat": "theirs"})
        await pilot.press("ctrl+s", "ctrl+r")
        await settle(pilot)
        assert form.query_one("#input-wechat", Input).value == "mine"
        assert "theirs" in message(form, "wechat")

    drive(office, scenario)


def test_escape_asks_before_throwing_typed_input_away(office: Path) -> None:
    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("ctrl+n")
        await settle(pilot)
        form = form_of(app)
        await type_text(pilot, "赵六")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, ChoiceDialog)
        await pilot.press("enter")  # the first choice: keep editing
        await settle(pilot)
        assert app.screen is form and form.query_one("#input-name", Input).value == "赵六"
        await pilot.press("escape", "down", "enter")
        await settle(pilot)
        assert not isinstance(app.screen, FormScreen)

    drive(office, scenario)


# --- orders ---------------------------------------------------------------------------------


def test_an_order_taken_on_the_board_is_priced_saved_and_shown(office: Path) -> None:
    before = commits(office)

    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        await pilot.press("f7")
        await settle(pilot)
        board = app.screen
        assert isinstance(board, OrdersScreen)
        await pilot.press("n")
        await settle(pilot)
        form = form_of(app)
        await type_text(pilot, "张三")
        choose(form, "service", "BJ-HOURLY")
        await fill(pilot, form, "quantity", "3")
        await pilot.press("tab")
        await settle(pilot)
        assert "BJ-HOURLY" in str(form.query_one("#form-preview", Static).render())
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is board and board.span == "tomorrow"
        order_id = board.current_id()
        assert order_id is not None
        order, _ = load_order(Archive(office), order_id)
        assert order.customer == ZHANG and order.status == "pending"
        assert [(line.service, line.quantity) for line in order.lines] == [("BJ-HOURLY", 3)]
        start = order.window.start
        assert (start.date(), start.time()) == (TODAY + dt.timedelta(days=1), dt.time(9))

    drive(office, scenario)
    assert commits(office) == before + 1


def test_a_customer_page_takes_an_order_for_that_customer(office: Path) -> None:
    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        await open_customer_page(app, pilot, ZHANG)
        await pilot.press("n")
        await settle(pilot)
        form = form_of(app)
        code = form.query_one("#input-customer", Input).value
        assert code and code == form.form.values["customer"]
        await fill(pilot, form, "start", "2026")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "not a date and time" in message(form, "start")

    drive(office, scenario)


def test_an_order_goes_to_the_address_chosen_by_its_number(office: Path) -> None:
    archive = Archive(office)
    zhang, _ = load(archive, Customer, ZHANG)
    second = {"city": "成都市", "district": "青羊区", "community": "光华村", "detail": "2栋"}
    edit(
        archive,
        "customer",
        ZHANG,
        {"addresses": [*(a.model_dump() for a in zhang.addresses), second]},
    )

    def orders() -> set[str]:
        return {row["id"] for row in Archive(office).index.list("order", ref=ZHANG)}

    before = orders()

    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        await open_customer_page(app, pilot, ZHANG)
        await pilot.press("n")
        await settle(pilot)
        form = form_of(app)
        choose(form, "service", "BJ-HOURLY")
        await fill(pilot, form, "address", "3")
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert "no address 3" in message(form, "address")
        await fill(pilot, form, "address", "2")
        await pilot.press("tab")
        await settle(pilot)
        assert "光华村" in str(form.query_one("#form-preview", Static).render())
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, FormScreen)

    drive(office, scenario)
    (new_id,) = orders() - before
    order, _ = load_order(Archive(office), new_id)
    assert (order.address.district, order.address.community) == ("青羊区", "光华村")


# --- notes in the editor ----------------------------------------------------------------------


def test_the_notes_come_back_from_the_editor(office: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The editor's part without a terminal: headless Textual cannot suspend the app."""
    monkeypatch.setenv("EDITOR", "sh -c 'printf 新备注 > \"$1\"' _")
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("HK_EDITOR", raising=False)
    assert edit_text("旧备注") == "新备注"
    form = open_form(Archive(office), "customer", ZHANG)
    assert form.values["notes"] == "每周二上午保洁；钥匙在物业。"


def test_in_a_real_terminal_ctrl_e_writes_the_notes_in_the_editor(
    office: Path, tmux: Tmux, monkeypatch: pytest.MonkeyPatch
) -> None:
    """hk in tmux: the TUI suspends, the editor (a script here) writes the notes, the TUI
    comes back with them in the form, and Ctrl+S saves them."""
    monkeypatch.setenv("EDITOR", "sh -c 'printf 新备注 > \"$1\"' _")
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("HK_EDITOR", raising=False)
    before = commits(office)
    command = f"{shlex.quote(HK_BIN)} -C {shlex.quote(str(office))}"
    tmux.run("new-session", "-d", "-s", "hk", "-x", "120", "-y", "40", command)
    tmux.wait_for("今天和明天的订单")
    tmux.keys("F3")
    tmux.wait_for("共 3 条")
    tmux.keys("z", "s")
    tmux.wait_for("共 1 条")
    tmux.keys("Enter")
    tmux.wait_for("服务禁忌")
    tmux.keys("e")
    tmux.wait_for("编辑客户")
    tmux.keys("C-e")
    tmux.wait_for("新备注")
    tmux.keys("C-s")
    tmux.wait_for("已保存客户")
    tmux.keys("C-q")
    deadline = time.monotonic() + 10
    while tmux.alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    customer, _ = load(Archive(office), Customer, ZHANG)
    assert customer.notes == "新备注"
    assert commits(office) == before + 1


def test_without_a_terminal_to_suspend_the_notes_stay_as_typed(
    office: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EDITOR", "sh -c 'printf 新备注 > \"$1\"' _")

    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        await open_customer_page(app, pilot, ZHANG)
        await pilot.press("e")
        await settle(pilot)
        form = form_of(app)
        await pilot.press("ctrl+e")
        await settle(pilot)
        assert form.query_one("#input-notes", TextArea).text == "每周二上午保洁；钥匙在物业。"
        assert any("编辑器" in n.message for n in app._notifications)

    drive(office, scenario)
    assert os.environ["EDITOR"].startswith("sh")


# --- reaching the forms -----------------------------------------------------------------------


def test_every_form_is_in_the_command_palette_of_its_page(office: Path) -> None:
    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        expected = {"f3": "new_customer", "f4": "new_worker", "f7": "new_order"}
        for key, binding_id in expected.items():
            await pilot.press(key)
            await settle(pilot)
            ids = {b.binding.id for b in app.screen.active_bindings.values()}
            assert binding_id in ids
        await open_customer_page(app, pilot, ZHANG)
        ids = {b.binding.id for b in app.screen.active_bindings.values()}
        assert {"edit", "new_order"} <= ids

    drive(office, scenario)


def test_the_palette_opens_a_new_customer_form(office: Path) -> None:
    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await type_text(pilot, "新客户")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await settle(pilot)
        assert form_of(app).form.kind == "customer" and form_of(app).form.opened is None

    drive(office, scenario)


def test_the_form_fits_a_small_terminal_by_scrolling(office: Path) -> None:
    async def scenario(app: HkApp, pilot: Pilot[Any]) -> None:
        await pilot.press("f3")
        await settle(pilot)
        await pilot.press("ctrl+n", "ctrl+s")
        await settle(pilot)
        form = form_of(app)
        notes = form.query_one("#input-notes", TextArea)
        notes.focus()
        await settle(pilot)
        assert form.query_one("#form-body").scroll_y > 0
        assert notes.region.bottom <= 24 and notes.region.y >= 1

    drive(office, scenario, size=(80, 24))


def test_in_a_real_terminal_shift_e_opens_the_whole_file_in_the_editor(
    office: Path, tmux: Tmux, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every field, not only those of the form: the record's file in $EDITOR (a script that
    changes the tier here), saved through the write path, the page read again."""
    monkeypatch.setenv("EDITOR", 'sh -c \'sed -i "s/^tier: .*/tier: 白银/" "$1"\' _')
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("HK_EDITOR", raising=False)
    before = commits(office)
    command = f"{shlex.quote(HK_BIN)} -C {shlex.quote(str(office))}"
    tmux.run("new-session", "-d", "-s", "hk", "-x", "120", "-y", "40", command)
    tmux.wait_for("今天和明天的订单")
    tmux.keys("F3")
    tmux.wait_for("共 3 条")
    tmux.keys("z", "s")
    tmux.wait_for("共 1 条")
    tmux.keys("Enter")
    tmux.wait_for("服务禁忌")
    tmux.keys("E")
    tmux.wait_for("已保存：tier")
    tmux.wait_for("白银")
    tmux.keys("C-q")
    deadline = time.monotonic() + 10
    while tmux.alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    customer, _ = load(Archive(office), Customer, ZHANG)
    assert customer.tier == "白银"
    assert commits(office) == before + 1
