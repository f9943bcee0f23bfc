"""A phone belongs to one customer (and one worker): a second record for it is refused, as the
import refuses it, naming who has it."""

from __future__ import annotations

import json

from tests.conftest import Hk, ok


def _add(hk: Hk, name: str, phone: str) -> str:
    return str(
        json.loads(ok(hk("customer", "add", "--name", name, "--phone", phone, "--json")).stdout)[
            "code"
        ]
    )


def test_a_second_customer_with_the_same_phone_is_refused(hk: Hk) -> None:
    first = _add(hk, "张三", "13800138000")
    again = hk("customer", "add", "--name", "张三丰", "--phone", "138 0013 8000")
    assert again.exit_code == 1
    assert f"--phone: 138 0013 8000 already belongs to customer {first} (张三)" in again.output
    assert f"hk customer show {first}" in again.output
    other = _add(hk, "李四", "13900139000")
    moved = hk("customer", "edit", other, "--add-phone", "13800138000")
    assert moved.exit_code == 1 and first in moved.output
    assert ok(hk("customer", "edit", first, "--tag", "老客户")).exit_code == 0  # her own phone


def test_a_second_worker_with_the_same_phone_is_refused_and_hk_batch_too(hk: Hk) -> None:
    made = ok(hk("worker", "add", "--name", "王秀英", "--gender", "女", "--phone", "13600136000"))
    assert made.exit_code == 0
    again = hk("worker", "add", "--name", "王秀兰", "--gender", "女", "--phone", "13600136000")
    assert again.exit_code == 1 and "already belongs to worker" in again.output
    _add(hk, "张三", "13800138000")
    line = {"op": "customer.add", "set": {"name": "张三丰", "phone": ["13800138000"]}}
    batch = hk("batch", input=json.dumps(line, ensure_ascii=False) + "\n")
    assert batch.exit_code != 0 and "already belongs to customer" in batch.output
