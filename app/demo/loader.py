"""Build the demo: real regions of 南昌市, one pilot village with 120 synthetic households in
6 villager groups, its rulebook (岚皋县“道德银行” + the four standard categories), demo
accounts, and three months of entries posted through the rules engine.

Names and phone numbers are synthetic. Deterministic: the same seed gives the same village.
"""
import random
from datetime import date, datetime, time, timedelta, timezone
from importlib import resources

from sqlalchemy import select

from app.accounts.services import create_user
from app.demo.regions import load_region_tree
from app.extensions import db
from app.households.services import add_group, add_household
from app.regions.models import Region
from app.rules.engine import Refusal
from app.rules.importer import parse_rulebook
from app.rules.services import load_spec
from app.scoring.periods import local_today, local_zone, month_period
from app.review.services import approve, confirm_due, raise_objection, submit_self_report
from app.scoring.models import LedgerEntry, VillageSettings
from app.scoring.services import post_entry, reverse_entry

DEMO_VILLAGE_CODE = "360121100202"   # 南昌县 莲塘镇 斗门村委会
FOREIGN_VILLAGE_CODE = "360124101200"  # a village of 进贤县, for the scoping demo
DEMO_PASSWORD = "demo-2021"
GROUPS = ["第一村民小组", "第二村民小组", "第三村民小组", "第四村民小组", "第五村民小组",
          "第六村民小组"]
SURNAMES = "熊万涂喻魏邹胡刘李王张陈杨黄吴徐罗邓舒龚"
GIVEN = "国建华明军平秀英兰芳桂生福海林春梅金水根发荣德志强红云珍玉连火木"

ACCOUNTS = [  # username, display name, role, region code (None: the demo village)
    ("admin", "系统管理员", "system_admin", "3601"),
    ("city", "市乡村治理办", "city_official", "3601"),
    ("county", "南昌县农业农村局", "county_official", "360121"),
    ("township", "莲塘镇审核员", "township_auditor", "360121100"),
    ("villageadmin", "斗门村管理员", "village_admin", None),
    ("scorer", "斗门村评分员", "village_scorer", None),
]


def is_empty() -> bool:
    """True when the database holds no region yet (a fresh install)."""
    return db.session.execute(select(Region.id).limit(1)).first() is None


def _name(rng, surname=None):
    return (surname or rng.choice(SURNAMES)) + "".join(rng.choice(GIVEN)
                                                       for _ in range(rng.choice((1, 2))))


def _rulebook_text(name):
    return resources.files("app.demo").joinpath("data", name).read_text(encoding="utf-8")


def load_demo(seed: int = 2021, today: date | None = None) -> dict:
    """Load the whole demo into an empty database (flushes; the caller commits).

    Returns {"village": Region, "users": {username: User}, "password": str}.
    """
    rng = random.Random(seed)
    today = today or local_today()
    load_region_tree()
    village = Region.query.filter_by(code=DEMO_VILLAGE_CODE).one()
    village.is_pilot = True
    groups = [add_group(village, name) for name in GROUPS]

    start = month_period(month_period(today).start - timedelta(days=40)).start
    standard = parse_rulebook(_rulebook_text("standard_categories.yaml"), code_prefix="S")
    langao = parse_rulebook(_rulebook_text("rulebooks/langao-daode-bank.yaml"), code_prefix="L")
    inspection = parse_rulebook(_rulebook_text("demo_inspection.yaml"), code_prefix="J")
    # star households (星级文明户) by the year's points: the demo village's own bands
    langao.rules = {**(langao.rules or {}), "star_bands": [
        {"min": 10, "label": "一星"}, {"min": 20, "label": "二星"}, {"min": 30, "label": "三星"}]}
    version = load_spec(
        village, langao, "斗门村积分管理办法", adopted_on=start - timedelta(days=10),
        effective_from=start - timedelta(days=1),
        extra=standard.categories + inspection.categories,
        decision="村党组织提议、村“两委”商议、党员大会审议、村民代表会议决议（到会 38 人，"
                 "赞成 36 票、反对 0 票、弃权 2 票）；决议和实施结果公开")

    users = {}
    for username, display, role, code in ACCOUNTS:
        region = village if code is None else Region.query.filter_by(code=code).one()
        users[username] = create_user(username=username, password=DEMO_PASSWORD,
                                      display_name=display, role=role, region=region)
    foreign = Region.query.filter_by(code=FOREIGN_VILLAGE_CODE).one_or_none()
    if foreign is not None:
        users["otherscorer"] = create_user(username="otherscorer", password=DEMO_PASSWORD,
                                           display_name="外村评分员", role="village_scorer",
                                           region=foreign)

    households = []
    # registered before the history begins, so every month of it counts them (roll-ups)
    registered = datetime.combine(start - timedelta(days=10), time(), tzinfo=timezone.utc)
    for n in range(1, 121):
        surname = rng.choice(SURNAMES)
        members = [_name(rng, surname if rng.random() < 0.6 else None)
                   for _ in range(rng.randint(1, 5))]
        households.append(add_household(
            village=village, group=groups[(n - 1) // 20], house_number=str(n),
            head_name=_name(rng, surname), members=members, registered_at=registered,
            phone="1" + rng.choice("3589") + "".join(rng.choice("0123456789") for _ in range(9))))

    db.session.add(VillageSettings(village_id=village.id, notice_days=7))
    for item in (i for c in version.categories for i in c.items):
        item.needs_review = item.kind == "range"  # the panel's values get a second look
    users["scorer"].household_id = households[2].id  # the scorer lives at No. 3
    _post_history(rng, version, households, users, start, today)
    from app.rewards.demo import load_shop
    load_shop(village, households, users)
    from app.demo.distinctions import load_distinctions, load_pilot_round
    load_distinctions(village, households, users, today)
    load_pilot_round(village, today)
    return {"village": village, "users": users, "password": DEMO_PASSWORD}


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    """A local time on ``day`` as UTC."""
    return datetime.combine(day, time(hour, minute), local_zone()).astimezone(timezone.utc)


def _post_history(rng, version, households, users, start: date, today: date):
    """Post about three months of entries in date order, as the village would have: the
    scorer records, the admin reviews the panel's range items, notices end each morning, a
    few entries are reversed; recent ones stay under notice, one is objected to, and one
    household has declared a deed that waits for review."""
    scorer, admin = users["scorer"], users["villageadmin"]
    items = [i for c in version.categories for i in c.items
             if i.kind in ("fixed", "range")]  # the inspection is scored on the tablet grid
    awards = [i for i in items if not i.is_deduction]
    deductions = [i for i in items if i.is_deduction]
    deeds = []
    for h in households:
        diligence = rng.random()
        day = start
        while day < today:  # up to yesterday: nothing recorded later than now
            if rng.random() < 0.15 + 0.35 * diligence:
                deeds.append((day, h, rng.choice(awards)))
            if rng.random() < 0.05 * (1.2 - diligence):
                deeds.append((day, h, rng.choice(deductions)))
            day += timedelta(days=rng.randint(2, 7))
    deeds.sort(key=lambda d: (d[0], d[1].id))
    village_id = households[0].village_id
    current = None
    for day, household, item in deeds:
        if day != current:
            current = day
            confirm_due(village_id, day, at=_at(day, 7))
        if item.once_only and rng.random() < 0.8:
            continue
        at = _at(day, rng.randint(8, 17), rng.randint(0, 59))
        points = rng.randint(int(item.min_points), int(item.max_points)) \
            if item.kind == "range" else None
        try:
            entry = post_entry(household=household, item_id=item.id, deed_date=day,
                               recorded_by=scorer, points=points, recorded_at=at)
        except Refusal as exc:  # a once-only item drawn twice: the engine refuses, skip
            if exc.code != "once_only":
                raise
            continue
        if entry.status == "awaiting_review" and (today - day).days > 2:
            approve(entry, by_user=admin, at=at + timedelta(hours=1))
        if rng.random() < 0.02:
            reverse_entry(entry, reason="录入错误：记错了户", recorded_by=scorer,
                          recorded_at=at + timedelta(hours=1))
    confirm_due(village_id, today)
    noticed = [e for e in LedgerEntry.query.filter_by(village_id=village_id,
                                                       status="under_notice")
               .order_by(LedgerEntry.id)]
    if len(noticed) >= 2:
        raise_objection(noticed[0], by_household=households[-1],
                        text="我们看到的情况和记分不一样，请村委会核实。")
        raise_objection(noticed[1], by_user=admin, text="评分员记错了门牌号。")
    submit_self_report(households[4], item_id=awards[0].id,
                       deed_date=today - timedelta(days=1),
                       description="帮邻居王大爷把生病的老伴送到镇卫生院。")
