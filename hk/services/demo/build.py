"""``hk demo``: a believable small company in Chengdu to try hk on, built fresh each time.

The company lives in ``sample_data/`` as YAML that people can read and edit: records refer to
each other by local keys (``c01``, ``w03``) and every date is written as seen on the file's
``reference_date``. Building moves all dates by (today − reference_date), so certificates
that are "due in two weeks" in the files are due in two weeks on the day of the demo, and
gives every record a new ID. A marker inside ``.git/hk/`` says a folder is a demo archive: only
such a folder is ever replaced, never anything else.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hk.errors import HkError

MARKER = "demo.json"
"""File in an archive's ``.git/hk/`` that marks it as a demo archive (never committed)."""

FIXED_DATES = frozenset({"birthday"})
"""Date fields that stay as written: a birthday does not move with the demo day."""

LOCAL_KEYS = ("key", "since")
"""Fields of sample entries that are not record fields."""


@dataclass
class SampleFile:
    """One file of records, with the day its dates were written for."""

    reference_date: dt.date
    entries: list[dict[str, Any]]


@dataclass
class Sample:
    """The sample company as read from ``sample_data/``."""

    company: str
    city: str
    tour_customer: str
    workers: SampleFile
    customers: SampleFile
    business: dict[str, Any] = field(default_factory=dict)
    """Orders, quotes and contracts, replayed by :mod:`hk.services.demo.business`."""


@dataclass
class DemoInfo:
    """What the marker records: when the demo was built and which ID each local key got."""

    today: dt.date
    tour_customer: str | None
    ids: dict[str, str] = field(default_factory=dict)


def default_location() -> Path:
    """Where ``hk demo`` builds when no folder is named: ``$XDG_DATA_HOME/hk/demo``."""
    from hk.store.paths import data_home

    return data_home() / "demo"


def sample_data_dir() -> Path:
    """The ``sample_data`` folder: shipped inside the package, or at the root of a checkout."""
    from importlib import resources

    candidates = [
        Path(str(resources.files("hk").joinpath("sample_data"))),
        Path(__file__).resolve().parents[2] / "sample_data",
    ]
    for folder in candidates:
        if (folder / "company.yaml").is_file():
            return folder
    raise HkError(
        "the sample data for the demo is missing from this installation",
        hint="reinstall hk, or run it from a source checkout",
    )


def _read_yaml(path: Path) -> Any:
    """YAML with dates as dates (unlike record files), so they can be shifted."""
    import yaml

    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader)
    except (OSError, yaml.YAMLError) as exc:
        raise HkError(f"cannot read the sample data {path.name}: {exc}") from None


def _sample_file(folder: Path, name: str) -> SampleFile:
    data = _read_yaml(folder / f"{name}.yaml")
    ref = data.get("reference_date") if isinstance(data, dict) else None
    entries = data.get(name) if isinstance(data, dict) else None
    if not isinstance(ref, dt.date) or not isinstance(entries, list):
        raise HkError(f"sample data {name}.yaml needs reference_date (a date) and a list {name}")
    return SampleFile(reference_date=ref, entries=entries)


def load_sample(folder: Path | None = None) -> Sample:
    """Read the sample company (from :func:`sample_data_dir` unless ``folder`` is given)."""
    folder = folder or sample_data_dir()
    company = _read_yaml(folder / "company.yaml")
    return Sample(
        company=str(company["company"]),
        city=str(company.get("city", "成都市")),
        tour_customer=str(company.get("tour_customer", "")),
        workers=_sample_file(folder, "workers"),
        customers=_sample_file(folder, "customers"),
        business=_read_yaml(folder / "business.yaml")
        if (folder / "business.yaml").is_file()
        else {},
    )


def shift_dates(value: Any, days: int) -> Any:
    """``value`` with every date moved by ``days``, except the fields in :data:`FIXED_DATES`."""
    if isinstance(value, dict):
        return {k: v if k in FIXED_DATES else shift_dates(v, days) for k, v in value.items()}
    if isinstance(value, list):
        return [shift_dates(v, days) for v in value]
    if isinstance(value, dt.date):  # datetimes included
        return value + dt.timedelta(days=days)
    return value


# --- building -------------------------------------------------------------------------------


def is_demo(path: Path) -> bool:
    return (path / ".git" / "hk" / MARKER).is_file()


def read_info(root: Path) -> DemoInfo:
    """The marker of a demo archive (its key → ID map and the day it was built for)."""
    data = json.loads((root / ".git" / "hk" / MARKER).read_text(encoding="utf-8"))
    return DemoInfo(
        today=dt.date.fromisoformat(data["today"]),
        tour_customer=data.get("tour_customer"),
        ids=dict(data.get("ids", {})),
    )


def _write_info(root: Path, info: DemoInfo) -> None:
    folder = root / ".git" / "hk"
    folder.mkdir(parents=True, exist_ok=True)
    data = {"today": info.today.isoformat(), "tour_customer": info.tour_customer, "ids": info.ids}
    (folder / MARKER).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")


def _clear_target(out: Path) -> None:
    """Make room at ``out``: nothing there, an empty folder, or a previous demo (removed)."""
    if not out.exists():
        return
    if not out.is_dir():
        raise HkError(
            f"{out} is a file, not a folder for the demo archive",
            hint="name another folder with --out",
        )
    if not any(out.iterdir()):
        return
    if not is_demo(out):
        raise HkError(
            f"{out} is not a demo archive; hk demo only replaces a demo it built itself",
            hint="name a new folder with --out, or move that folder away first",
        )
    _forget_keys(out)
    shutil.rmtree(out)


def _forget_keys(out: Path) -> None:
    """Remove the old demo's own key folder, so rebuilding does not pile up keys.

    Only a folder named by the archive's own ID under the default key location goes; a key
    folder chosen on purpose (the ``key_dir`` setting, ``HK_KEY_DIR``) is shared with real
    archives and is left alone.
    """
    from hk.store import paths
    from hk.store.archive import Archive

    try:
        settings = Archive(out).settings
    except HkError:  # not an archive any more, or one whose settings do not read: keep keys
        return
    if settings.key_dir:  # a key folder named on purpose is shared with real archives
        return
    keys = paths.key_dir(settings.archive_id)
    if keys.is_dir() and keys.parent == paths.data_home() / "keys":
        shutil.rmtree(keys)


def build_demo(out: Path, today: dt.date | None = None) -> Path:
    """Build a fresh demo archive at ``out`` (replacing a previous demo there); return its root.

    ``today`` is the day the demo is built for (default: today in the archive's timezone).
    """
    from hk.domain.base import now
    from hk.services.archive import init
    from hk.store.archive import Archive
    from hk.store.writer import save_new_bulk

    sample = load_sample()
    out = out.expanduser().resolve()
    _clear_target(out)
    init(out, company=sample.company, city=sample.city)
    _write_info(out, DemoInfo(today=today or dt.date.today(), tour_customer=None))
    archive = Archive(out)
    try:
        tz = archive.settings.locale.timezone
        today = today or now(tz).date()
        worker_ids: dict[str, str] = {}
        customer_ids: dict[str, str] = {}
        workers = _records(sample, "workers", today, tz, worker_ids, {})
        customers = _records(sample, "customers", today, tz, customer_ids, worker_ids)
        save_new_bulk(archive, workers, f"demo: {len(workers)} sample workers")
        save_new_bulk(archive, customers, f"demo: {len(customers)} sample customers")
        from hk.services.demo.business import replay

        replay(archive, sample.business, {**worker_ids, **customer_ids}, today)
    finally:
        archive.index.close()
    ids = {**worker_ids, **customer_ids}
    _write_info(out, DemoInfo(today=today, tour_customer=ids.get(sample.tour_customer), ids=ids))
    return out


def _records(
    sample: Sample,
    name: str,
    today: dt.date,
    tz: str,
    ids: dict[str, str],
    worker_ids: dict[str, str],
) -> list[Any]:
    """Validated records of one sample file; fills ``ids`` (its keys → new IDs).

    Every key of the file gets its ID before references are resolved, so a customer may name a
    referrer further down. A record's ID carries its ``since`` time, so files sort by age.
    """
    from pydantic import ValidationError

    from hk.domain.base import now
    from hk.domain.customer import Customer
    from hk.domain.ids import new_id
    from hk.domain.worker import Worker
    from hk.errors import InvalidData
    from hk.store import codec

    model: type[Customer] | type[Worker] = Worker if name == "workers" else Customer
    source: SampleFile = getattr(sample, name)
    days = (today - source.reference_date).days
    latest = now(tz)
    entries = [shift_dates(entry, days) for entry in source.entries]
    stamps: list[dt.datetime] = []
    for entry in entries:
        key = entry.get("key")
        if not key or key in ids or key in worker_ids:
            raise HkError(f"sample data {name}.yaml: every entry needs its own key ({key!r})")
        stamps.append(_created(entry.get("since"), tz, latest))
        ids[key] = new_id(int(stamps[-1].timestamp() * 1000))
    records = []
    for entry, stamp in zip(entries, stamps, strict=True):
        key = entry["key"]
        fields = {k: v for k, v in entry.items() if k not in LOCAL_KEYS}
        _fill_city(fields, sample.city)
        if model is Customer:
            _resolve_keys(fields, key, ids, worker_ids)
        data = {"id": ids[key], "created": stamp, "updated": stamp, **fields}
        try:
            records.append(model.model_validate(data))
        except ValidationError as exc:
            where = f"sample_data/{name}.yaml ({key})"
            raise InvalidData(codec.problems_from_validation(exc, None, where, model)) from None
    return records


def _created(since: object, tz: str, latest: dt.datetime) -> dt.datetime:
    """When a sample record was "created": the morning of its ``since`` day, never the future."""
    from zoneinfo import ZoneInfo

    if not isinstance(since, dt.date):
        return latest
    stamp = dt.datetime.combine(since, dt.time(9, 30), tzinfo=ZoneInfo(tz))
    return min(stamp, latest)


def _fill_city(fields: dict[str, Any], city: str) -> None:
    for address in [*fields.get("addresses", []), fields.get("home")]:
        if isinstance(address, dict):
            address.setdefault("city", city)


def _resolve_keys(
    fields: dict[str, Any], key: str, customer_ids: dict[str, str], worker_ids: dict[str, str]
) -> None:
    """Replace local keys (referrer, preferred and blocked workers) by the records' IDs."""

    def lookup(ref: object, ids: dict[str, str], what: str) -> str:
        if not isinstance(ref, str) or ref not in ids:
            raise HkError(f"sample data: {key} names {ref!r}, which is not a sample {what} key")
        return ids[ref]

    if fields.get("referrer"):
        fields["referrer"] = lookup(fields["referrer"], customer_ids, "customer")
    for list_field in ("preferred_workers", "blocked_workers"):
        refs = fields.get(list_field, [])
        fields[list_field] = [lookup(ref, worker_ids, "worker") for ref in refs]


# --- the tour ---------------------------------------------------------------------------------


def tour(root: Path) -> list[str]:
    """A short guided tour of a demo archive: real commands with real codes from it."""
    from rich.cells import cell_len

    from hk.store.archive import Archive
    from hk.store.search import pinyin_readings

    info = read_info(root)
    archive = Archive(root)
    try:
        index = archive.index
        index.refresh()
        customers = index.list("customer")
        workers = index.list("worker")
        services = index.list("service")
        featured = (index.get(info.tour_customer) if info.tour_customer else None) or customers[0]
        data = json.loads(featured["data"])
        worker = _soonest_due(workers, info.today) or workers[0]
        company = archive.settings.company.name
        settled = index.list("order", category="settled", ref=featured["id"])
        waiting = index.list("order", category="to_dispatch")
        quotes = index.list("quote", category="sent")
        contracts = index.list("contract", category="active")
        index_counts = {kind: index.count(kind) for kind in ("order", "contract")}
    finally:
        archive.index.close()
    code, name = featured["code"], featured["name"]
    readings = pinyin_readings(name)
    initials = readings[0][1] if readings else name
    phone = next(iter(data.get("phones", [])), "")
    digits = phone[-4:] if phone else "0028"
    tag = next(iter(data.get("tags", [])), "")
    hk = f"hk -C {shell_word(str(root))}"
    commands = [
        (f"{hk} customer list", "全部客户，按拼音排序"),
        (f"{hk} customer find {initials}", f"按姓名拼音首字母找（{name}）"),
        (f"{hk} customer find {digits}", "按电话号码里的几位数字找"),
        (
            f"{hk} customer show {code} --reveal --reason 核对身份",
            "客户档案；--reveal 显示加密的身份证号和健康信息（须说明原因，记入 hk audit）",
        ),
        (f"{hk} customer list --tag {shell_word(tag)}", f"按标签筛选（{tag}）") if tag else None,
        (f"{hk} worker list", "阿姨：状态、技能、籍贯"),
        (f"{hk} worker show {worker['code']}", f"{worker['name']}的证书快到期了"),
        (f"{hk} catalog list", "服务项目和参考价"),
        (f"{hk} order list --from today", "今天起的订单：已派工、待派工、待确认"),
        (f"{hk} order show {settled[-1]['code']} --history", "一张订单从接单到结算的经过")
        if settled
        else None,
        (f"{hk} order list --date tomorrow --status 待派工", "明天等着派工的单子")
        if waiting
        else None,
        (f"{hk} dispatch plan", "明天的派工计划：每位阿姨的路线、为什么派她、排不进的单和原因")
        if waiting
        else None,
        (f"{hk} dispatch plan --apply", "按计划派工（一次提交）；之后 hk dispatch check 核对规则")
        if waiting
        else None,
        (f"{hk} dispatch sheet", "发给每位阿姨的明天行程（短信/微信）；--format html 打印"),
        (f"{hk} dispatch match --all", "住家保姆、月嫂、陪护：为每个空缺推荐最合适的阿姨"),
        (f"{hk} quote show {quotes[0]['code']}", "发出的报价单，等客户回复") if quotes else None,
        (f"{hk} contract list", "合同：派驻（三方）、周期服务，快到期的排在前面"),
        (
            f"{hk} contract render {contracts[0]['code']} --format html --out 合同.html",
            "打印用的合同（A4，浏览器打开）",
        )
        if contracts
        else None,
        (f"{hk} contract verify {contracts[0]['code']}", "核对签字时的合同文本有没有被改过")
        if contracts
        else None,
        (
            f"{hk} order generate --until {info.today + dt.timedelta(days=21)}",
            "按合同排班生成之后的订单（重复运行不会重复生成）",
        ),
        (f"{hk} visit due", "今天该做和已逾期的回访：首次、定期、低分、投诉后"),
        (f"{hk} complaint list --open", "未结的投诉和响应时限；hk complaint show 看处理经过"),
        (f"{hk} log {code}", "这份档案在 git 里的每一次改动"),
        (f"{hk} doctor", "检查档案里的每一个文件"),
    ]
    shown = [c for c in commands if c is not None]
    width = max(cell_len(cmd) for cmd, _ in shown)
    lines = [
        f"演示档案已建好：{root}",
        f"{company}：{len(customers)} 位客户，{len(workers)} 位阿姨，{len(services)} 个服务项目，"
        f"{index_counts['order']} 张订单，{index_counts['contract']} 份合同"
        "（人和电话都是虚构的）。试试：",
        "",
    ]
    lines += [f"  {cmd}{' ' * (width - cell_len(cmd))}  # {what}" for cmd, what in shown]
    lines += ["", "再运行 hk demo 会重建这份演示档案（日期按今天重新排）。"]
    return lines


def shell_word(text: str) -> str:
    """``text`` as one shell word: as it is when that is safe (Chinese included), else quoted."""
    import shlex

    if text and all(c.isalnum() or c in "-_./:@%+=," for c in text):
        return text
    return shlex.quote(text)


def _soonest_due(workers: list[Any], today: dt.date) -> Any:
    """The worker whose next certificate expiry (today or later) comes first."""
    best: tuple[dt.date, Any] | None = None
    for row in workers:
        for cert in json.loads(row["data"]).get("certificates", []):
            expires = cert.get("expires")
            day = dt.date.fromisoformat(expires) if expires else None
            if day is not None and day >= today and (best is None or day < best[0]):
                best = (day, row)
    return best[1] if best else None
