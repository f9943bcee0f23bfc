"""The TUI's own words in Chinese (zh_CN) and English (en).

Record data stays as it was typed (names, tags, notes are Chinese whatever the language);
what changes with the language are the labels, titles, key descriptions and messages around it.
One table per language with the same keys: a test checks that they match, so a label never
falls back to the other language unnoticed.
"""

from __future__ import annotations

ZH: dict[str, str] = {
    # the app and its screens
    "app.title": "hk 家政客户管理",
    "screen.dashboard": "概览",
    "screen.customers": "客户",
    "screen.customer": "客户档案",
    "screen.workers": "阿姨",
    "screen.worker": "阿姨档案",
    "screen.help": "帮助",
    # key bindings: description (footer, palette) and what the palette says about them
    "bind.help": "帮助",
    "bind.help.tip": "显示当前焦点控件的帮助和全部快捷键",
    "bind.dashboard": "概览",
    "bind.dashboard.tip": "今天和明天的订单、本月数据",
    "bind.customers": "客户",
    "bind.customers.tip": "搜索和筛选客户",
    "bind.workers": "阿姨",
    "bind.workers.tip": "阿姨列表：技能、可用时间、证书到期",
    "bind.refresh": "刷新",
    "bind.refresh.tip": "重新读取档案里的改动（平时每隔几秒自动检查）",
    "bind.theme": "明暗",
    "bind.theme.tip": "在浅色和深色主题之间切换",
    "bind.palette": "命令",
    "bind.palette.tip": "打开命令面板：每个操作和客户搜索",
    "bind.quit": "退出",
    "bind.quit.tip": "退出 hk",
    "bind.back": "返回",
    "bind.back.tip": "回到上一页",
    "bind.search": "搜索",
    "bind.search.tip": "把光标移到搜索框",
    "bind.clear": "清空",
    "bind.clear.tip": "清空搜索和筛选条件",
    "bind.results": "列表",
    "bind.results.tip": "把光标移到结果列表",
    "bind.reveal": "显示敏感信息",
    "bind.reveal.tip": "显示或隐藏身份证号、健康和儿童信息（需要本机有密钥）",
    "bind.tab_profile": "档案",
    "bind.tab_profile.tip": "基本信息、地址、家庭、偏好、禁忌、授权",
    "bind.tab_orders": "订单",
    "bind.tab_orders.tip": "全部订单，最新的在前",
    "bind.tab_contracts": "合同",
    "bind.tab_contracts.tip": "合同：派驻、周期服务",
    "bind.tab_surveys": "满意度",
    "bind.tab_surveys.tip": "满意度调查和订单评价",
    "bind.tab_history": "修改记录",
    "bind.tab_history.tip": "git 里的每一次改动，到字段",
    "bind.close": "关闭",
    "bind.close.tip": "关闭帮助",
    # help texts of widgets (F1)
    "help.screen": "用 F2 概览、F3 客户、F4 阿姨切换页面；Ctrl+P 打开命令面板，里面有全部操作，"
    "也能直接输入客户姓名或电话打开档案。",
    "help.search": "输入姓名、拼音（zhangsan）、拼音首字母（zs）、电话号码中的几位、标签或小区，"
    "列表随输入更新。按 ↓ 或 Enter 进入列表，Esc 清空。",
    "help.results": "↑↓ 移动，Enter 打开档案，PgUp/PgDn 翻页；往下翻时自动加载更多。"
    "按 / 回到搜索框。",
    "help.filter": "选择一项只显示符合的记录；选「全部」取消这一筛选。Enter 或空格展开选项。",
    "help.orders": "今天和明天的订单。Enter 打开该订单客户的档案。",
    "help.profile": "客户档案。敏感信息（身份证号、健康、儿童信息）默认遮住，"
    "按 v 显示（需要本机有密钥），再按一次隐藏。数字键 1–5 切换标签页，Esc 返回。",
    "help.worker_profile": "阿姨档案。身份证号默认遮住，按 v 显示（需要本机有密钥）。"
    "即将到期的证书和保险标红。数字键 1–3 切换标签页，Esc 返回。",
    "help.history": "这份档案在 git 里的每一次提交：时间、操作员、改了哪些字段（原值 → 新值）。",
    "help.help": "这里列出当前页面可用的快捷键和它们的编号。"
    "在 hk.toml 或 hk.local.toml 的 [tui.keys] 里按编号改键，例如 customers = \"f3,ctrl+k\"。",
    # dashboard
    "dash.today": "今天",
    "dash.tomorrow": "明天",
    "dash.month": "本月",
    "dash.orders_total": "共 {n} 单",
    "dash.no_orders": "没有订单",
    "dash.month_orders": "订单",
    "dash.month_cancelled": "取消",
    "dash.month_revenue": "营业额（已完成）",
    "dash.month_satisfaction": "满意度",
    "dash.satisfaction_value": "{score:.1f} / 5（{n} 份）",
    "dash.nps_value": "{nps:+d}",
    "dash.month_nps": "NPS",
    "dash.month_new": "新客户",
    "dash.none": "—",
    "dash.upcoming": "今天和明天的订单",
    "dash.certs": "证书将到期（{days} 天内）",
    "dash.no_certs": "没有将到期的证书",
    # lists
    "search.customers": "搜索：姓名、拼音、首字母、电话、标签、小区",
    "search.workers": "搜索：姓名、拼音、首字母、电话、技能、籍贯",
    "filter.category": "类别",
    "filter.tag": "标签",
    "filter.tier": "等级",
    "filter.status": "状态",
    "filter.skill": "技能",
    "filter.all": "全部",
    "list.count": "共 {n} 条",
    "list.capped": "显示 {n} 条，超过 {n} 条：请输入更多搜索条件",
    "list.none": "没有找到",
    "list.loading": "正在读取…",
    # columns
    "col.code": "编号",
    "col.name": "姓名",
    "col.phones": "电话",
    "col.community": "小区",
    "col.category": "类别",
    "col.tags": "标签",
    "col.tier": "等级",
    "col.status": "状态",
    "col.skills": "技能",
    "col.native_place": "籍贯",
    "col.availability": "可用时间",
    "col.expiring": "证书到期",
    "col.start": "时间",
    "col.customer": "客户",
    "col.services": "服务",
    "col.workers": "阿姨",
    "col.total": "金额",
    "col.type": "类型",
    "col.end": "结束",
    "col.fee": "服务费",
    "col.day": "日期",
    "col.channel": "渠道",
    "col.scores": "质量/态度/卫生/准时/总体",
    "col.nps": "NPS",
    "col.comment": "评语",
    "col.when": "时间",
    "col.operator": "操作员",
    "col.change": "改动",
    "col.key": "按键",
    "col.id": "编号（改键用）",
    "col.action": "操作",
    # record pages
    "page.basics": "基本信息",
    "page.addresses": "地址",
    "page.household": "家庭成员",
    "page.preferences": "偏好",
    "page.taboos": "服务禁忌",
    "page.workers": "指定 / 拒绝的阿姨",
    "page.consents": "授权同意",
    "page.sensitive": "敏感信息",
    "page.notes": "备注",
    "page.skills": "技能",
    "page.certificates": "证书",
    "page.availability": "每周可用时间",
    "page.leave": "请假",
    "page.employment": "用工与保险",
    "page.references": "以往雇主",
    "page.masked": "已遮住 · 按 v 显示",
    "page.revealed": "已显示 · 按 v 隐藏",
    "page.locked": "本机没有密钥，无法显示",
    "page.preferred": "指定",
    "page.blocked": "拒绝",
    "page.withdrawn": "已撤回 {day}",
    "page.expired": "已过期",
    "page.expires_in": "{days} 天后到期",
    "page.created": "新建（{n} 个字段）",
    "page.age": "{age} 岁",
    "page.level": "{level} 级",
    "page.none": "无",
    "page.on_leave": "请假中",
    # messages
    "msg.error": "出错了",
    "msg.bug": "hk 内部错误：{what}。详情已写入 {log}",
    "msg.no_key": "本机没有这份档案的密钥，不能显示敏感信息",
    "msg.no_key_hint": "把 master.key 和 people/ 从密钥备份复制到 {folder}，或用 HK_KEY_DIR 指定",
    "msg.changed": "档案有更新，已刷新",
    "msg.broken": "{n} 个文件读不了，已略过；请运行 hk doctor",
    "msg.unknown_keys": "[tui.keys] 里没有这些编号：{ids}",
    "msg.gone": "这份档案已不存在（可能被删除或合并）",
    "msg.theme": "已切换到{theme}主题",
    "theme.light": "浅色",
    "theme.dark": "深色",
    # palette
    "palette.open_customer": "打开客户档案",
    "palette.open_worker": "打开阿姨档案",
    # field labels
    "f.code": "编号",
    "f.name": "姓名",
    "f.phones": "电话",
    "f.phone": "电话",
    "f.wechat": "微信",
    "f.category": "类别",
    "f.tags": "标签",
    "f.channel": "来源",
    "f.referrer": "介绍人",
    "f.tier": "会员等级",
    "f.birthday": "生日",
    "f.id_number": "身份证号",
    "f.health_notes": "健康/过敏",
    "f.children_details": "儿童信息",
    "f.care_notes": "照护信息",
    "f.notes": "备注",
    "f.created": "建档",
    "f.updated": "更新",
    "f.gender": "性别",
    "f.birth_year": "出生年",
    "f.native_place": "籍贯",
    "f.dialects": "方言",
    "f.home": "住址",
    "f.experience_years": "从业年限",
    "f.credit_check": "信用查询",
    "f.insurance": "保险",
    "f.status": "状态",
    "f.employment": "用工方式",
    "f.worker_gender": "阿姨性别",
    "f.worker_age": "阿姨年龄",
    "f.native_places": "籍贯",
    "f.skills": "技能",
    "f.cleaning_agents": "清洁用品",
    "f.cooking_taste": "口味",
    "f.relation": "关系",
    "f.purpose": "目的",
    "f.scope": "范围",
    "f.method": "方式",
    "f.access_notes": "入户说明",
    # weekdays, Monday first
    "weekdays": "一二三四五六日",
    "weekday.prefix": "周",
    "availability.none": "未填",
}

EN: dict[str, str] = {
    "app.title": "hk housekeeping CRM",
    "screen.dashboard": "Dashboard",
    "screen.customers": "Customers",
    "screen.customer": "Customer",
    "screen.workers": "Workers",
    "screen.worker": "Worker",
    "screen.help": "Help",
    "bind.help": "Help",
    "bind.help.tip": "Help for the focused widget and every key",
    "bind.dashboard": "Dashboard",
    "bind.dashboard.tip": "Today's and tomorrow's orders, this month's figures",
    "bind.customers": "Customers",
    "bind.customers.tip": "Search and filter customers",
    "bind.workers": "Workers",
    "bind.workers.tip": "Workers: skills, availability, certificates expiring",
    "bind.refresh": "Refresh",
    "bind.refresh.tip": "Read changes in the archive now (checked every few seconds anyway)",
    "bind.theme": "Theme",
    "bind.theme.tip": "Switch between the light and the dark theme",
    "bind.palette": "Commands",
    "bind.palette.tip": "Open the command palette: every action, and customer search",
    "bind.quit": "Quit",
    "bind.quit.tip": "Quit hk",
    "bind.back": "Back",
    "bind.back.tip": "Back to the previous page",
    "bind.search": "Search",
    "bind.search.tip": "Move to the search box",
    "bind.clear": "Clear",
    "bind.clear.tip": "Clear the search and the filters",
    "bind.results": "List",
    "bind.results.tip": "Move to the list of results",
    "bind.reveal": "Reveal",
    "bind.reveal.tip": "Show or hide ID numbers, health and children's details (needs the key)",
    "bind.tab_profile": "Profile",
    "bind.tab_profile.tip": "Basics, addresses, household, preferences, taboos, consents",
    "bind.tab_orders": "Orders",
    "bind.tab_orders.tip": "Every order, newest first",
    "bind.tab_contracts": "Contracts",
    "bind.tab_contracts.tip": "Contracts: placements, recurring service",
    "bind.tab_surveys": "Satisfaction",
    "bind.tab_surveys.tip": "Survey responses and order ratings",
    "bind.tab_history": "History",
    "bind.tab_history.tip": "Every change in git, field by field",
    "bind.close": "Close",
    "bind.close.tip": "Close the help",
    "help.screen": "F2 dashboard, F3 customers, F4 workers; Ctrl+P opens the command palette "
    "with every action, where typing a customer's name or phone opens their page.",
    "help.search": "Type a name, its pinyin (zhangsan) or initials (zs), digits of a phone "
    "number, a tag or a community; the list follows as you type. Down or Enter moves to the "
    "list, Escape clears.",
    "help.results": "Up/Down move, Enter opens the page, PgUp/PgDn page; more rows load as you "
    "scroll. / goes back to the search box.",
    "help.filter": "Pick a value to list only matching records; pick 'All' to drop this filter. "
    "Enter or Space opens the choices.",
    "help.orders": "Today's and tomorrow's orders. Enter opens the customer of the order.",
    "help.profile": "The customer's page. Sensitive values (ID number, health, children) are "
    "masked; v reveals them (needs the key on this machine) and hides them again. Digits 1–5 "
    "switch tabs, Escape goes back.",
    "help.worker_profile": "The worker's page. The ID number is masked; v reveals it (needs "
    "the key). Certificates and insurance about to expire show in red. Digits 1–3 switch "
    "tabs, Escape goes back.",
    "help.history": "Every commit that touched this record in git: when, who, and which fields "
    "changed (old → new).",
    "help.help": "The keys of this page and their ids. Rebind a key by its id in [tui.keys] of "
    "hk.toml or hk.local.toml, e.g. customers = \"f3,ctrl+k\".",
    "dash.today": "Today",
    "dash.tomorrow": "Tomorrow",
    "dash.month": "This month",
    "dash.orders_total": "{n} orders",
    "dash.no_orders": "No orders",
    "dash.month_orders": "Orders",
    "dash.month_cancelled": "Cancelled",
    "dash.month_revenue": "Revenue (done)",
    "dash.month_satisfaction": "Satisfaction",
    "dash.satisfaction_value": "{score:.1f} / 5 ({n} responses)",
    "dash.nps_value": "{nps:+d}",
    "dash.month_nps": "NPS",
    "dash.month_new": "New customers",
    "dash.none": "—",
    "dash.upcoming": "Orders today and tomorrow",
    "dash.certs": "Certificates expiring (within {days} days)",
    "dash.no_certs": "No certificate expiring soon",
    "search.customers": "Search: name, pinyin, initials, phone, tag, community",
    "search.workers": "Search: name, pinyin, initials, phone, skill, native place",
    "filter.category": "Category",
    "filter.tag": "Tag",
    "filter.tier": "Tier",
    "filter.status": "Status",
    "filter.skill": "Skill",
    "filter.all": "All",
    "list.count": "{n} found",
    "list.capped": "Showing {n} of more than {n}: type more to narrow the search",
    "list.none": "Nothing found",
    "list.loading": "Reading…",
    "col.code": "Code",
    "col.name": "Name",
    "col.phones": "Phone",
    "col.community": "Community",
    "col.category": "Category",
    "col.tags": "Tags",
    "col.tier": "Tier",
    "col.status": "Status",
    "col.skills": "Skills",
    "col.native_place": "From",
    "col.availability": "Available",
    "col.expiring": "Certificate due",
    "col.start": "Time",
    "col.customer": "Customer",
    "col.services": "Services",
    "col.workers": "Workers",
    "col.total": "Amount",
    "col.type": "Type",
    "col.end": "End",
    "col.fee": "Fee",
    "col.day": "Day",
    "col.channel": "Channel",
    "col.scores": "Quality/attitude/hygiene/punctuality/overall",
    "col.nps": "NPS",
    "col.comment": "Comment",
    "col.when": "When",
    "col.operator": "Operator",
    "col.change": "Change",
    "col.key": "Key",
    "col.id": "Id (to rebind)",
    "col.action": "Action",
    "page.basics": "Basics",
    "page.addresses": "Addresses",
    "page.household": "Household",
    "page.preferences": "Preferences",
    "page.taboos": "Taboos",
    "page.workers": "Preferred / blocked workers",
    "page.consents": "Consents",
    "page.sensitive": "Sensitive",
    "page.notes": "Notes",
    "page.skills": "Skills",
    "page.certificates": "Certificates",
    "page.availability": "Weekly hours",
    "page.leave": "Leave",
    "page.employment": "Employment and insurance",
    "page.references": "Previous employers",
    "page.masked": "masked · v reveals",
    "page.revealed": "revealed · v hides",
    "page.locked": "no key on this machine",
    "page.preferred": "Preferred",
    "page.blocked": "Blocked",
    "page.withdrawn": "withdrawn {day}",
    "page.expired": "expired",
    "page.expires_in": "expires in {days} days",
    "page.created": "created ({n} fields)",
    "page.age": "{age} years",
    "page.level": "level {level}",
    "page.none": "none",
    "page.on_leave": "on leave",
    "msg.error": "Error",
    "msg.bug": "hk internal error: {what}. Details are in {log}",
    "msg.no_key": "The key of this archive is not on this machine: sensitive values stay hidden",
    "msg.no_key_hint": "copy master.key and people/ from your key backup into {folder}, or set "
    "HK_KEY_DIR",
    "msg.changed": "The archive changed; refreshed",
    "msg.broken": "{n} files could not be read and are left out; run hk doctor",
    "msg.unknown_keys": "[tui.keys] names no such binding: {ids}",
    "msg.gone": "This record no longer exists (deleted or merged)",
    "msg.theme": "Switched to the {theme} theme",
    "theme.light": "light",
    "theme.dark": "dark",
    "palette.open_customer": "Open customer",
    "palette.open_worker": "Open worker",
    "f.code": "Code",
    "f.name": "Name",
    "f.phones": "Phones",
    "f.phone": "Phone",
    "f.wechat": "WeChat",
    "f.category": "Category",
    "f.tags": "Tags",
    "f.channel": "Channel",
    "f.referrer": "Referred by",
    "f.tier": "Tier",
    "f.birthday": "Birthday",
    "f.id_number": "ID number",
    "f.health_notes": "Health/allergies",
    "f.children_details": "Children",
    "f.care_notes": "Care notes",
    "f.notes": "Notes",
    "f.created": "Created",
    "f.updated": "Updated",
    "f.gender": "Gender",
    "f.birth_year": "Born",
    "f.native_place": "Native place",
    "f.dialects": "Dialects",
    "f.home": "Home",
    "f.experience_years": "Experience (years)",
    "f.credit_check": "Credit check",
    "f.insurance": "Insurance",
    "f.status": "Status",
    "f.employment": "Employment",
    "f.worker_gender": "Worker gender",
    "f.worker_age": "Worker age",
    "f.native_places": "Native places",
    "f.skills": "Skills",
    "f.cleaning_agents": "Cleaning agents",
    "f.cooking_taste": "Cooking",
    "f.relation": "Relation",
    "f.purpose": "Purpose",
    "f.scope": "Scope",
    "f.method": "How",
    "f.access_notes": "Access",
    "weekdays": "MTWTFSS",
    "weekday.prefix": "",
    "availability.none": "not given",
}

TABLES: dict[str, dict[str, str]] = {"zh_CN": ZH, "en": EN}
LANGUAGES = tuple(TABLES)

ORDER_STATUS_EN: dict[str, str] = {
    "pending": "pending", "confirmed": "confirmed", "to_dispatch": "to dispatch",
    "dispatched": "dispatched", "in_service": "in service", "completed": "completed",
    "settled": "settled", "cancelled": "cancelled",
}
WORKER_STATUS_EN: dict[str, str] = {
    "available": "available", "placed": "placed", "inactive": "inactive",
}
CONTRACT_STATUS_EN: dict[str, str] = {
    "draft": "draft", "signed": "signed", "active": "active", "expired": "expired",
    "terminated": "terminated", "renewed": "renewed",
}


class Texts:
    """The words of one language: ``texts("list.count", n=3)``."""

    def __init__(self, language: str) -> None:
        self.language = language if language in TABLES else "zh_CN"
        self.table = TABLES[self.language]

    @property
    def zh(self) -> bool:
        return self.language == "zh_CN"

    def __call__(self, key: str, **values: object) -> str:
        text = self.table.get(key) or ZH.get(key, key)
        return text.format(**values) if values else text

    def order_status(self, status: str) -> str:
        from hk.labels import STATUS_ZH

        table = STATUS_ZH if self.zh else ORDER_STATUS_EN
        return table.get(status, status)

    def worker_status(self, status: str) -> str:
        from hk.domain.worker import STATUS_ZH

        table = STATUS_ZH if self.zh else WORKER_STATUS_EN
        return table.get(status, status)

    def contract_status(self, status: str) -> str:
        from hk.domain.contract import STATUS_ZH

        table = STATUS_ZH if self.zh else CONTRACT_STATUS_EN
        return table.get(status, status)

    def paren(self, text: str) -> str:
        """``（text）`` in Chinese, `` (text)`` in English."""
        return f"（{text}）" if self.zh else f"({text})"

    def labelled(self, label: str, value: str) -> str:
        """``label：value`` or ``label: value``."""
        return f"{label}：{value}" if self.zh else f"{label}: {value}"

    def join_clauses(self, parts: list[str]) -> str:
        return ("；" if self.zh else "; ").join(p for p in parts if p)

    def weekday(self, index: int) -> str:
        """Monday is 0: ``周一`` or ``M``."""
        return self("weekday.prefix") + self("weekdays")[index]
