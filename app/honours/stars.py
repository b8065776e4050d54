"""Star households (星级文明户), derived: the rulebook's star bands (``BookRule.star_bands``,
``rules.engine.star_band``) applied to each household's points of the period as ranked by
``scoring.queries.standings`` (the one ranking and sum); a household hit by a veto item in the
period (``boards.queries.vetoed_households``) gets no stars (RULE-FEATURES rows 15, 16).
A conferment (``StarConferment``) freezes one period's ratings."""
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from app.boards.queries import vetoed_households
from app.extensions import db
from app.honours.models import StarConferment, StarRating
from app.rules.engine import star_band
from app.rules.queries import book_rule, version_in_force
from app.scoring.periods import Period, month_period, quarter_period, year_period
from app.scoring.queries import standings

PERIOD_KINDS = ("year", "quarter", "month")


@dataclass(frozen=True)
class StarRow:
    """One household's live rating: ``points`` (Decimal) in the period, ``band`` label or
    None, ``stars`` (0 = none; the band's place among the rulebook's bands, lowest = 1)."""

    position: int
    household_id: int
    house_number: str
    head_name: str
    points: Decimal
    band: str | None
    stars: int
    vetoed: bool


def star_period_kind(version) -> str:
    """The period star ratings are computed over: ``star_period`` in the rulebook-wide rules,
    or a ``period`` written on the star bands (``{min: 60, label: 一星, period: quarter}``);
    "year" by default. One of PERIOD_KINDS."""
    params = (version.params if version is not None else None) or {}
    kind = params.get("star_period")
    if kind is None:
        kind = next((b.get("period") for b in params.get("star_bands") or ()
                     if isinstance(b, dict) and b.get("period")), None)
    return kind if kind in PERIOD_KINDS else "year"


def star_period(kind: str, year: int, part: int | None = None) -> Period:
    """The Period of ``kind`` in ``year``: the whole year, quarter ``part`` (1-4) or month
    ``part`` (1-12; defaults to the first). Raises ValueError on an impossible part."""
    if kind == "year":
        return year_period(date(year, 1, 1))
    part = part or 1
    if kind == "quarter":
        if not 1 <= part <= 4:
            raise ValueError("quarter")
        return quarter_period(date(year, 3 * part - 2, 1))
    return month_period(date(year, part, 1))


def bands_of(version) -> tuple:
    """The rulebook's star bands as ((minimum Decimal, label), ...), lowest first."""
    return tuple(sorted(book_rule(version).star_bands, key=lambda b: b[0]))


def star_count(bands: tuple, label) -> int:
    """The number of stars a band label stands for: its place among ``bands`` (lowest = 1),
    0 for None."""
    labels = [b[1] for b in bands]
    return labels.index(label) + 1 if label in labels else 0


def star_ratings(village, period: Period):
    """(version, [StarRow]) for ``village`` over ``period``, in the order of ``standings``.

    The bands are those of the rulebook version in force on the period's last day (None and
    no stars when the village has no rulebook). Vetoed households get 0 stars.
    """
    version = version_in_force(village, period.end - timedelta(days=1))
    book = book_rule(version)
    bands = tuple(sorted(book.star_bands, key=lambda b: b[0]))
    vetoed = vetoed_households(village.id, period)
    rows = []
    for s in standings(village.id, period):
        hit = s.household_id in vetoed
        band = None if hit else star_band(book, s.points)
        rows.append(StarRow(position=s.rank, household_id=s.household_id,
                            house_number=s.house_number, head_name=s.head_name,
                            points=s.points, band=band, stars=star_count(bands, band),
                            vetoed=hit))
    return version, rows


def conferment_of(village_id: int, kind: str, period: Period):
    """The StarConferment of ``village_id`` for the period, or None."""
    return db.session.execute(
        select(StarConferment).where(StarConferment.village_id == village_id,
                                     StarConferment.period_kind == kind,
                                     StarConferment.period_start == period.start)
    ).scalar_one_or_none()


def household_stars(household_id: int, limit: int = 3) -> list:
    """The household's conferred ratings with stars, newest period first: a list of
    StarRating (with ``conferment`` loaded), at most ``limit``."""
    return db.session.execute(
        select(StarRating).join(StarConferment)
        .where(StarRating.household_id == household_id, StarRating.stars > 0)
        .order_by(StarConferment.period_start.desc()).limit(limit)
    ).scalars().all()
