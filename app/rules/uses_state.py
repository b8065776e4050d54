"""Database side of the non-goods uses of points (RULE-FEATURES row 26): a household's
privileges now, the sanction that blocks its redemptions, and the dividend table of a
village. The pure rules are in ``app.rules.uses``."""
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.memo import memo, watch
from app.rules import queries as rules_q
from app.rules.engine import N_, Refusal
from app.rules.models import RuleItem
from app.rules.uses import dividend_shares, privileges, redemption_blocked_until
from app.scoring.models import LedgerEntry, unreversed
from app.scoring.periods import local_today, year_period

# the sanctions are read from confirmed entries and their items' params: a write to either
# drops the memo (app.memo)
watch("redemption_block", LedgerEntry, RuleItem)


def household_privileges(household, today: date | None = None) -> list:
    """Labels of the privileges (``rules.privileges``) of the rulebook in force on ``today``
    (local date, default today) that the household's confirmed earned score to date
    reaches; [] without a rulebook or privileges."""
    version = rules_q.version_in_force(household.village, today or local_today())
    book = rules_q.book_rule(version)
    if not book.privileges:
        return []
    balance = household.balance
    score = Decimal(balance.earned_score) if balance is not None else Decimal(0)
    return privileges(book.privileges, score)


def redemption_block(household, today: date | None = None):
    """(LedgerEntry, first local date redemption is allowed again) of the sanction that
    blocks the household's redemptions on ``today`` the longest, or None. A sanction is a
    confirmed entry, not reversed, of an item whose params carry
    ``blocks_redemption_months``; it blocks from its deed date for that many months (the
    item as it was in the version that judged the entry). Read once per transaction and
    household (a redemption checks it in the view and again in the service)."""
    today = today or local_today()
    known = memo("redemption_block")
    if known is not None and (household.id, today) in known:
        return known[(household.id, today)]
    found = _redemption_block(household, today)
    if known is not None:
        known[(household.id, today)] = found
    return found


def _redemption_block(household, today: date):
    confirmed = (LedgerEntry.household_id == household.id, LedgerEntry.kind == "score",
                 LedgerEntry.status == "confirmed", LedgerEntry.deed_date <= today)
    # first the items the household was scored on (a few), so that the entries are loaded
    # only when one of them is a sanction (issue 10: read on every door-plate page view)
    months_of = {item_id: (params or {}).get("blocks_redemption_months")
                 for item_id, params in db.session.execute(
                     select(RuleItem.id, RuleItem.params).where(RuleItem.id.in_(
                         select(LedgerEntry.item_id).where(*confirmed).distinct())))}
    sanctions = [item_id for item_id, months in months_of.items() if months]
    if not sanctions:
        return None
    rows = db.session.execute(
        select(LedgerEntry).where(*confirmed, LedgerEntry.item_id.in_(sanctions),
                                  unreversed())
    ).scalars().all()
    found = None
    for entry in rows:
        months = months_of[entry.item_id]
        until = redemption_blocked_until(entry.deed_date, int(months))
        if until > today and (found is None or until > found[1]):
            found = (entry, until)
    return found


def check_sanctions(household, today: date | None = None) -> None:
    """Raise Refusal("sanctioned") naming the item, its deed date and the date redemption
    opens again while a sanction blocks the household (``redemption_block``)."""
    block = redemption_block(household, today)
    if block is not None:
        entry, until = block
        raise Refusal("sanctioned", N_("本户因“%(item)s”（%(day)s）按积分细则停止兑换，"
                                       "%(until)s 起恢复"),
                      item=entry.item_name, day=entry.deed_date.isoformat(),
                      until=until.isoformat())


def dividend_table(village_id: int, year: int, pool: Decimal) -> list:
    """Each household's dividend of a ``pool`` (Decimal yuan) of village ``village_id`` for
    calendar ``year``: in proportion to its confirmed points of the year (awards less
    deductions by deed date, ``scoring.queries.standings`` for the year, the one ranking
    function and its tie-break), by ``uses.dividend_shares``. Returns dicts {rank,
    household_id, house_number, head_name, points, yuan} in standings order; the yuan add up
    to ``pool`` exactly when any household has positive points. Nothing is posted to the
    ledger. Raises Refusal("bad_pool")."""
    from app.scoring.queries import standings
    rows = standings(village_id, year_period(date(year, 1, 1)))
    shares = dividend_shares(pool, [(s.household_id, s.points) for s in rows])
    return [{"rank": s.rank, "household_id": s.household_id, "house_number": s.house_number,
             "head_name": s.head_name, "points": s.points, "yuan": shares[s.household_id]}
            for s in rows]
