from tests.conftest import Hk


def test_add_and_find_by_initials(hk: Hk) -> None:
    result = hk("customer", "add", "--name", "张三", "--phone", "13800138000")
    assert result.exit_code == 0, result.output
    found = hk.process("customer", "find", "zs")
    assert found.returncode == 0, found.stderr
    assert "张三" in found.stdout
