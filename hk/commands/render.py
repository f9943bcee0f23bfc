"""Human-readable views of records: labelled fields, aligned in terminal cells."""

from __future__ import annotations

from typing import Any

from rich.cells import cell_len

LABELS = {
    "code": "编号",
    "id": "ID",
    "name": "姓名",
    "phones": "电话",
    "phone": "电话",
    "wechat": "微信",
    "addresses": "地址",
    "category": "类别",
    "tags": "标签",
    "stage": "阶段",
    "channel": "来源",
    "referrer": "介绍人",
    "tier": "会员等级",
    "birthday": "生日",
    "household": "家庭成员",
    "preferences": "偏好",
    "taboos": "服务禁忌",
    "preferred_workers": "偏好阿姨",
    "blocked_workers": "拒绝阿姨",
    "consents": "授权同意",
    "id_number": "身份证号",
    "health_notes": "健康/过敏",
    "children_details": "儿童信息",
    "notes": "备注",
    "created": "创建",
    "updated": "更新",
    "gender": "性别",
    "birth_year": "出生年",
    "native_place": "籍贯",
    "dialects": "方言",
    "home": "住址",
    "skills": "技能",
    "certificates": "证书",
    "experience_years": "从业年限",
    "references": "推荐人",
    "credit_check": "信用查询",
    "insurance": "保险",
    "availability": "每周可用时间",
    "leave": "请假",
    "status": "状态",
    "employment": "用工方式",
    "unit": "单位",
    "duration_minutes": "标准时长(分钟)",
    "price_fen": "价格",
    "required_skills": "所需技能",
    "checklist": "验收清单",
    "acceptance": "验收标准",
    "active": "在售",
    "description": "说明",
    "period": "周期",
    "items": "内容",
    "validity_days": "有效天数",
    "label": "标记",
    "city": "城市",
    "district": "区",
    "detail": "详细地址",
    "community": "小区",
    "lat": "纬度",
    "lon": "经度",
    "access_notes": "入户说明",
    "relation": "关系",
    "care_notes": "照护信息",
    "worker_gender": "阿姨性别",
    "worker_age_min": "最小年龄",
    "worker_age_max": "最大年龄",
    "native_places": "籍贯",
    "cleaning_agents": "清洁用品",
    "cooking_taste": "口味",
    "purpose": "目的",
    "scope": "范围",
    "date": "日期",
    "method": "方式",
    "withdrawn": "撤回",
    "level": "等级",
    "cuisines": "菜系",
    "kind": "类型",
    "number": "编号",
    "issued": "发证",
    "expires": "到期",
    "employer": "雇主",
    "contact": "联系方式",
    "comment": "评价",
    "result": "结果",
    "source": "来源",
    "policy": "保单",
    "insurer": "保险公司",
    "start": "开始",
    "end": "结束",
    "reason": "原因",
    "model": "模式",
    "item": "项目",
    "value_added": "增值项",
    "basic_percent": "基础项达标%",
    "service": "服务",
    "visits": "次数",
}


def format_value(key: str, value: Any) -> str:
    from hk.domain.fields import format_phone
    from hk.domain.money import format_money

    if key.endswith("_fen") and isinstance(value, int):
        return format_money(value)
    if key in ("phones", "phone"):
        values = value if isinstance(value, list) else [value]
        return ", ".join(format_phone(v) for v in values)
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list) and all(not isinstance(v, dict | list) for v in value):
        return ", ".join(str(v) for v in value)
    return str(value)


def render_record(title: str, data: dict[str, Any]) -> str:
    """``title`` then one ``label  value`` line per field; nested data indented under it."""
    lines = [title]
    keys = [k for k in data if k not in ("id",)] + (["id"] if "id" in data else [])
    width = max(cell_len(LABELS.get(k, k)) for k in keys) if keys else 0
    for key in keys:
        label = LABELS.get(key, key)
        pad = " " * (width - cell_len(label))
        value = data[key]
        if isinstance(value, dict) or (
            isinstance(value, list) and value and any(isinstance(v, dict) for v in value)
        ):
            lines.append(f"  {label}{pad}")
            lines += ["    " + line for line in _nested(value)]
        else:
            lines.append(f"  {label}{pad}  {format_value(key, value)}")
    return "\n".join(lines)


def _nested(value: Any) -> list[str]:
    out: list[str] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if (
                isinstance(v, dict | list)
                and v
                and any(isinstance(x, dict) for x in (v if isinstance(v, list) else [v]))
            ):
                out.append(f"{LABELS.get(k, k)}:")
                out += ["  " + line for line in _nested(v)]
            else:
                out.append(f"{LABELS.get(k, k)}: {format_value(k, v)}")
    elif isinstance(value, list):
        for item in value:
            sub = _nested(item) if isinstance(item, dict) else [str(item)]
            out.append("- " + (sub[0] if sub else ""))
            out += ["  " + line for line in sub[1:]]
    return out
