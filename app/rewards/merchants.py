"""Partner merchants (合作商户): shops that accept points on behalf of a village or a township.

A merchant is registered for a region (a village, or a township for all its villages), has
its own catalogue (``Reward.merchant_id``, stock kept on the Reward: the shop's own) and
counter logins (role ``merchant_clerk`` linked by ``MerchantStaff``). A redemption at the
merchant is an ordinary redemption (one spend entry of the household's village ledger) that
names the merchant; the village or township settles them with the merchant per period from
``settlement``: the points redeemed and their yuan value as recorded on the lines.

Writes flush, never commit.
"""
from collections import defaultdict
from datetime import date
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from app.accounts.models import User
from app.extensions import db
from app.households import queries as hh_q
from app.households.models import Household
from app.regions.models import Region
from app.regions.queries import villages_under
from app.rewards.models import Merchant, MerchantStaff, Redemption, RedemptionLine
from app.rules.engine import N_, Refusal

CLERK_ROLE = "merchant_clerk"


def add_merchant(*, region: Region, name: str, contact: str = "", phone: str = "",
                 address: str = "", clerk_username: str = "", clerk_password: str = ""
                 ) -> Merchant:
    """Register a merchant for ``region`` (a village or a township) and, when
    ``clerk_username`` is given, its counter login (role ``merchant_clerk`` over the same
    region, password checked by the password rules). Returns the flushed Merchant.
    Raises Refusal: "bad_region" (not a village or township), "name_required",
    "username_taken", "bad_password" (the first problem of the password rules)."""
    from app.accounts.passwords import password_problems
    if region.level not in ("village", "township"):
        raise Refusal("bad_region", N_("合作商户只能登记在村或乡镇"))
    name = (name or "").strip()
    if not name:
        raise Refusal("name_required", N_("请填写商户名称"))
    merchant = Merchant(region_id=region.id, name=name[:64], contact=(contact or "")[:64],
                        phone=(phone or "").strip()[:32], address=(address or "")[:128],
                        active=True)
    db.session.add(merchant)
    db.session.flush()
    username = (clerk_username or "").strip()
    if username:
        if db.session.scalar(select(User.id).where(User.username == username)):
            raise Refusal("username_taken", N_("用户名“%(name)s”已被使用"), name=username)
        problems = password_problems(clerk_password or "", username)
        if problems:
            raise Refusal("bad_password", N_("%(problem)s"), problem=str(problems[0]))
        user = User(username=username[:64], display_name=name[:64], role=CLERK_ROLE,
                    region_id=region.id)
        user.set_password(clerk_password)
        db.session.add(user)
        db.session.flush()
        db.session.add(MerchantStaff(user_id=user.id, merchant_id=merchant.id))
        db.session.flush()
    return merchant


def merchant_of(user) -> Merchant | None:
    """The merchant whose counter login ``user`` is, else None."""
    if not getattr(user, "is_authenticated", False):
        return None
    return db.session.scalar(select(Merchant).join(MerchantStaff)
                             .where(MerchantStaff.user_id == user.id))


def merchants_for(village: Region) -> list:
    """Merchants serving ``village``: its own and its township's (a list, by name)."""
    owners = [village.id] + ([village.parent_id] if village.parent_id else [])
    return db.session.execute(select(Merchant).where(Merchant.region_id.in_(owners))
                              .order_by(Merchant.name, Merchant.id)).scalars().all()


def merchants_in(region: Region) -> list:
    """Merchants registered for ``region`` itself (a list, by name)."""
    return db.session.execute(select(Merchant).where(Merchant.region_id == region.id)
                              .order_by(Merchant.name, Merchant.id)).scalars().all()


def villages_of(merchant: Merchant) -> list:
    """The villages a merchant serves: its village, or every village of its township."""
    return villages_under(merchant.region)


def find_households(merchant: Merchant, q: str, limit: int = 30) -> list:
    """Active households of the villages the merchant serves matching ``q`` (house number,
    name or pinyin initials, as ``households.queries.search_stmt``), at most ``limit``."""
    found = []
    for village in villages_of(merchant):
        found += db.session.execute(hh_q.search_stmt(village.id, q).limit(limit - len(found))
                                    ).unique().scalars().all()
        if len(found) >= limit:
            break
    return found


def serves(merchant: Merchant, household: Household) -> bool:
    """True when the merchant accepts points for ``household``'s village."""
    return merchant.region.contains(household.village)


def settlement(merchant: Merchant, start: date, end: date) -> dict:
    """The settlement statement of ``merchant`` for local days ``start`` <= day < ``end``:
    redemptions at the merchant that stand (cancelled ones excluded).

    Returns {"lines": [RedemptionLine] (with .redemption and its household), "by_village":
    [(village Region, redemptions int, points Decimal, yuan Decimal)] (what each village
    owes), "count": int, "points": Decimal, "yuan": Decimal (sum of the lines' recorded
    yuan), "missing": int (lines recorded without a yuan value)}. Totals are the sums of
    the lines.
    """
    lines = db.session.execute(
        select(RedemptionLine).join(Redemption)
        .options(selectinload(RedemptionLine.redemption).selectinload(Redemption.household))
        .where(Redemption.merchant_id == merchant.id, Redemption.status == "done",
               Redemption.day >= start, Redemption.day < end)
        .order_by(Redemption.day, Redemption.id, RedemptionLine.id)).scalars().all()
    per = defaultdict(lambda: [set(), Decimal("0.00"), Decimal("0.00")])
    for line in lines:
        bucket = per[line.redemption.village_id]
        bucket[0].add(line.redemption_id)
        bucket[1] += Decimal(line.points)
        bucket[2] += Decimal(line.yuan or 0)
    villages = {r.id: r for r in db.session.execute(
        select(Region).where(Region.id.in_(list(per)))).scalars()} if per else {}
    by_village = [(villages[vid], len(ids), pts, yuan)
                  for vid, (ids, pts, yuan) in sorted(per.items(),
                                                      key=lambda kv: villages[kv[0]].code)]
    return {"lines": lines, "by_village": by_village,
            "count": len({line.redemption_id for line in lines}),
            "points": sum((Decimal(x.points) for x in lines), Decimal("0.00")),
            "yuan": sum((Decimal(x.yuan or 0) for x in lines), Decimal("0.00")),
            "missing": sum(1 for x in lines if x.yuan is None)}


def recent(merchant: Merchant, limit: int = 20) -> list:
    """The merchant's latest redemptions with lines and households, newest first."""
    return db.session.execute(
        select(Redemption).options(selectinload(Redemption.lines),
                                   selectinload(Redemption.household))
        .where(Redemption.merchant_id == merchant.id)
        .order_by(Redemption.id.desc()).limit(limit)).scalars().all()


def catalogue(merchant: Merchant, active_only: bool = False) -> list:
    """The merchant's catalogue (a list of Reward), active first, by category then name."""
    from app.rewards.models import Reward
    stmt = select(Reward).where(Reward.merchant_id == merchant.id)
    if active_only:
        stmt = stmt.where(Reward.active.is_(True))
    return db.session.execute(
        stmt.order_by(Reward.active.desc(), Reward.category, Reward.name, Reward.id)
    ).scalars().all()
