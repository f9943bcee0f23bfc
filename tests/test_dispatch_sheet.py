"""Worker sheets (派工日程): each worker's day as a message and as a printable page, her jobs
in time order with the way between them, nothing sensitive unless revealed (SPEC §1, §5, §7)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from hk.dispatch.travel import Travel
from hk.services.audit import Filter, entries
from hk.services.people import add_customer, edit
from hk.store.archive import Archive
from tests.orders_support import DAY, TZ, Shop, make_shop, when

ID_NUMBER = "11010519491231002X"
HOME = (30.600, 104.050)
VANKE = (30.580, 104.060)
"""万科城 (张三's first address) is located by its community, 望江苑 (his second) only by its
district, 锦江区."""
JINJIANG = (30.657, 104.083)
FAR_POINT = (30.800, 103.950)
FAR = {
    "city": "成都市",
    "district": "双流区",
    "community": "航空港",
    "detail": "8栋101",
    "lat": FAR_POINT[0],
    "lon": FAR_POINT[1],
}
DATE = DAY.isoformat()


@pytest.fixture
def shop(archive: Archive, archive_path: Path) -> Shop:
    settings = archive_path / "hk.toml"
    text = settings.read_text(encoding="utf-8")
    text = text.replace('phone = ""', 'phone = "028-8888-6666"', 1)
    text = text.replace(
        '# "桐梓林雅苑" = [30.6227, 104.0703]',
        f'"万科城" = [{VANKE[0]}, {VANKE[1]}]\n"锦江区" = [{JINJIANG[0]}, {JINJIANG[1]}]',
    )
    settings.write_text(text, encoding="utf-8")
    shop = make_shop(Archive(archive_path), archive_path)
    edit(
        shop.archive,
        "customer",
        shop.customer,
        {"id_number": ID_NUMBER, "health_notes": "青霉素过敏", "taboos": ["不进主卧"]},
    )
    edit(
        shop.archive,
        "worker",
        shop.cleaner,
        {
            "home": {
                "city": "成都市",
                "district": "武侯区",
                "detail": "玉林北路1号",
                "lat": HOME[0],
                "lon": HOME[1],
            }
        },
    )
    return shop


def minutes(a: tuple[float, float], b: tuple[float, float]) -> int:
    """The travel model's time, as the sheet rounds it (up to five minutes)."""
    seconds = Travel(detour=1.4, speed_kmh=15).seconds(a, b)
    return -(-int(seconds) // 300) * 5


def km(a: tuple[float, float], b: tuple[float, float]) -> str:
    return f"{Travel(detour=1.4, speed_kmh=15).road_metres(a, b) / 1000:.1f}"


def day_of(shop: Shop) -> tuple[str, str, str]:
    """王秀英's day, taken out of order: 15:00 and 13:00 at 望江苑, 09:00 at 万科城."""
    late = shop.dispatched(
        "--start", when(0, "15:00"), "--service", "BJ-HOURLY:2", "--address", "2"
    )
    noon = shop.dispatched(
        "--start",
        when(0, "13:00"),
        "--service",
        "BJ-HOURLY:2",
        "--address",
        "2",
        "--notes",
        "带梯子",
    )
    first = shop.dispatched("--start", when(0, "09:00"))
    return first, noon, late


def sheet(shop: Shop, *args: str) -> str:
    return str(shop.cli.ok("dispatch", "sheet", "--date", DATE, *args).stdout)


def test_the_message_lists_her_jobs_in_start_order_with_the_way_to_each(shop: Shop) -> None:
    first, noon, late = day_of(shop)
    text = sheet(shop)
    weekday = "一二三四五六日"[DAY.weekday()]
    assert text == (
        f"==== {shop.cleaner} 王秀英 ====\n"
        f"【我的家政服务有限公司】王秀英，{DAY.month}月{DAY.day}日（周{weekday}）共3单：\n"
        f"从家出发，路程约{minutes(HOME, VANKE)}分钟（约{km(HOME, VANKE)}公里）\n"
        f"1. 09:00-12:00 钟点工保洁 万科城 3栋2单元501 张三 138****8000 门禁 1234 单号{first}\n"
        f"↓ 路程约{minutes(VANKE, JINJIANG)}分钟（约{km(VANKE, JINJIANG)}公里，按区域估算）\n"
        f"2. 13:00-15:00 钟点工保洁 望江苑 1栋1单元101 张三 138****8000 备注：带梯子 "
        f"单号{noon}\n"
        "↓ 就在附近\n"
        f"3. 15:00-17:00 钟点工保洁 望江苑 1栋1单元101 张三 138****8000 单号{late}\n"
        "有事请联系公司：028-8888-6666\n"
    )


def test_a_place_that_cannot_be_located_says_the_way_is_unknown(shop: Shop) -> None:
    edit(shop.archive, "worker", shop.cleaner, {"home": {"district": "青羊区"}})
    customer, _ = add_customer(
        shop.archive,
        {
            "name": "赵敏",
            "phones": ["13700137000"],
            "addresses": [{"district": "金牛区", "detail": "一环路北1号"}],
        },
    )
    shop.dispatched("--customer", customer.id, "--start", when(0, "14:00"))
    shop.dispatched("--start", when(0, "09:00"))
    text = sheet(shop)
    assert "从家出发，路程未知\n1. 09:00-12:00" in text
    assert "↓ 路程未知\n2. 14:00-17:00 钟点工保洁 金牛区一环路北1号 赵敏 137****7000" in text


def test_a_worker_without_a_home_address_starts_at_her_first_job(shop: Shop) -> None:
    other = shop.worker()
    shop.dispatched(worker=other)
    text = sheet(shop, "--worker", other)
    assert text.splitlines()[2].startswith("1. 09:00-12:00 钟点工保洁 万科城")
    assert "从家出发" not in text


def test_travel_longer_than_the_gap_between_jobs_is_pointed_out(shop: Shop) -> None:
    customer, _ = add_customer(
        shop.archive, {"name": "赵敏", "phones": ["13700137000"], "addresses": [FAR]}
    )
    shop.dispatched("--start", when(0, "09:00"))
    shop.dispatched("--customer", customer.id, "--start", when(0, "12:30"))
    text = sheet(shop)
    far = FAR_POINT
    assert (
        f"↓ 路程约{minutes(VANKE, far)}分钟（约{km(VANKE, far)}公里），间隔仅30分钟\n"
        "2. 12:30-15:30 钟点工保洁 航空港 8栋101"
    ) in text
    page = sheet(shop, "--format", "md")
    assert "> 注意：有 1 段路程比两单之间的间隔长" in page


def test_the_message_holds_no_full_phone_id_number_or_health_notes(shop: Shop) -> None:
    day_of(shop)
    for args in ((), ("--format", "md"), ("--json",)):
        text = sheet(shop, *args)
        for secret in (ID_NUMBER, "青霉素", "13800138000", "138 0013 8000"):
            assert secret not in text, (args, secret)
    revealed = sheet(shop, "--reveal", "--reason", "阿姨需要联系客户")
    assert "张三 138 0013 8000 门禁 1234 健康：青霉素过敏 单号" in revealed
    page = sheet(shop, "--format", "md", "--reveal", "--reason", "阿姨需要联系客户")
    documents = entries(shop.archive, Filter(action="document"))
    assert [e.reason for e in documents][-2:] == ["阿姨需要联系客户"] * 2
    assert documents[-1].records == [shop.customer_id] and "health_notes" in documents[-1].fields
    assert "- 健康/过敏：青霉素过敏" in page and ID_NUMBER not in page


def test_cancelled_and_undispatched_orders_are_nobodys_job(shop: Shop) -> None:
    first, noon, late = day_of(shop)
    shop.cli.ok("order", "cancel", noon, "--reason", "客户有事")
    waiting = shop.new("--start", when(0, "18:00"))
    shop.cli.ok("order", "start", first)
    text = sheet(shop)
    assert noon not in text and waiting not in text
    assert (
        f"1. 09:00-12:00 钟点工保洁 万科城 3栋2单元501 张三 138****8000 门禁 1234（服务中） "
        f"单号{first}" in text
    )
    assert f"2. 15:00-17:00 钟点工保洁 望江苑 1栋1单元101 张三 138****8000 单号{late}" in text
    assert "共2单" in text


def test_a_job_for_two_workers_is_on_both_sheets_naming_the_other(shop: Shop) -> None:
    other = shop.worker()
    code = shop.new()
    shop.cli.ok("order", "confirm", code)
    shop.cli.ok("order", "assign", code, shop.cleaner, other)
    text = sheet(shop)
    assert f"==== {shop.cleaner} 王秀英 ====" in text and f"==== {other} 李桂芳 ====" in text
    assert "138****8000 门禁 1234 同去：李桂芳 单号" in text
    assert "138****8000 门禁 1234 同去：王秀英 单号" in text
    first_code = min(shop.cleaner, other)  # same first start: by code
    assert text.startswith(f"==== {first_code} ")


def test_worker_option_gives_one_workers_day(shop: Shop) -> None:
    other = shop.worker()
    day_of(shop)
    mine = shop.dispatched("--start", when(0, "18:00"), worker=other)
    text = sheet(shop, "--worker", other)
    assert text.startswith(f"==== {other} 李桂芳 ====\n")
    assert "王秀英" not in text and "共1单" in text and f"单号{mine}" in text


def test_a_worker_with_no_job_that_day_is_told_so(shop: Shop) -> None:
    other = shop.worker()
    day_of(shop)
    result = shop.cli("dispatch", "sheet", "--date", DATE, "--worker", other)
    assert result.exit_code == 1
    assert f"error: worker {other} 李桂芳 has no job on {DATE}" in result.output
    assert f"hk order list --date {DATE} --worker {other}" in result.output
    empty = shop.cli("dispatch", "sheet", "--date", (DAY + dt.timedelta(days=1)).isoformat())
    assert empty.exit_code == 1 and "no worker has a job on" in empty.output


def test_the_date_defaults_to_tomorrow(shop: Shop) -> None:
    tomorrow = dt.datetime.now(TZ).date() + dt.timedelta(days=1)
    shop.dispatched("--start", f"{tomorrow} 10:00")
    text = str(shop.cli.ok("dispatch", "sheet").stdout)
    assert f"{tomorrow.month}月{tomorrow.day}日" in text and "1. 10:00-13:00" in text
    assert shop.cli.ok("dispatch", "sheet", "--date", "tomorrow").stdout == text


def test_the_page_has_the_days_table_each_jobs_checklist_and_room_to_sign(shop: Shop) -> None:
    first = day_of(shop)[0]
    page = sheet(shop, "--format", "md")
    assert page.startswith("# 我的家政服务有限公司\n\n## 派工日程：王秀英（")
    assert "共 3 单，服务约 7 小时，路程约" in page
    rows = [line for line in page.splitlines() if line.startswith("| ") and "单号" not in line]
    assert [row.split(" | ")[1] for row in rows] == ["09:00–12:00", "13:00–15:00", "15:00–17:00"]
    assert (
        f"| 从家出发，路程约{minutes(HOME, VANKE)}分钟（约{km(HOME, VANKE)}公里） | {first} |"
        in rows[0]
    )
    assert "| 就在附近 |" in rows[2]
    assert "### 第1单　09:00–12:00　钟点工保洁" in page
    assert "- 入户说明：门禁 1234" in page and "- 服务禁忌：不进主卧" in page
    assert "**钟点工保洁**（3小时）　验收标准：基础项全部达标" in page
    assert page.count("- [ ] 卫生间马桶、洗手台、淋浴区清洁消毒") == 3
    assert page.count("客户签字：") == 3 and "阿姨签字：" in page
    assert "138\\*\\*\\*\\*8000" in page


def test_the_page_prints_as_html(shop: Shop) -> None:
    day_of(shop)
    page = sheet(shop, "--format", "html")
    assert f"<title>派工日程 {DATE} {shop.cleaner}</title>" in page
    assert "size: A4" in page and "<table>" in page and "派工日程：王秀英" in page


def test_out_folder_writes_one_file_per_worker_named_by_code(shop: Shop, tmp_path: Path) -> None:
    other = shop.worker()
    day_of(shop)
    shop.dispatched("--start", when(0, "18:00"), worker=other)
    folder = tmp_path / "sheets"
    result = shop.cli.ok(
        "dispatch", "sheet", "--date", DATE, "--format", "html", "--out", f"{folder}/"
    )
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted([f"{DATE}-{shop.cleaner}.html", f"{DATE}-{other}.html"])
    assert result.stdout.count("wrote ") == 2
    mine = (folder / f"{DATE}-{other}.html").read_text(encoding="utf-8")
    assert "李桂芳" in mine and "王秀英" not in mine
    texts = tmp_path / "texts"
    texts.mkdir()
    shop.cli.ok("dispatch", "sheet", "--date", DATE, "--out", str(texts))
    message = (texts / f"{DATE}-{shop.cleaner}.txt").read_text(encoding="utf-8")
    assert message.startswith("【我的家政服务有限公司】王秀英，") and "====" not in message


def test_out_file_writes_everything_in_one_file(shop: Shop, tmp_path: Path) -> None:
    other = shop.worker()
    day_of(shop)
    shop.dispatched("--start", when(0, "18:00"), worker=other)
    out = tmp_path / "day.md"
    result = shop.cli.ok("dispatch", "sheet", "--date", DATE, "--format", "md", "--out", str(out))
    assert result.stdout == f"wrote {out}\n"
    text = out.read_text(encoding="utf-8")
    assert text == sheet(shop, "--format", "md")
    assert text.count("## 派工日程：") == 2 and "\n---\n" in text


def test_json_gives_each_workers_jobs_and_message(shop: Shop) -> None:
    first, noon, late = day_of(shop)
    data = json.loads(sheet(shop, "--json"))
    assert len(data) == 1
    day = data[0]
    assert day["date"] == DATE and day["worker"]["code"] == shop.cleaner
    assert [job["order"] for job in day["jobs"]] == [first, noon, late]
    assert day["jobs"][0]["phone"] == "138****8000"
    assert day["jobs"][0]["travel"]["origin"] == "home"
    assert day["jobs"][2]["travel"]["minutes"] == 0 and day["jobs"][2]["travel"]["known"]
    assert day["totals"]["jobs"] == 3 and day["totals"]["service_minutes"] == 420
    assert day["message"] == sheet(shop).split("\n", 1)[1]


def test_wrong_options_are_refused(shop: Shop, tmp_path: Path) -> None:
    day_of(shop)
    for args, code in (
        (("--format", "pdf"), 2),
        (("--date", "next week"), 2),
        (("--json", "--out", str(tmp_path / "x")), 2),
        (("--worker", "W9999"), 1),
    ):
        result = shop.cli("dispatch", "sheet", "--date", DATE, *args)
        assert result.exit_code == code, (args, result.output)
    assert shop.cli.ok("dispatch", "sheet", "--date", DATE, "--format", "TXT").stdout == sheet(shop)
