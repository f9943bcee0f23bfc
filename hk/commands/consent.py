"""``hk consent add|withdraw|list``: the consents a customer gave, as PIPL asks for them."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from hk.commands.common import archive_of, parse_day, print_json, say
from hk.textwidth import fit

app = typer.Typer(
    help="Consents a customer gave (授权同意): record, withdraw, list.", no_args_is_help=True
)

Customer = Annotated[str, typer.Argument(help="Code or ID of the customer.")]
Purpose = Annotated[
    str,
    typer.Option(
        "--purpose",
        help="service (提供家政服务), sensitive (敏感个人信息处理), marketing (回访与优惠信息), "
        "or the purpose in your own words.",
    ),
]
Day = Annotated[str | None, typer.Option("--date", help="When (default: today).")]


def _day(ctx: typer.Context, text: str | None) -> dt.date | None:
    if text is None:
        return None
    tz = archive_of(ctx).settings.locale.timezone
    return dt.date.fromisoformat(parse_day(text, "--date", tz))


@app.command("add")
def add(
    ctx: typer.Context,
    customer: Customer,
    purpose: Purpose,
    how: Annotated[str, typer.Option("--how", help="纸质签字, 微信确认, 电话录音 …")],
    scope: Annotated[
        str, typer.Option("--scope", help="Which data, e.g. 身份证号、家人健康状况.")
    ] = "",
    date: Day = None,
) -> None:
    """Record a consent the customer gave: what for, which data, how it was given."""
    from hk.services.consent import ConsentGiven, add_consent

    record, consent, result = add_consent(
        archive_of(ctx), customer, ConsentGiven(purpose, scope, how, _day(ctx, date))
    )
    say(f"recorded consent of {result.code} {record.title()}: {consent.purpose} ({consent.method})")


@app.command("withdraw")
def withdraw(ctx: typer.Context, customer: Customer, purpose: Purpose, date: Day = None) -> None:
    """Withdraw the customer's consent for a purpose (kept on record, dated).

    Marketing withdrawn: no more greetings or offers are sent to the customer. Sensitive
    data withdrawn: the customer's sensitive values should be erased too (PIPL Art. 47).
    """
    from hk.services.consent import purpose_key, withdraw_consent

    record, withdrawn, result = withdraw_consent(
        archive_of(ctx), customer, purpose, _day(ctx, date)
    )
    for consent in withdrawn:
        say(f"withdrawn: {result.code} {record.title()}: {consent.purpose}")
    key = purpose_key(purpose)
    if key == "marketing":
        say("  no greetings or offers go to this customer from now on")
    elif key == "sensitive":
        say("  hk keeps no sensitive data without consent: erase it with")
        say(f"    hk privacy erase {result.code} --sensitive-only")


@app.command("list")
def list_(
    ctx: typer.Context,
    customer: Customer,
    json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The customer's consents, in force or withdrawn."""
    from hk.services.consent import consents_of

    record, lines = consents_of(archive_of(ctx), customer)
    if json:
        print_json(
            [{**line.consent.model_dump(mode="json"), "in_force": line.in_force} for line in lines]
        )
        return
    for line in lines:
        c = line.consent
        state = "有效" if line.in_force else f"已撤回 {c.withdrawn}" if c.withdrawn else "未生效"
        say(f"{fit(c.purpose, 30)} {fit(c.scope, 24)} {c.date}  {fit(c.method, 10)} {state}")
    if not lines:
        say(f"no consent recorded for {record.title()}")
