"""Draw a board definition's lines for one period from ``standings`` (the one ranking
function): red, black, and "not yet corrected" black-board households of earlier periods.
Nothing here writes."""
import re
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, or_, select

from app.boards.models import BlackCorrection, BoardLine, BoardPublication
from app.boards.periods import previous_period
from app.boards.queries import vetoed_households
from app.extensions import db
from app.scoring.models import LedgerEntry
from app.scoring.periods import Period
from app.scoring.queries import _aware, rank_key, standings


@dataclass(frozen=True)
class Drawn:
    """One line of a drawn board (see ``BoardLine`` for the fields)."""

    board: str
    rank: int
    village_rank: int | None
    prev_rank: int | None
    household_id: int
    house_number: str
    head_name: str
    points: Decimal
    deductions: Decimal
    since_label: str | None = None


_SEPARATORS = re.compile(r"[,，、;；]")


def split_codes(text: str, spaces: bool = True) -> list:
    """The codes or names in ``text``, trimmed: separated by commas (ASCII or Chinese), 、,
    semicolons (ASCII or Chinese) and, unless ``spaces`` is false (category names may hold a
    space), whitespace."""
    parts = _SEPARATORS.split(text or "")
    if spaces:
        parts = [p for part in parts for p in part.split()]
    return [c.strip() for c in parts if c.strip()]


def filtered_deductions(village_id: int, period: Period, items: list, categories: list) -> dict:
    """{household id: Decimal deductions (<= 0)} of confirmed deductions in ``period`` whose
    item code is in ``items`` or category name in ``categories``, net of their reversals
    (a reversal keeps the deduction's item and category, with opposite points)."""
    rows = db.session.execute(
        select(LedgerEntry.household_id, func.sum(LedgerEntry.points))
        .where(LedgerEntry.village_id == village_id, LedgerEntry.status == "confirmed",
               LedgerEntry.direction == "deduction",
               LedgerEntry.deed_date >= period.start, LedgerEntry.deed_date < period.end,
               or_(LedgerEntry.item_code.in_(items), LedgerEntry.category_name.in_(categories)))
        .group_by(LedgerEntry.household_id)).all()
    return {hid: Decimal(total).quantize(Decimal("0.01")) for hid, total in rows}


def red_lines(definition, table, vetoed, prev) -> list:
    """Red board: standings order, points > 0 (CTFd #577: a zero score is never on it), veto
    households out, then the threshold (points >= it) and the top N."""
    chosen = [s for s in table if s.points > 0 and s.household_id not in vetoed]
    if definition.red_threshold is not None:
        chosen = [s for s in chosen if s.points >= definition.red_threshold]
    if definition.red_top_n:
        chosen = chosen[:definition.red_top_n]
    return [Drawn("red", i, s.rank, prev.get(s.household_id), s.household_id, s.house_number,
                  s.head_name, s.points, s.deductions) for i, s in enumerate(chosen, start=1)]


def black_lines(definition, village_id, period, table, prev) -> list:
    """Black board: households whose deductions in the period (in the chosen items or
    categories, else all) are below 0 and, with a threshold, deducted at least that much;
    most deducted first, ties by the ranking rule's tie-break (``rank_key``); then the
    ``black_bottom_n`` most deducted."""
    items = split_codes(definition.black_items)
    cats = split_codes(definition.black_categories, spaces=False)
    if items or cats:
        deds = filtered_deductions(village_id, period, items, cats)
    else:
        deds = {s.household_id: s.deductions for s in table}
    chosen = [(s, deds[s.household_id]) for s in table if deds.get(s.household_id, 0) < 0]
    if definition.black_threshold is not None:
        chosen = [(s, d) for s, d in chosen if -d >= definition.black_threshold]
    chosen.sort(key=lambda sd: rank_key(-sd[1], sd[0].reached_at, sd[0].household_id))
    if definition.black_bottom_n:
        chosen = chosen[:definition.black_bottom_n]
    return [Drawn("black", i, s.rank, prev.get(s.household_id), s.household_id,
                  s.house_number, s.head_name, s.points, d)
            for i, (s, d) in enumerate(chosen, start=1)]


def uncorrected(village_id: int, period: Period) -> dict:
    """{household id: label of the first period it was put on a published black board since
    its last recorded correction}, for black listings of periods before ``period``."""
    listed = db.session.execute(
        select(BoardLine.household_id, BoardPublication.period_label,
               BoardPublication.published_at)
        .join(BoardPublication, BoardPublication.id == BoardLine.publication_id)
        .where(BoardPublication.village_id == village_id, BoardLine.board == "black",
               BoardPublication.status == "published",
               BoardPublication.period_end <= period.start)).all()
    fixed = dict(db.session.execute(
        select(BlackCorrection.household_id, func.max(BlackCorrection.recorded_at))
        .where(BlackCorrection.village_id == village_id)
        .group_by(BlackCorrection.household_id)).all())
    open_since = {}
    for hid, label, at in listed:
        last_fix = fixed.get(hid)
        if last_fix is not None and _aware(at) <= _aware(last_fix):
            continue
        open_since[hid] = min(label, open_since.get(hid, label))
    return open_since


def draw(definition, village_id: int, period: Period) -> list:
    """Every line of ``definition``'s board for ``period`` in village ``village_id``: red,
    black, then "uncorrected" (on an earlier black board, no correction recorded since, not
    on this period's black board). Returns a list of Drawn."""
    table = standings(village_id, period, definition.group_id)
    prev_table = standings(village_id, previous_period(period, definition.period_kind),
                           definition.group_id)
    prev = {s.household_id: s.rank for s in prev_table if s.reached_at is not None}
    red = red_lines(definition, table, vetoed_households(village_id, period), prev)
    black = black_lines(definition, village_id, period, table, prev)
    on_black = {ln.household_id for ln in black}
    since = uncorrected(village_id, period)
    rows = [s for s in table if s.household_id in since and s.household_id not in on_black]
    rows.sort(key=lambda s: (since[s.household_id], s.rank))
    late = [Drawn("uncorrected", i, s.rank, prev.get(s.household_id), s.household_id,
                  s.house_number, s.head_name, s.points, s.deductions,
                  since[s.household_id]) for i, s in enumerate(rows, start=1)]
    return red + black + late
