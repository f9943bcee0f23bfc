"""``hk sync`` on clones of one archive served by a real git daemon on loopback.

Two operators' stories (different fields of one customer; the same field), the archive left as
it was when a merge would break a record, a push refused because the remote moved, short codes
that collide across clones, and three clones with hundreds of records each synced in every
order: every file valid, no conflict marker in any commit, no lost value, every clone the same.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hk.domain.customer import Customer
from hk.domain.ids import _code_digits, new_id
from hk.domain.order.model import Order
from hk.domain.worker import Worker
from hk.services.doctor import check_archive
from hk.services.history import blobs
from hk.services.orders.money import cancel
from hk.services.orders.steps import OrderRequest, assign, build_order, confirm
from hk.services.people import build_new, edit
from hk.services.records import load_ref
from hk.services.sync import sync as run_sync
from hk.store import attic
from hk.store.archive import Archive
from hk.store.writer import save, save_new_bulk
from tests.conftest import Hk, git, ok
from tests.sync_support import GitServer, git_server, head, office, tree

__all__ = ["git_server"]


def customer(hk: Hk, name: str, phone: str) -> str:
    added = json.loads(ok(hk("customer", "add", "--name", name, "--phone", phone, "--json")).stdout)
    return str(added["code"])


def shown(hk: Hk, code: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(ok(hk("customer", "show", code, "--json")).stdout)
    return data


@pytest.fixture
def pair(git_server: GitServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Hk]:
    """王店长 and 李会计, each with a clone of one archive."""
    return [Hk(r) for r in office(git_server, tmp_path, ["王店长", "李会计"], monkeypatch)]


# --- what a sync refuses --------------------------------------------------------------------


def test_a_sync_without_a_remote_says_how_to_add_one(hk: Hk) -> None:
    result = hk("sync")
    assert result.exit_code == 1
    assert "no remote to sync with" in result.output
    assert "git remote add origin URL" in result.output


def test_a_sync_refuses_hand_edits_git_does_not_have_and_names_them(pair: list[Hk]) -> None:
    a, b = pair
    code = customer(a, "陈淑芬", "13800138000")
    ok(a("sync"))
    ok(b("sync"))
    customer(a, "刘芳", "13700137000")
    ok(a("sync"))
    path = next((b.root / "customers").glob("*.yaml"))
    path.write_text(path.read_text(encoding="utf-8") + "notes: 手改\n", encoding="utf-8")
    before = head(b.root)

    result = b("sync")
    assert result.exit_code == 1
    assert f"customers/{path.name}: changed, not committed" in result.output
    assert "git add" in result.output
    assert head(b.root) == before
    assert "手改" in path.read_text(encoding="utf-8")  # the hand edit is left alone
    del code


def test_an_incoming_record_that_does_not_validate_leaves_the_archive_as_it_was(
    pair: list[Hk],
) -> None:
    a, b = pair
    code = customer(a, "陈淑芬", "13800138000")
    ok(a("sync"))
    ok(b("sync"))
    path = next((a.root / "customers").glob("*.yaml"))
    text = path.read_text(encoding="utf-8").replace("13800138000", "not a phone")
    path.write_text(text, encoding="utf-8")
    git(a.root, "commit", "-qam", "hand edit")
    git(a.root, "push", "-q", "origin", "main")
    customer(b, "刘芳", "13700137000")
    before, files = head(b.root), sorted(p.name for p in (b.root / "customers").iterdir())

    result = b("sync")
    assert result.exit_code == 1
    assert f"customers/{path.name}:" in result.output and "phones" in result.output
    assert head(b.root) == before
    assert sorted(p.name for p in (b.root / "customers").iterdir()) == files
    assert git(b.root, "status", "--porcelain") == ""
    assert shown(b, code)["phones"] == ["+8613800138000"]


# --- different records, pushes that race ----------------------------------------------------


def test_records_made_on_two_clones_are_on_both_after_both_sync(pair: list[Hk]) -> None:
    a, b = pair
    first = customer(a, "陈淑芬", "13800138000")
    second = customer(b, "刘芳", "13700137000")
    ok(a("sync"))
    out = ok(b("sync")).output
    assert "merged origin/main: 1 commit(s)" in out and "pushed 2 commit(s)" in out
    out = ok(a("sync")).output
    assert "fast-forward origin/main" in out
    assert head(a.root) == head(b.root)
    for hk in (a, b):
        assert shown(hk, first)["name"] == "陈淑芬" and shown(hk, second)["name"] == "刘芳"
    message = git(b.root, "log", "-1", "--format=%B")
    assert message.startswith("sync: merge origin/main") and "Operator: 李会计" in message
    assert len(git(b.root, "log", "-1", "--format=%P").split()) == 2
    assert "up to date with origin/main" in ok(a("sync")).output


def test_a_push_refused_because_the_remote_moved_fetches_merges_and_pushes_again(
    git_server: GitServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b, c = (Hk(r) for r in office(git_server, tmp_path, ["甲", "乙", "丙"], monkeypatch))
    customer(b, "陈淑芬", "13800138000")
    customer(c, "刘芳", "13700137000")
    # the moment b has merged and is about to push, c pushes first
    hook = b.root / ".git" / "hooks" / "pre-push"
    hook.write_text(
        f"#!/bin/sh\n[ -e '{tmp_path}/raced' ] && exit 0\ntouch '{tmp_path}/raced'\n"
        f"cd '{c.root}' && git push -q origin main\n",
        encoding="utf-8",
    )
    hook.chmod(0o755)
    ok(b("sync"))
    assert (tmp_path / "raced").exists()
    ok(a("sync"))
    names = {p["name"] for p in json.loads(ok(a("customer", "list", "--json")).stdout)}
    assert names == {"陈淑芬", "刘芳"}
    assert git(b.root, "rev-parse", "origin/main") == git(a.root, "rev-parse", "HEAD")


# --- short codes ----------------------------------------------------------------------------


def colliding_ids() -> tuple[str, str]:
    """Two IDs, an older and a newer, whose 4-character codes are the same."""
    seen: dict[str, str] = {}
    ms = 1_790_000_000_000
    while True:
        ms += 1
        rid = new_id(ms)
        digits = _code_digits(rid)[:4]
        if digits in seen:
            return seen[digits], rid
        seen[digits] = rid


def made(archive: Archive, record_id: str, name: str, phone: str) -> None:
    """A customer with the ID given (the test needs two whose codes collide)."""
    record = build_new(archive, Customer, {"name": name, "phones": [phone]})
    save(archive, record.model_copy(update={"id": record_id}))


def test_codes_that_collide_across_clones_are_settled_the_same_way_everywhere(
    pair: list[Hk],
) -> None:
    a, b = pair
    older, newer = colliding_ids()
    made(Archive(a.root), newer, "新客户", "13600136000")
    made(Archive(b.root), older, "老客户", "13500135000")
    ok(a("sync"))
    ok(b("sync"))
    out = ok(a("sync")).output
    short = "K" + _code_digits(older)[:4]
    longer = "K" + _code_digits(newer)[:5]
    assert f"code changed: customer {short} → {longer} 新客户" in out
    for hk in (a, b):
        rows = json.loads(ok(hk("customer", "list", "--json")).stdout)
        codes = {r["name"]: r["code"] for r in rows}
        assert codes["老客户"] == short and codes["新客户"] == longer


# --- two operators, one customer ------------------------------------------------------------


def test_different_fields_of_one_customer_changed_on_two_clones_are_both_kept(
    pair: list[Hk],
) -> None:
    a, b = pair
    code = customer(a, "陈淑芬", "13800138000")
    ok(a("sync"))
    ok(b("sync"))
    ok(a("customer", "edit", code, "--phone", "13900139000"))
    ok(b("customer", "edit", code, "--tag", "高端客户", "--notes", "周三下午在家"))
    ok(a("sync"))
    out = ok(b("sync")).output
    assert "1 record(s) changed on both sides merged field by field" in out
    assert "attic" not in out
    ok(a("sync"))
    for hk in (a, b):
        data = shown(hk, code)
        assert data["phones"] == ["+8613900139000"]
        assert data["tags"] == ["高端客户"] and data["notes"] == "周三下午在家"
        assert [r["code"] for r in json.loads(ok(hk("customer", "list", "--json")).stdout)] == [
            code
        ]
    assert tree(a.root) == tree(b.root)
    assert ok(a("doctor")).exit_code == 0


def at(env: pytest.MonkeyPatch, when: str) -> None:
    """Commits from now on are made at ``when`` (git's clock, which decides the later writer)."""
    env.setenv("GIT_AUTHOR_DATE", when)
    env.setenv("GIT_COMMITTER_DATE", when)


def test_one_field_changed_on_two_clones_keeps_the_later_value_and_the_other_in_the_attic(
    pair: list[Hk], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = pair
    code = customer(a, "陈淑芬", "13800138000")
    ok(a("sync"))
    ok(b("sync"))
    at(monkeypatch, "2026-12-08T10:00:00+08:00")
    ok(a("customer", "edit", code, "--wechat", "chen_old"))
    at(monkeypatch, "2026-12-08T10:14:00+08:00")
    ok(b("customer", "edit", code, "--wechat", "chen_new"))
    at(monkeypatch, "2026-12-08T11:00:00+08:00")
    ok(a("sync"))
    out = ok(b("sync")).output
    assert (
        f"customer {code} 陈淑芬: wechat changed on both sides; kept 李会计's (2026-12-08 10:14), "
        "王店长's (2026-12-08 10:00) is in the attic"
    ) in out, out
    ok(a("sync"))
    for hk in (a, b):
        assert shown(hk, code)["wechat"] == "chen_new"
        listed = json.loads(ok(hk("conflicts", "--json")).stdout)
        assert [(c["code"], c["field"], c["kept"], c["lost"]) for c in listed] == [
            (code, "wechat", "chen_new", "chen_old")
        ]
        assert (listed[0]["kept_by"], listed[0]["kept_at"][:16]) == ("李会计", "2026-12-08T10:14")
        assert (listed[0]["lost_by"], listed[0]["lost_at"][:16]) == ("王店长", "2026-12-08T10:00")
    assert tree(a.root) == tree(b.root)
    assert ok(a("doctor")).exit_code == 0


def test_the_same_phone_changed_on_two_clones_keeps_one_and_the_other_is_in_hk_conflicts(
    pair: list[Hk], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = pair
    code = customer(a, "陈淑芬", "13800138000")
    ok(a("sync"))
    ok(b("sync"))
    at(monkeypatch, "2026-12-08T10:14:00+08:00")
    ok(a("customer", "edit", code, "--phone", "13900139000"))
    at(monkeypatch, "2026-12-08T10:20:00+08:00")
    ok(b("customer", "edit", code, "--phone", "13700137000"))
    at(monkeypatch, "2026-12-08T11:00:00+08:00")
    ok(a("sync"))
    ok(b("sync"))
    ok(a("sync"))
    for hk in (a, b):
        assert shown(hk, code)["phones"] == ["+8613700137000"]
        out = ok(hk("conflicts")).output
        assert f"customer {code} 陈淑芬" in out and "王店长 2026-12-08 10:14" in out, out
        assert "李会计 2026-12-08 10:20" in out
    listed = json.loads(ok(a("conflicts", "--json")).stdout)
    assert [(c["field"], c["kept_by"], c["lost_by"]) for c in listed] == [
        ("phones", "李会计", "王店长")
    ]
    assert tree(a.root) == tree(b.root)


# --- three clones, hundreds of records, every order of sync ---------------------------------

OPERATORS = ["王店长", "李会计", "张客服"]
ORDERS_OF_SYNC = [(0, 1, 2), (2, 0, 1), (1, 2, 0), (0, 2, 1), (2, 1, 0), (1, 0, 2)]
"""Every order in which three clones can sync, one per round."""
SHARED_CUSTOMERS = 60
SHARED_ORDERS = 30
NEW_CUSTOMERS = 200
NEW_ORDERS = 300
FIELDS = [
    lambda text: ("wechat", "wx_" + text.encode().hex()[-12:]),
    lambda text: ("notes", text),
    lambda text: ("category", "钟点工"),
]
"""The field each clone changes in the rounds where they change different fields."""
MARKER = re.compile(rb"^(<{7}|>{7}|={7})( |$)", re.M)


@dataclass
class Office:
    """Three clones of one archive, and what was written to each (record, field) by whom."""

    clones: list[Archive]
    shared: list[str] = field(default_factory=list)
    orders: list[str] = field(default_factory=list)
    workers: list[str] = field(default_factory=list)
    made: dict[int, list[str]] = field(default_factory=dict)
    written: dict[tuple[str, str], dict[int, Any]] = field(default_factory=dict)
    tags: dict[str, set[str]] = field(default_factory=dict)
    steps: dict[str, dict[int, str]] = field(default_factory=dict)
    created: int = 0
    edits: int = 0

    def set(self, n: int, record_id: str, name: str, value: Any) -> None:
        """Clone ``n`` sets one field of a customer (one commit), noted for the final check."""
        archive = self.clones[n]
        edit(archive, "customer", record_id, {name: value})
        self.written.setdefault((record_id, name), {})[n] = value
        self.edits += 1

    def tag(self, n: int, record_id: str, tag: str) -> None:
        record, loaded = load_ref(self.clones[n], "customer", record_id)
        save(self.clones[n], record.model_copy(update={"tags": [*record.tags, tag]}), loaded)
        self.tags.setdefault(record_id, set()).add(tag)
        self.edits += 1

    def cancel(self, n: int, order_id: str) -> None:
        cancel(self.clones[n], order_id, "客户临时取消", waive_fee=True)
        self.steps.setdefault(order_id, {})[n] = "cancelled"
        self.edits += 1

    def dispatch(self, n: int, order_id: str, worker: str) -> None:
        assign(self.clones[n], order_id, [worker], force=True, reason="同步测试")
        self.steps.setdefault(order_id, {})[n] = "dispatched"
        self.edits += 1

    def sync_round(self, order: tuple[int, ...]) -> None:
        """Each clone syncs in ``order``, then the first two again: all at the same commit."""
        for n in [*order, *order[:2]]:
            run_sync(self.clones[n])


def customers_of(archive: Archive, prefix: str, count: int) -> list[Customer]:
    out = []
    for i in range(count):
        record = build_new(
            archive,
            Customer,
            {
                "name": f"客户{prefix}{i:03d}",
                "phones": [f"13{prefix}{i:07d}"[:11]],
                "addresses": [{"city": "成都市", "district": "武侯区", "detail": f"{i}号"}],
            },
        )
        assert isinstance(record, Customer)
        out.append(record)
    return out


def orders_for(archive: Archive, customers: list[str], count: int, day: int) -> list[Order]:
    start = dt.datetime(2027, 3, 1, 8, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    out = []
    for i in range(count):
        when = start + dt.timedelta(days=day + i // 4, hours=2 * (i % 4))
        order, _ = build_order(
            archive,
            OrderRequest(customers[i % len(customers)], [("BJ-DAILY", None)], when, "phone"),
        )
        out.append(order)
    return out


def setup_office(server: GitServer, tmp_path: Path, env: pytest.MonkeyPatch) -> Office:
    """The owner's archive with workers, shared customers and orders ready for dispatch,
    synced to three clones."""
    roots = office(server, tmp_path, OPERATORS, env)
    owner = Archive(roots[0])
    workers = [
        build_new(owner, Worker, {"name": f"阿姨{i}", "gender": "女", "skills": [{"name": "保洁"}]})
        for i in range(10)
    ]
    shared = customers_of(owner, "90", SHARED_CUSTOMERS)
    save_new_bulk(owner, [*workers, *shared], "test: workers and shared customers")
    orders = orders_for(owner, [c.id for c in shared], SHARED_ORDERS, 0)
    save_new_bulk(owner, orders, "test: shared orders")
    for order in orders:
        confirm(owner, order.id)
    found = Office([owner, *(Archive(r) for r in roots[1:])])
    found.shared = [c.id for c in shared]
    found.orders = [o.id for o in orders]
    found.workers = [w.id for w in workers]
    found.sync_round((0, 1, 2))
    return found


def session(office_: Office, n: int, round_: int) -> None:
    """Clone ``n``'s offline work in one round: every (record, field) is written in one round
    only, by one, two or three clones at once."""
    o, c = office_, office_.shared
    other = (n + 1) % 3
    if round_ == 0:  # 500 new records each; different fields of the same customers
        made = customers_of(o.clones[n], f"1{n}", NEW_CUSTOMERS)
        save_new_bulk(o.clones[n], made, "test: new customers")
        orders = orders_for(o.clones[n], [m.id for m in made], NEW_ORDERS, 40 + 120 * n)
        save_new_bulk(o.clones[n], orders, "test: new orders")
        o.made[n] = [m.id for m in made]
        o.created += len(made) + len(orders)
        for rid in c[:15]:
            o.set(n, rid, *FIELDS[n](f"{OPERATORS[n]}-{rid[-4:]}"))
    elif round_ == 1:  # the same field of the same customers, on two and three clones
        for rid in c[15:25]:
            o.set(n, rid, "wechat", f"wx-{n}-{rid[-4:]}")
        for rid in c[25:30] if n < 2 else []:
            o.set(n, rid, "notes", f"备注{n}")
    elif round_ == 2:  # cancelled on one clone while another dispatches it
        for oid in o.orders[10 * n : 10 * n + 10]:
            o.cancel(n, oid)
        previous = (n + 2) % 3
        for i, oid in enumerate(o.orders[10 * previous : 10 * previous + 10]):
            o.dispatch(n, oid, o.workers[i])
    elif round_ == 3:  # tags on three clones at once (a set); the records another clone made
        for rid in c[30:45]:
            o.tag(n, rid, f"标签{n}")
        for rid in o.made[other][:10]:
            o.set(n, rid, *FIELDS[n](f"{OPERATORS[n]}改"))
    elif round_ == 4:
        for rid in c[45:52]:
            o.set(n, rid, "tier", ("白银", "黄金", "铂金")[n])
    else:
        for rid in c[52:60]:
            o.set(n, rid, ("notes", "wechat", "tier")[n], ("最后一轮", "wx-last", "黄金")[n])


def blobs_with_markers(root: Path) -> list[str]:
    """Every blob of every commit of the clone that holds a conflict marker line."""
    listed = git(root, "rev-list", "--objects", "--all").split("\n")
    names = [line.split(" ", 1)[0] for line in listed if line]
    kinds = subprocess.run(
        ["git", "-C", str(root), "cat-file", "--batch-check"],
        input="\n".join(names) + "\n",
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split("\n")
    shas = [
        line.split()[0] for line in kinds if line.endswith(tuple("0123456789")) and " blob " in line
    ]
    found = []
    for sha, data in zip(shas, blobs(Archive(root), shas), strict=True):
        if data is not None and MARKER.search(data):
            found.append(sha)
    return found


def test_three_clones_with_hundreds_of_records_each_synced_in_every_order_agree_and_lose_nothing(
    git_server: GitServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    o = setup_office(git_server, tmp_path, monkeypatch)
    for round_, order in enumerate(ORDERS_OF_SYNC):
        for n in range(3):
            session(o, n, round_)
        o.sync_round(order)

    roots = [a.root for a in o.clones]
    assert len({tree(r) for r in roots}) == 1, "every clone at the same tree"
    for root in roots:
        report = check_archive(Archive(root))
        assert report.errors == [], [p.render() for p in report.errors[:5]]
        assert blobs_with_markers(root) == []
    entries = [e for path in attic.files(roots[0]) for e in attic.read(roots[0], path)]
    losses = {(e.record, e.field): e for e in entries}
    final = Archive(roots[0])
    lost_fields = 0
    for (rid, name), values in o.written.items():
        record, _ = load_ref(final, "customer", rid)
        kept = getattr(record, name)
        assert kept in values.values(), (rid, name, kept, values)
        for value in values.values():
            if value != kept and not any(
                e.record == rid and e.field == name and e.lost == value for e in entries
            ):
                lost_fields += 1
    for rid, tags in o.tags.items():
        record, _ = load_ref(final, "customer", rid)
        lost_fields += len(tags - set(record.tags))
    outcome: dict[str, int] = {}
    for oid, steps in o.steps.items():
        order, _ = load_ref(final, "order", oid)
        assert order.status in steps.values()
        outcome[order.status] = outcome.get(order.status, 0) + 1
        if set(steps.values()) - {order.status}:
            lost_fields += not any(e.record == oid for e in entries)
    assert lost_fields == 0
    codes = [
        dict(Archive(r).index.db.execute("SELECT id, kind || ' ' || code FROM records"))
        for r in roots
    ]
    assert codes[0] == codes[1] == codes[2]
    assert len(set(codes[0].values())) == len(codes[0]), "no duplicate codes"
    print(
        f"\nthree clones: {o.created} records created, {o.edits} edits, "
        f"{len(entries)} conflicts kept in the attic ({len(losses)} fields), "
        f"{lost_fields} lost fields, {sum(len(blobs_with_markers(r)) for r in roots)} conflict "
        f"markers, {len(codes[0])} records with the same code on every clone; orders both "
        f"cancelled and dispatched: {outcome}"
    )


def test_settings_changed_on_both_sides_in_one_line_stop_the_sync_and_name_the_file(
    pair: list[Hk],
) -> None:
    a, b = pair
    for hk, city in ((a, "重庆市"), (b, "绵阳市")):
        settings = hk.root / "hk.toml"
        text = settings.read_text(encoding="utf-8")
        settings.write_text(text.replace('"成都市"', f'"{city}"', 1), encoding="utf-8")
        git(hk.root, "commit", "-qam", "city")
    ok(a("sync"))
    before = head(b.root)
    result = b("sync")
    assert result.exit_code == 3
    assert "hk.toml" in result.output and "git merge" in result.output
    assert head(b.root) == before and git(b.root, "status", "--porcelain") == ""
    assert "绵阳市" in (b.root / "hk.toml").read_text(encoding="utf-8")


def test_a_conflict_marker_pushed_by_hand_is_never_merged(pair: list[Hk]) -> None:
    a, b = pair
    (a.root / "README.md").write_text("<<<<<<< HEAD\nmine\n=======\ntheirs\n>>>>>>> x\n")
    git(a.root, "add", "README.md")
    git(a.root, "commit", "-qm", "a half-done merge, committed by hand")
    git(a.root, "push", "-q", "origin", "main")
    customer(b, "刘芳", "13700137000")
    before = head(b.root)
    result = b("sync")
    assert result.exit_code == 1
    assert "README.md:1: a conflict marker" in result.output
    assert head(b.root) == before and not (b.root / "README.md").exists()
