"""``hk dispatch match``: the ranked short list of workers for a long-term role, or a worker
for every open role at once (``--all``, a proposal until ``--apply``).

The command reads options and prints; :mod:`hk.services.dispatch.match` gathers the archive
and :mod:`hk.dispatch.match` filters, scores and assigns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from hk.commands.common import archive_of, print_json, say

if TYPE_CHECKING:
    from hk.dispatch.match import Candidate, Request
    from hk.domain.settings import MatchWeights
    from hk.services.dispatch.match import Match, Proposal

STAR = "★"
"""Marks the customer's preferred workers (客户点名)."""


def register(app: typer.Typer) -> None:
    """Add ``match`` to the ``hk dispatch`` app."""
    app.command("match")(match)


def match(
    ctx: typer.Context,
    ref: Annotated[
        str | None,
        typer.Argument(
            help="Code or ID of the order (D…) or placement contract (C…) to find a worker for.",
            show_default=False,
        ),
    ] = None,
    every: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Propose a worker for every open long-term role at once, none given "
            "twice: orders waiting for a worker, draft placements without "
            "one.",
        ),
    ] = False,
    top: Annotated[
        int, typer.Option("--top", min=1, help="How many candidates to show for one role.")
    ] = 10,
    apply: Annotated[
        bool,
        typer.Option(
            "--apply",
            help="With --all: assign the proposed workers (orders that are 待派工, "
            "draft contracts), one commit each.",
        ),
    ] = False,
    json: Annotated[bool, typer.Option("--json", help="Print JSON instead of tables.")] = False,
) -> None:
    """Rank the workers for a long-term role (保姆, 育儿嫂, 月嫂, 老人陪护): hard filters, then a
    score per factor (skills, certificates, experience, ratings, fit, age, availability,
    distance) weighted by the section dispatch.match of hk.toml."""
    from hk.errors import UsageError

    if every == (ref is not None):
        raise UsageError(
            "give one order or contract, or --all",
            hint="hk dispatch match D7K2M, or hk dispatch match --all",
        )
    if apply and not every:
        raise UsageError(
            "--apply goes with --all",
            hint="for one role, assign with hk order assign or name the worker on the contract",
        )
    archive = archive_of(ctx)
    if every:
        from hk.services.dispatch.match import apply as apply_all
        from hk.services.dispatch.match import match_all

        proposal = match_all(archive)
        if apply:
            apply_all(archive, proposal)
        if json:
            print_json(_proposal_json(proposal))
        else:
            say(proposal_text(proposal, applying=apply))
        return
    from hk.services.dispatch.match import match as match_one

    assert ref is not None
    found = match_one(archive, ref)
    if json:
        print_json(_match_json(found, top))
        return
    say(match_text(found, top))
    if not found.ranking.candidates:
        raise typer.Exit(1)


# --- one role ---------------------------------------------------------------------------------


def match_text(found: Match, top: int) -> str:
    """The role, what it asks, the short list with points per factor, each one's reasons, and
    who the hard filters left out."""
    from hk.dispatch.match import FACTOR_ZH, FACTORS, tally

    ranking = found.ranking
    request = ranking.request
    lines = [
        f"{request.source} {request.ref}  {request.title}  客户 {found.customer_code} "
        f"{found.customer_name}  {request.start} – {request.end}  {found.place}".rstrip()
    ]
    lines += _asks(request)
    lines += [f"note: {note}" for note in found.notes]
    shown = ranking.candidates[:top]
    if shown:
        heads = ["#", "阿姨", "总分", *(FACTOR_ZH[f] for f in FACTORS), "到岗"]
        rows = [
            [
                str(n),
                _who(c),
                f"{c.total:.1f}",
                *(f"{f.points:.1f}" for f in c.factors),
                str(c.available_from) if c.available_from else "不明",
            ]
            for n, c in enumerate(shown, 1)
        ]
        lines += ["", table(heads, rows, right={0, *range(2, 3 + len(FACTORS))})]
        lines.append(_weights_line(found.weights))
        if len(ranking.candidates) > len(shown):
            lines.append(
                f"showing {len(shown)} of {len(ranking.candidates)} candidates (--top N for more)"
            )
        lines.append("")
        lines += [
            f"{n} {c.name}：" + " · ".join(f"{FACTOR_ZH[f.name]} {f.reason}" for f in c.factors)
            for n, c in enumerate(shown, 1)
        ]
        if any(c.preferred for c in shown):
            lines.append(f"{STAR} 客户点名的阿姨")
    else:
        lines += ["", "no worker passes the hard filters"]
    if ranking.excluded:
        lines += [
            "",
            f"{_workers(len(ranking.excluded))} excluded: " + ", ".join(tally(ranking.excluded)),
        ]
    return "\n".join(lines)


def _asks(request: Request) -> list[str]:
    """要求 (the hard filters' terms) and 加分 (what scores), each only when there is any."""
    from hk.dispatch.match import ages

    need = [
        ("技能", "、".join(request.skills)),
        ("证书", "、".join(request.certificates)),
        ("性别", request.gender or ""),
        ("年龄", ages(request.age_min, request.age_max)),
    ]
    like = [
        ("技能", "、".join(s for s in request.wanted_skills if s not in request.skills)),
        ("证书", "、".join(c for c in request.customary if c not in request.certificates)),
        ("年龄", ages(request.preferred_age_min, request.preferred_age_max)),
        ("籍贯", "、".join(request.native_places)),
        ("方言", "、".join(request.dialects)),
        ("口味", request.cooking_taste),
    ]
    out = []
    for head, pairs in (("要求", need), ("加分", like)):
        given = [f"{name} {value}" for name, value in pairs if value]
        if given:
            out.append(f"{head}：" + "；".join(given))
    return out


def _who(c: Candidate) -> str:
    return f"{c.code} {c.name}" + (STAR if c.preferred else "")


def _workers(n: int) -> str:
    return f"{n} worker" + ("" if n == 1 else "s")


def _weights_line(weights: MatchWeights) -> str:
    from hk.dispatch.match import FACTOR_ZH, FACTORS

    given = " ".join(f"{FACTOR_ZH[f]} {getattr(weights, f)}" for f in FACTORS)
    total = sum(getattr(weights, f) for f in FACTORS)
    return f"权重：{given}（满分 {total}，hk.toml [dispatch.match]）"


def table(heads: list[str], rows: list[list[str]], right: set[int] | None = None) -> str:
    """Aligned columns measured in terminal cells (Chinese takes two); columns in ``right``
    (numbers) are aligned to the right."""
    from hk.textwidth import cell_len

    right = right or set()
    widths = [max(cell_len(r[i]) for r in [heads, *rows]) for i in range(len(heads))]

    def line(cells: list[str]) -> str:
        out = []
        for i, (cell, width) in enumerate(zip(cells, widths, strict=True)):
            pad = " " * (width - cell_len(cell))
            out.append(pad + cell if i in right else cell + pad)
        return "  ".join(out).rstrip()

    return "\n".join(line(r) for r in [heads, *rows])


def _match_json(found: Match, top: int) -> dict[str, Any]:
    from hk.dispatch.match import tally
    from hk.services.dispatch.match import candidates_json, request_json

    ranking = found.ranking
    return {
        "request": {
            **request_json(ranking.request),
            "customer_code": found.customer_code,
            "customer_name": found.customer_name,
            "place": found.place,
        },
        "weights": found.weights.model_dump(),
        "notes": found.notes,
        "candidates": candidates_json(ranking.candidates[:top]),
        "candidate_count": len(ranking.candidates),
        "excluded": [
            {
                "worker": {"id": e.worker_id, "code": e.code, "name": e.name},
                "rules": [
                    {"rule": b.rule, "detail": b.detail, "reason": b.reason} for b in e.breaks
                ],
            }
            for e in ranking.excluded
        ],
        "excluded_summary": tally(ranking.excluded),
    }


# --- every open role ----------------------------------------------------------------------------


def proposal_text(proposal: Proposal, applying: bool) -> str:
    """One line per open role and the worker proposed; why a role has none; what was applied."""
    if not proposal.proposed:
        return (
            "no open long-term roles: no 保姆, 育儿嫂, 月嫂 or 老人陪护 order waits for a "
            "worker, and no draft placement lacks one"
        )
    heads = ["需求", "岗位", "客户", "开始", "阿姨", "总分"]
    rows = []
    for p in proposal.proposed:
        request = p.ranking.request
        pick = p.chosen
        rows.append(
            [
                request.ref,
                request.title,
                proposal.customers.get(request.record_id, ""),
                str(request.start),
                _who(pick) if pick else "无",
                f"{pick.total:.1f}/{pick.out_of}" if pick else "",
            ]
        )
    lines = [table(heads, rows, right={5})]
    missing = [p for p in proposal.proposed if p.chosen is None]
    if missing:
        lines.append("")
        lines += [f"no worker for {p.ranking.request.ref}: {p.reason}" for p in missing]
    lines.append("")
    if applying:
        for done in proposal.applied:
            lines.append(
                f"assigned {done.message}"
                if done.done
                else f"not assigned {done.ref} → {done.worker}: {done.message}"
            )
    elif len(missing) < len(proposal.proposed):
        lines.append(
            "a proposal only: hk dispatch match --all --apply assigns it (orders "
            "that are 待派工, draft placements), or assign one by one"
        )
    return "\n".join(lines).rstrip()


def _proposal_json(proposal: Proposal) -> dict[str, Any]:
    from hk.services.dispatch.match import request_json

    return {
        "weights": proposal.weights.model_dump(),
        "requests": [
            {
                "request": {
                    **request_json(p.ranking.request),
                    "customer_name": proposal.customers.get(p.ranking.request.record_id, ""),
                },
                "worker": _one(p.chosen) if p.chosen else None,
                "candidate_count": len(p.ranking.candidates),
                "reason": p.reason,
            }
            for p in proposal.proposed
        ],
        "applied": [
            {"ref": a.ref, "worker": a.worker, "done": a.done, "message": a.message}
            for a in proposal.applied
        ],
    }


def _one(chosen: Candidate) -> dict[str, Any]:
    from hk.services.dispatch.match import candidates_json

    data = candidates_json([chosen])[0]
    del data["rank"]
    return data
