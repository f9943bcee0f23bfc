"""Pricing (计价): what a customer pays for catalog items, and why.

One computation for orders and quotes, so that a quote and the order it turns into agree to the
fen, and so that every amount on a printed quote can be explained line by line. It reads only
the catalog items, the quantities and the settings (``[pricing]`` and ``[[tiers]]`` of
``hk.toml``), and returns plain, frozen results that the order and quote records copy.

Per line, in this order:

1. the quantity is in the item's unit (hours and m² may be fractional; visits, days and months
   are whole);
2. a minimum quantity is charged when less is booked (钟点工 2 小时起);
3. the unit price is the catalog's, or one agreed for this line;
4. a customer's package covers whole visits of the services it holds;
5. the tier's member discount applies to what the package does not cover;
6. the amount is rounded half up once (to the fen, jiao or yuan, as settings say), and the
   total is the sum of the rounded lines, so a printed quote adds up;
7. the first deposit rule that matches the line sets its deposit (定金).

Money is integer fen throughout; quantities are :class:`~decimal.Decimal`, never float.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from hk.domain.catalog import CATALOG_CODE, UNIT_ZH, Package, ServiceItem, Unit
from hk.domain.money import format_money
from hk.domain.settings import DepositRule, Settings, Tier
from hk.errors import HkError

Quantity = Decimal | int | str
"""A quantity as a caller has it: a Decimal, an int, or text an operator typed (``"1.5"``)."""

WHOLE_UNITS = frozenset({"visit", "day", "month"})
MAX_QUANTITY = Decimal(10_000)
"""More hours, visits or m² than any one order holds: a typo, not a job."""
PLACES = 2
"""Decimals a quantity may have (2.25 hours, 85.5 m²), as an order line stores it."""

QUANTUM = {"fen": 1, "jiao": 10, "yuan": 100}
ROUNDING_ZH = {"fen": "分", "jiao": "角", "yuan": "元"}
_MEASURE_ZH = {**UNIT_ZH, "month": "个月"}


class Result(BaseModel):
    """A computed value: frozen, and strict about its fields, so callers copy it as it is."""

    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class PackageBalance(Result):
    """What is left of a customer's package (客户套餐余量) on the day of a service.

    Pricing takes it in and hands back the balance after the visits it consumed
    (:meth:`PackageUsage.balance`), for the order to store.
    """

    package: str = Field(pattern=CATALOG_CODE, description="code of the package bought")
    visits_left: dict[str, Annotated[int, Field(ge=0)]] = Field(
        description="service code → visits not yet used"
    )
    valid_until: dt.date = Field(description="last day a visit may be taken")

    @classmethod
    def new(cls, package: Package, start: dt.date) -> PackageBalance:
        """A package just bought on ``start``: every visit left, valid for its validity days."""
        return cls(
            package=package.code,
            visits_left={i.service: i.visits for i in package.items},
            valid_until=start + dt.timedelta(days=package.validity_days - 1),
        )


class PricedLine(Result):
    """One priced line: ``gross − covered − discount = net``, each amount rounded once."""

    code: str
    name: str
    category: str
    unit: Unit
    quantity: Decimal = Field(description="as booked")
    charged_quantity: Decimal = Field(description="as charged: at least the minimum")
    minimum: Decimal | None = Field(None, description="least quantity charged, if any")
    list_price_fen: int = Field(description="the catalog's unit price")
    unit_price_fen: int = Field(description="the unit price charged (agreed, or the catalog's)")
    gross_fen: int = Field(description="unit price × charged quantity")
    package_visits: int = Field(0, description="visits a package covered")
    covered_fen: int = Field(0, description="what those visits would have cost")
    discount_percent: int = 0
    discount_fen: int = 0
    net_fen: int = Field(description="what the customer pays for this line")
    deposit_fen: int = Field(0, description="deposit this line's rule asks for")
    notes: list[str] = Field(default_factory=list)


class PackageUsage(Result):
    """What pricing took from a customer's package."""

    package: str
    valid_until: dt.date
    consumed: dict[str, int] = Field(description="service code → visits used by these lines")
    remaining: dict[str, int] = Field(description="service code → visits left afterwards")
    covered_fen: int = Field(description="value of the visits used, at the prices charged")

    def balance(self) -> PackageBalance:
        """The package's balance after these lines, to store with the order."""
        return PackageBalance(
            package=self.package, visits_left=dict(self.remaining), valid_until=self.valid_until
        )


class PriceBreakdown(Result):
    """Everything a quote prints and an order stores about its price."""

    lines: list[PricedLine]
    tier: str | None = None
    rounding: str = "fen"
    subtotal_fen: int = Field(description="sum of the lines' gross amounts")
    covered_fen: int = Field(description="sum covered by the package")
    discount_fen: int = Field(description="sum of the member discounts")
    total_fen: int = Field(description="sum of the lines' net amounts: what the customer pays")
    deposit_fen: int = Field(description="due before the service starts")
    balance_fen: int = Field(description="due after: total − deposit")
    package: PackageUsage | None = None
    notes: list[str] = Field(default_factory=list)


class CancellationFee(Result):
    """What cancelling an order costs, by how early it is cancelled."""

    fee_fen: int
    late: bool
    notes: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class LineRequest:
    """One line to price: a catalog item, how much of it, and optionally the unit the caller
    measured in (checked against the item's) and a unit price agreed with the customer."""

    item: ServiceItem
    quantity: Quantity
    unit: Unit | None = None
    unit_price_fen: int | None = None


# --- helpers --------------------------------------------------------------------------------------


def round_money(value: Decimal, rounding: str = "fen") -> int:
    """Round an amount of fen half up to the fen, jiao or yuan."""
    quantum = QUANTUM[rounding]
    return int((value / quantum).quantize(Decimal(1), rounding=ROUND_HALF_UP)) * quantum


def _floor_money(value: Decimal, rounding: str) -> int:
    quantum = QUANTUM[rounding]
    return int((value / quantum).quantize(Decimal(1), rounding=ROUND_FLOOR)) * quantum


def format_quantity(quantity: Decimal) -> str:
    """``Decimal("1.50")`` → ``1.5``; ``Decimal("2")`` → ``2`` (never ``2E+0``)."""
    return format(quantity.normalize(), "f")


def _measure(quantity: Decimal, unit: str) -> str:
    return f"{format_quantity(quantity)}{_MEASURE_ZH[unit]}"


def parse_quantity(value: Quantity, item: ServiceItem) -> Decimal:
    """The quantity of a line as a Decimal, refused when no order could hold it."""
    if isinstance(value, bool) or not isinstance(value, (Decimal, int, str)):
        raise TypeError(f"a quantity is a Decimal, an int or text, not {type(value).__name__}")
    what = f"{item.code} {item.name}"
    if isinstance(value, str):
        try:
            quantity = Decimal(value.strip())
        except InvalidOperation:
            raise HkError(
                f"'{value}' is not a quantity ({what})", hint="write a number, e.g. 2 or 1.5"
            ) from None
    else:
        quantity = Decimal(value)
    if not quantity.is_finite() or quantity <= 0:
        raise HkError(f"the quantity of {what} must be more than 0, not {value}")
    if quantity > MAX_QUANTITY:
        raise HkError(
            f"{format_quantity(quantity)} {UNIT_ZH[item.unit]} of {what} is more than "
            f"any order holds",
            hint="check the quantity for a typo",
        )
    if quantity != round(quantity, PLACES):
        raise HkError(
            f"the quantity of {what} has more than {PLACES} decimals: {format_quantity(quantity)}",
            hint="round it, e.g. 2.25 or 85.5",
        )
    if item.unit in WHOLE_UNITS and quantity != quantity.to_integral_value():
        raise HkError(
            f"{what} is priced per {UNIT_ZH[item.unit]} ({item.unit}): the quantity "
            f"must be a whole number, not {format_quantity(quantity)}"
        )
    return quantity


def find_tier(settings: Settings, tier: str | None) -> Tier | None:
    """The tier of ``hk.toml`` named ``tier``; ``None`` for a customer without one."""
    if not tier:
        return None
    for candidate in settings.tiers:
        if candidate.name == tier:
            return candidate
    raise HkError(
        f"'{tier}' is not a tier of this archive",
        hint=f"tiers in hk.toml: {', '.join(settings.tier_names()) or 'none'}",
    )


def _minimum(item: ServiceItem, settings: Settings) -> Decimal | None:
    """Least quantity charged: by code, then category, then the hourly minimum."""
    pricing = settings.pricing
    for key in (item.code, item.category):
        if key in pricing.minimum:
            return pricing.minimum[key] or None
    if item.unit == "hour" and pricing.min_hours:
        return pricing.min_hours
    return None


def _deposit_rule(item: ServiceItem, settings: Settings) -> DepositRule | None:
    for rule in settings.pricing.deposits:
        if rule.matches(item.code, item.category, item.unit):
            return rule
    return None


class _PackageState:
    """Visits left while the lines of one breakdown consume them, in line order."""

    def __init__(self, balance: PackageBalance) -> None:
        self.balance = balance
        self.left = dict(balance.visits_left)
        self.consumed: dict[str, int] = {}
        self.names: dict[str, str] = {}

    def take(self, item: ServiceItem, charged: Decimal, notes: list[str]) -> tuple[int, Decimal]:
        """Visits this line takes from the package, and the quantity they cover.

        A line priced per visit takes one visit per unit; a line priced by hour, day, month or
        m² is one visit, covered whole (a package's 深度保洁 covers the flat, whatever its area).
        """
        code = self.balance.package
        if item.code not in self.left:
            return 0, Decimal(0)
        self.names[item.code] = item.name
        left = self.left[item.code]
        if left == 0:
            notes.append(f"套餐{code}中的{item.name}已用完，按价计费")
            return 0, Decimal(0)
        if item.unit == "visit":
            visits = min(int(charged), left)
            covered = Decimal(visits)
        else:
            visits, covered = 1, charged
        self.left[item.code] = left - visits
        self.consumed[item.code] = self.consumed.get(item.code, 0) + visits
        note = f"套餐{code}抵扣{item.name}{visits}次"
        if covered < charged:
            note += f"，其余{format_quantity(charged - covered)}次按价计费"
        notes.append(note + f"（该项剩余{left - visits}次）")
        return visits, covered


# --- pricing --------------------------------------------------------------------------------------


def _price(
    request: LineRequest, settings: Settings, tier: Tier | None, package: _PackageState | None
) -> tuple[PricedLine, bool]:
    """The priced line, and whether rounding changed any of its amounts."""
    item = request.item
    what = f"{item.code} {item.name}"
    if not item.active:
        raise HkError(
            f"{what} is no longer sold (inactive)",
            hint=f"choose another item, or sell it again with hk catalog edit {item.code}",
        )
    if request.unit is not None and request.unit != item.unit:
        raise HkError(
            f"{what} is priced per {UNIT_ZH[item.unit]} ({item.unit}), not per "
            f"{UNIT_ZH.get(request.unit, request.unit)} ({request.unit})",
            hint=f"give the quantity in {item.unit}, or choose an item priced per {request.unit}",
        )
    quantity = parse_quantity(request.quantity, item)
    notes: list[str] = []

    minimum = _minimum(item, settings)
    charged = quantity
    if minimum is not None and quantity < minimum:
        charged = minimum
        least = _measure(minimum, item.unit)
        notes.append(f"{item.name}{least}起，按{least}计费（预约{_measure(quantity, item.unit)}）")

    price = item.price_fen
    if request.unit_price_fen is not None:
        price = request.unit_price_fen
        if isinstance(price, bool) or not isinstance(price, int) or price < 0:
            raise HkError(
                f"the agreed unit price of {what} must be a whole number of fen, 0 or "
                f"more, not {price!r}"
            )
        if price != item.price_fen:
            notes.append(
                f"{item.name}单价按约定{format_money(price)}/{_MEASURE_ZH[item.unit]}"
                f"（标准价{format_money(item.price_fen)}）"
            )

    visits, covered_quantity = (
        package.take(item, charged, notes) if package is not None else (0, Decimal(0))
    )

    percent = tier.discount_percent if tier is not None else 0
    exempt = settings.pricing.no_tier_discount
    if percent and (item.code in exempt or item.category in exempt):
        notes.append(f"{item.name}不参与会员折扣")
        percent = 0

    rounding = settings.pricing.rounding
    exact_gross = price * charged
    payable = price * (charged - covered_quantity)
    exact_net = payable * (100 - percent) / 100
    gross = round_money(exact_gross, rounding)
    uncovered = round_money(payable, rounding)
    net = round_money(exact_net, rounding)
    discount = uncovered - net
    if discount and tier is not None:
        notes.append(f"{tier.name}会员优惠{percent}%：{item.name}减{format_money(discount)}")

    deposit = _deposit(item, settings, price, percent, net, notes)
    line = PricedLine(
        code=item.code,
        name=item.name,
        category=item.category,
        unit=item.unit,
        quantity=quantity,
        charged_quantity=charged,
        minimum=minimum,
        list_price_fen=item.price_fen,
        unit_price_fen=price,
        gross_fen=gross,
        package_visits=visits,
        covered_fen=gross - uncovered,
        discount_percent=percent,
        discount_fen=discount,
        net_fen=net,
        deposit_fen=deposit,
        notes=notes,
    )
    return line, gross != exact_gross or net != exact_net or uncovered != payable


def _deposit(
    item: ServiceItem, settings: Settings, price: int, percent: int, net: int, notes: list[str]
) -> int:
    """The deposit the first matching rule asks of a line, never more than the line costs."""
    rule = _deposit_rule(item, settings)
    if rule is None or net == 0:
        return 0
    rounding = settings.pricing.rounding
    if rule.months:
        if item.unit != "month":
            raise HkError(
                f"a deposit rule in hk.toml asks {item.code} {item.name} for {rule.months} "
                f"month(s) of its fee, but it is priced per {UNIT_ZH[item.unit]} ({item.unit})",
                hint='give that [[pricing.deposits]] rule percent or fixed_fen, or unit = "month"',
            )
        amount = min(
            net, round_money(Decimal(price * rule.months * (100 - percent)) / 100, rounding)
        )
        basis = f"{rule.months}个月服务费"
    elif rule.percent:
        amount = round_money(Decimal(net * rule.percent) / 100, rounding)
        basis = f"服务费的{rule.percent}%"
    elif rule.fixed_fen:
        amount = min(net, round_money(Decimal(rule.fixed_fen), rounding))
        basis = "固定金额"
    else:
        return 0
    if amount:
        notes.append(f"{item.name}定金按{basis}收取：{format_money(amount)}")
    return amount


def price_line(
    item: ServiceItem,
    quantity: Quantity,
    settings: Settings,
    tier: str | None = None,
    *,
    unit: Unit | None = None,
    unit_price_fen: int | None = None,
) -> PricedLine:
    """Price one catalog item on its own (no package): see the module's rules 1–7."""
    request = LineRequest(item, quantity, unit, unit_price_fen)
    return _price(request, settings, find_tier(settings, tier), None)[0]


def price_lines(
    lines: Iterable[LineRequest | tuple[ServiceItem, Quantity]],
    settings: Settings,
    tier: str | None = None,
    package: PackageBalance | None = None,
    *,
    on: dt.date | None = None,
) -> PriceBreakdown:
    """Price the lines of an order or a quote, with the customer's tier and package.

    ``on`` is the day of the service; it is needed with a package, to refuse an expired one.
    The lines take the package's visits in order. The deposit is the sum of the lines'
    deposits, held to ``deposit_cap_percent`` of the total.
    """
    requests = [r if isinstance(r, LineRequest) else LineRequest(*r) for r in lines]
    if not requests:
        raise HkError("nothing to price: give at least one catalog item and its quantity")
    state: _PackageState | None = None
    if package is not None:
        if on is None:
            raise ValueError("pricing with a package needs the service date (on=)")
        if on > package.valid_until:
            raise HkError(
                f"package {package.package} expired on {package.valid_until.isoformat()}",
                hint="price the service without the package, or sell the customer a new one",
            )
        state = _PackageState(package)
    tier_found = find_tier(settings, tier)
    results = [_price(r, settings, tier_found, state) for r in requests]
    priced = [line for line, _ in results]

    rounding = settings.pricing.rounding
    total = sum(line.net_fen for line in priced)
    notes = [note for line in priced for note in line.notes]
    if any(rounded for _, rounded in results):
        notes.append(f"各行金额四舍五入到{ROUNDING_ZH[rounding]}，合计为各行之和")

    usage = None
    if state is not None:
        usage = PackageUsage(
            package=state.balance.package,
            valid_until=state.balance.valid_until,
            consumed=state.consumed,
            remaining=state.left,
            covered_fen=sum(line.covered_fen for line in priced),
        )
        notes.extend(_package_notes(state, settings))

    deposit = sum(line.deposit_fen for line in priced)
    cap = _floor_money(Decimal(total * settings.pricing.deposit_cap_percent) / 100, rounding)
    if deposit > cap:
        notes.append(
            f"定金不超过总额的{settings.pricing.deposit_cap_percent}%，"
            f"由{format_money(deposit)}调整为{format_money(cap)}"
        )
        deposit = cap
    if deposit:
        notes.append(f"应付定金{format_money(deposit)}，尾款{format_money(total - deposit)}")

    return PriceBreakdown(
        lines=priced,
        tier=tier_found.name if tier_found else None,
        rounding=rounding,
        subtotal_fen=sum(line.gross_fen for line in priced),
        covered_fen=sum(line.covered_fen for line in priced),
        discount_fen=sum(line.discount_fen for line in priced),
        total_fen=total,
        deposit_fen=deposit,
        balance_fen=total - deposit,
        package=usage,
        notes=notes,
    )


def _package_notes(state: _PackageState, settings: Settings) -> list[str]:
    code = state.balance.package
    left = (
        "、".join(
            f"{state.names[c]}{n}次" if c in state.names else f"{c} {n}次"
            for c, n in state.left.items()
            if n
        )
        or "无"
    )
    notes = [f"套餐{code}有效期至{state.balance.valid_until.isoformat()}，剩余：{left}"]
    low = settings.reminders.package_visits_left
    for service in state.consumed:
        if 0 < state.left[service] <= low:
            notes.append(
                f"套餐{code}的{state.names[service]}仅剩{state.left[service]}次，可提醒客户续购"
            )
        elif state.left[service] == 0:
            notes.append(f"套餐{code}的{state.names[service]}已用完，可提醒客户续购")
    return notes


def cancellation_fee(total_fen: int, notice: dt.timedelta, settings: Settings) -> CancellationFee:
    """What cancelling an order of ``total_fen`` costs, cancelled ``notice`` before it starts.

    Early enough (``free_cancel_hours``) costs nothing; later costs the fixed fee or the
    percentage of the order, whichever is more, and never more than the order.
    """
    if total_fen < 0:
        raise HkError(f"an order total cannot be negative ({format_money(total_fen)})")
    pricing = settings.pricing
    hours = pricing.free_cancel_hours
    if notice >= dt.timedelta(hours=hours):
        return CancellationFee(
            fee_fen=0, late=False, notes=[f"提前{hours}小时以上取消，不收取费用"]
        )
    by_percent = round_money(
        Decimal(total_fen * pricing.late_cancel_percent) / 100, pricing.rounding
    )
    fee = min(total_fen, max(pricing.late_cancel_fee_fen, by_percent))
    when = "服务开始后" if notice <= dt.timedelta(0) else f"服务开始前不足{hours}小时"
    return CancellationFee(
        fee_fen=fee, late=True, notes=[f"{when}取消，收取违约金{format_money(fee)}"]
    )
