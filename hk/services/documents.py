"""Documents (quotes, contracts, worker order sheets) rendered from Jinja2 templates.

Each document has one template, written in Markdown (``hk/templates/<name>.md.j2``); the
Markdown text is *the* document: it is what a signature's SHA-256 covers, so re-rendering the
same record with the same template gives the same bytes and a hand edit of signed terms shows.
The print-ready HTML is that Markdown converted (markdown-it, raw HTML in values escaped) and
wrapped in ``base.html.j2``: an A4 page with a CJK font stack, opened in a browser and printed.

Templates run in Jinja2's sandbox with undefined variables as errors: an archive may override
any template in its own ``templates/`` folder, and a typo there must fail loudly rather than
print an empty blank in a contract. The company block comes from ``hk.toml`` (``[company]``).
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any, Literal

from hk.domain.fields import mask_phone as mask_phone
from hk.domain.pricing import format_quantity
from hk.errors import HkError
from hk.store.archive import Archive

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
"""The templates hk ships; an archive's ``templates/`` folder overrides them by file name."""
ARCHIVE_TEMPLATES = "templates"

Format = Literal["md", "html"]
FORMATS: tuple[Format, ...] = ("md", "html")


class TemplateProblem(HkError):
    """A template is missing, malformed, or uses a value the document does not have."""


def environment(archive: Archive | None) -> Any:
    """The sandboxed Jinja2 environment: the archive's templates first, then hk's own.

    One per archive folder for the life of the process: compiling a template costs
    milliseconds, and Jinja2 reloads a template whose file changed on disk anyway.
    """
    folder = archive.root / ARCHIVE_TEMPLATES if archive is not None else None
    return _environment(str(folder) if folder is not None and folder.is_dir() else None)


@functools.lru_cache(maxsize=8)
def _environment(own: str | None) -> Any:
    from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    loaders = [FileSystemLoader(own)] if own is not None else []
    loaders.append(FileSystemLoader(TEMPLATES))
    env = SandboxedEnvironment(
        loader=ChoiceLoader(loaders),
        undefined=StrictUndefined,
        autoescape=_autoescape,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(money=money, rmb_upper=rmb_upper, zh_date=zh_date, md=md_escape)
    return env


def _autoescape(name: str | None) -> bool:
    """HTML templates escape every value; Markdown templates escape with the ``md`` filter."""
    return bool(name and name.endswith(".html.j2"))


def render_markdown(archive: Archive | None, name: str, context: Mapping[str, Any]) -> str:
    """The document ``name`` (``quote``, ``contract``, ``order_sheet`` …) as Markdown."""
    return render_text(archive, f"{name}.md.j2", context)


def render_text(archive: Archive | None, template: str, context: Mapping[str, Any]) -> str:
    """Any text template by its file name: a Markdown document, or a plain message
    (``*.txt.j2``, e.g. a worker's day to send by SMS) made the same way."""
    from jinja2 import TemplateError, TemplateNotFound

    env = environment(archive)
    full = {"company": _company(archive), **context}
    try:
        text: str = env.get_template(template).render(full)
    except TemplateNotFound:
        raise TemplateProblem(
            f"no template '{template}'",
            hint=f"hk ships them in {TEMPLATES.name}/; an archive may add its "
            f"own in {ARCHIVE_TEMPLATES}/",
        ) from None
    except TemplateError as exc:
        lineno = getattr(exc, "lineno", None)
        where = f" (line {lineno})" if lineno else ""
        raise TemplateProblem(
            f"template '{template}'{where}: {exc}",
            hint=f"check {ARCHIVE_TEMPLATES}/{template} if the archive overrides it",
        ) from None
    return text.rstrip("\n") + "\n"


def to_html(archive: Archive | None, markdown: str, title: str) -> str:
    """Markdown → a print-ready A4 HTML page (``base.html.j2``)."""
    from jinja2 import TemplateError
    from markdown_it import MarkdownIt

    body = (
        MarkdownIt("commonmark", {"html": False, "typographer": False})
        .enable("table")
        .render(markdown)
    )
    env = environment(archive)
    try:
        page: str = env.get_template("base.html.j2").render(
            title=title, body=_markup(body), company=_company(archive)
        )
    except TemplateError as exc:
        raise TemplateProblem(f"template 'base.html.j2': {exc}") from None
    return page


def render(
    archive: Archive | None,
    name: str,
    context: Mapping[str, Any],
    fmt: Format = "md",
    title: str = "",
) -> str:
    """The document in ``fmt``: Markdown, or the same Markdown as an A4 HTML page."""
    text = render_markdown(archive, name, context)
    return text if fmt == "md" else to_html(archive, text, title or name)


def digest(text: str) -> str:
    """SHA-256 (hex) of a rendered document's UTF-8 bytes: what a signature covers."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _markup(html: str) -> Any:
    from markupsafe import Markup

    return Markup(html)  # safe: markdown-it escaped every value (html=False)


def _company(archive: Archive | None) -> dict[str, str]:
    if archive is None:
        return {"name": "", "phone": "", "address": "", "email": "", "license": ""}
    return archive.settings.company.model_dump()


# --- filters ------------------------------------------------------------------------------------


def money(fen: int | None, symbol: str = "¥") -> str:
    """Fen → ``¥1,234.50``; amounts on documents are always shown to the fen."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    yuan, rest = divmod(abs(int(fen)), 100)
    return f"{sign}{symbol}{yuan:,}.{rest:02d}"


_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL = ["", "拾", "佰", "仟"]
_BIG = ["", "万", "亿", "兆"]


def rmb_upper(fen: int) -> str:
    """The amount in capital numerals (大写金额), as contracts and receipts write it.

    ``123456`` fen → ``人民币壹仟贰佰叁拾肆元伍角陆分``; whole yuan end in ``整``.
    """
    fen = int(Decimal(fen).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if fen < 0:
        return "负" + rmb_upper(-fen)
    yuan, cents = divmod(fen, 100)
    jiao, fen_part = divmod(cents, 10)
    words = _yuan_words(yuan) + "元" if yuan else ""
    if not cents:
        return "人民币" + (words or "零元") + "整"
    if jiao:
        words += ("零" if yuan and yuan % 10 == 0 else "") + _DIGITS[jiao] + "角"
    elif yuan:
        words += "零"
    if fen_part:
        words += _DIGITS[fen_part] + "分"
    else:
        words += "整"
    return "人民币" + words


def _yuan_words(number: int) -> str:
    groups: list[int] = []
    while number:
        number, group = divmod(number, 10_000)
        groups.append(group)
    words = ""
    zero_pending = False
    for position in range(len(groups) - 1, -1, -1):
        group = groups[position]
        if group == 0:
            zero_pending = bool(words)
            continue
        if words and (zero_pending or group < 1000):
            words += "零"
        words += _group_words(group) + _BIG[position]
        zero_pending = False
    return words


def _group_words(group: int) -> str:
    words = ""
    zero = False
    for place in range(3, -1, -1):
        digit = group // 10**place % 10
        if digit == 0:
            zero = bool(words)
            continue
        if zero:
            words += "零"
            zero = False
        words += _DIGITS[digit] + _SMALL[place]
    return words


def zh_date(value: dt.date | dt.datetime | str | None) -> str:
    """``2026-11-22`` → ``2026年11月22日`` (a datetime keeps its time: ``… 09:00``)."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value) if "T" in value else dt.date.fromisoformat(value)
    text = f"{value.year}年{value.month}月{value.day}日"
    if isinstance(value, dt.datetime):
        text += f" {value:%H:%M}"
    return text


_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]|<>#"})


def md_escape(value: object) -> str:
    """A value as literal Markdown text: a ``|`` in a name must not split a table cell."""
    return str(value).translate(_MD_SPECIAL).replace("\n", " ")


MEASURE_ZH = {"hour": "小时", "visit": "次", "day": "天", "month": "个月", "m2": "平方米"}
"""Units as a document names them after a quantity."""


def measure(quantity: Any, unit: str) -> str:
    """``3小时``, ``120平方米``, ``1次``."""
    return f"{format_quantity(quantity)}{MEASURE_ZH.get(unit, unit)}"
