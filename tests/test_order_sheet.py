"""The worker's order sheet (派工单): everything the worker needs, nothing sensitive unless
revealed (SPEC §5, §7)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hk.services.people import edit
from hk.store.archive import Archive
from tests.orders_support import DAY, Shop, make_shop, when

ID_NUMBER = "11010519491231002X"


@pytest.fixture
def shop(archive: Archive, archive_path: Path) -> Shop:
    settings = archive_path / "hk.toml"
    text = settings.read_text(encoding="utf-8")
    settings.write_text(text.replace('phone = ""', 'phone = "028-8888-6666"', 1), encoding="utf-8")
    shop = make_shop(Archive(archive_path), archive_path)
    edit(
        shop.archive,
        "customer",
        shop.customer,
        {
            "id_number": ID_NUMBER,
            "health_notes": "青霉素过敏",
            "taboos": ["不进主卧"],
            "household": [
                {"relation": "宠物狗", "notes": "怕生，进门先打招呼"},
                {"relation": "父亲", "birth_year": 1948, "care_notes": "高血压，按时服药"},
            ],
            "preferences": {"cleaning_agents": "只用无香型"},
        },
    )
    return shop


def dispatched(shop: Shop) -> str:
    return shop.dispatched(
        "--service",
        "BJ-HOURLY:3",
        "--service",
        "JD-AC",
        "--notes",
        "带梯子",
        "--require-cert",
        "健康证",
    )


def sheet_of(shop: Shop, *args: str) -> str:
    return str(shop.cli.ok("order", "sheet", dispatched(shop), *args).stdout)


def test_the_sheet_tells_the_worker_when_where_what_and_how_it_is_checked(shop: Shop) -> None:
    text = sheet_of(shop)
    assert text.startswith("# 我的家政服务有限公司\n\n## 派工单\n")
    assert f"{DAY.year}年{DAY.month}月{DAY.day}日" in text and "| 09:00–13:00" in text
    assert "- 客户：张三" in text and "138\\*\\*\\*\\*8000" in text
    assert "成都市武侯区万科城3栋2单元501" in text and "- 入户说明：门禁 1234" in text
    assert f"服务人员：{shop.cleaner} 王秀英" in text
    assert "| 钟点工保洁（BJ-HOURLY） | 3小时 |" in text
    assert "| 空调清洗（挂机）（JD-AC） | 1次 |" in text
    assert "**钟点工保洁**（验收标准：基础项全部达标）" in text  # 张三 is 黄金
    assert "- [ ] 卫生间马桶、洗手台、淋浴区清洁消毒" in text
    assert "- [ ] 冰箱内部整理除味（增值项）" in text and "- [ ] 装回后试机运行正常" in text
    assert "- 服务禁忌：不进主卧" in text and "- 清洁用品：只用无香型" in text
    assert "宠物狗：怕生，进门先打招呼；父亲（1948年生）" in text
    assert "- 证书：健康证（请随身携带）" in text and "带梯子" in text
    assert "如遇问题请联系公司：028-8888-6666。" in text
    assert "注意：本订单当前状态" not in text


def test_the_sheet_holds_no_id_number_and_no_health_notes_unless_revealed(shop: Shop) -> None:
    code = dispatched(shop)
    plain = shop.cli.ok("order", "sheet", code).stdout
    for secret in (
        ID_NUMBER,
        ID_NUMBER[-4:] + "\n",
        "青霉素",
        "高血压",
        "13800138000",
        "138 0013 8000",
    ):
        assert secret not in plain
    revealed = shop.cli.ok("order", "sheet", code, "--reveal", "--reason", "上门前核对").stdout
    assert "- 健康/过敏：青霉素过敏" in revealed and "照护：高血压，按时服药" in revealed
    assert "- 电话：138 0013 8000" in revealed
    assert ID_NUMBER not in revealed and "身份证" not in revealed


def test_the_sheet_prints_as_html_to_a_file(shop: Shop, tmp_path: Path) -> None:
    out = tmp_path / "sheet.html"
    code = shop.dispatched()
    assert (
        shop.cli.ok("order", "sheet", code, "--format", "html", "--out", str(out)).stdout
        == f"wrote {out}\n"
    )
    page = out.read_text(encoding="utf-8")
    assert "<title>派工单 " in page and "size: A4" in page and "<table>" in page


def test_a_sheet_of_an_order_not_yet_confirmed_says_so(shop: Shop) -> None:
    code = shop.new("--start", when(1))
    text = shop.cli.ok("order", "sheet", code).stdout
    assert "> 注意：本订单当前状态为 pending，请与公司确认后再上门。" in text
    assert shop.cli("order", "sheet", code, "--format", "pdf").exit_code == 2
