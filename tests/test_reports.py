# --- exports -----------------------------------------------------------------------------------


def run_export(shop: Shop, *args: str) -> str:
    proc = subprocess.run(
        [HK_BIN, "--archive", str(shop.archive.root), "export", *args],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_export_orders_of_a_period(shop: Shop) -> None:
    rows = list(
        csv.DictReader(
            io.StringIO(
                run_export(shop, "orders", "--from", "2025-03-01", "--to", "2025-03-31").lstrip(
                    "\ufeff"
                )
            )
        )
    )
    assert [(r["预约日期"], r["状态"], r["金额(元)"], r["取消费(元)"]) for r in rows] == [
        ("2025-03-03", "服务完成", "131.10", "0.00"),
        ("2025-03-10", "已结算", "138.00", "0.00"),
        ("2025-03-17", "已结算", "131.10", "0.00"),
        ("2025-03-20", "已取消", "138.00", "50.00"),
        ("2025-03-25", "待确认", "138.00", "0.00"),
    ]
    assert rows[0]["阿姨"] == shop.w1_label
    assert rows[2]["渠道"] == "微信" and rows[2]["总体评分"] == "3"


def test_export_surveys_complaints_and_visits(shop: Shop, tmp_path: Path) -> None:
    surveys = json.loads(run_export(shop, "surveys", "--format", "json", "--from", "2025-03-01"))
    assert [(s["总体"], s["推荐意愿(NPS)"]) for s in surveys] == [(5, 10), (4, 8), (3, 6)]
    (complaint,) = json.loads(run_export(shop, "complaints", "--format", "json"))
    assert (complaint["类别"], complaint["阿姨"]) == ("迟到爽约", shop.w2_label)
    visits = json.loads(run_export(shop, "visits", "--format", "json", "--to", "2025-03-31"))
    assert [(v["到期日"], v["类型"], v["状态"]) for v in visits] == [
        ("2025-03-18", "低分回访", "待回访")
    ]
    out = tmp_path / "订单.xlsx"
    run_export(shop, "orders", "--out", str(out))
    from openpyxl import load_workbook

    sheet = load_workbook(out).active
    assert sheet.title == "订单"
    assert sheet.max_row == 1 + 7
