#!/usr/bin/env python3
"""Build a synthetic county straight into PostgreSQL (COPY) or SQLite (executemany).

    .venv/bin/python bench/generate.py --database-url postgresql://postgres@127.0.0.1:5432/bench_county
    .venv/bin/python bench/generate.py --database-url sqlite:///instance/bench.sqlite3 \\
        --villages 5 --households 2000 --entries 50000

Default: 200 villages, 100,000 households, 5,000,000 ledger entries over 3 years, in the real
南昌县 (township rulebook templates made from the demo rulebook: 岚皋县“道德银行” plus the four
standard categories). The database is dropped and re-created, then migrated with
``flask db upgrade``; the skeleton (regions, rulebooks, accounts, village settings, rewards) is
made through the app's own services, and the bulk (households, members, balances, entries,
their status transitions, objections, redemptions) is written directly, month by month.

The bulk honours the ledger's invariants (``flask ledger verify``): each village's entries and
transitions form one hash chain (seq 1, 2, 3..., ``prev_hash``, ``hash`` computed exactly as
``app.scoring.chain.row_hash``), each entry's status is the destination of its last
transition, and every ``household_balance`` row equals the sums of its entries.

Mix: ~88 % awards and ~9 % deductions from the rulebook (range items go through review), ~3 %
reversals of confirmed entries, redemptions at the points supermarket (spend entries with a
redemption and its line) when the household can afford them, and objections holding a few
entries still under notice. Entries of the last 7 days are still under public notice.

Accounts (password ``bench-2026``): ``bench-scorer`` / ``bench-admin`` (village 1),
``bench-township`` (township auditor of village 1's township), ``bench-county`` (county
official), ``bench-scorer-<n>`` for every village. Door-plate tokens depend on QR_TOKEN_KEY.
"""
import argparse
import hashlib
import os
import random
import subprocess
import sys
import time
from bisect import bisect_right
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "bench-2026"
COUNTY_CODE = "360121"  # 南昌县
NOTICE_DAYS = 7
SURNAMES = "熊万涂喻魏邹胡刘李王张陈杨黄吴徐罗邓舒龚"
GIVEN = "国建华明军平秀英兰芳桂生福海林春梅金水根发荣德志强红云珍玉连火木"
REWARDS = [("食用油", "桶", 50), ("洗衣粉", "袋", 10), ("大米", "袋", 80), ("毛巾", "条", 5)]
CENT = Decimal("0.01")


def prepare_database(url: str, env: dict) -> None:
    """Drop and re-create the database (or delete the SQLite file), then migrate it."""
    if url.startswith("postgresql"):
        import psycopg
        admin, name = pg_url(url).rsplit("/", 1)
        with psycopg.connect(admin + "/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
    elif url.startswith("sqlite:///"):
        Path(url[len("sqlite:///"):]).unlink(missing_ok=True)
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
                   cwd=ROOT, env=env, check=True, capture_output=True)


def catch_up_schema(app) -> bool:
    """When the models in the working tree are ahead of the migrations (new tables, columns
    or indexes not migrated yet), rebuild the schema from the models (``create_all``) so the
    bench measures the code as it stands. Returns True when it did."""
    from sqlalchemy import inspect

    from app.extensions import db
    insp = inspect(db.engine)
    behind = []
    for name, table in db.metadata.tables.items():
        if not insp.has_table(name):
            behind.append(name)
            continue
        cols = {c["name"] for c in insp.get_columns(name)}
        idx = {i["name"] for i in insp.get_indexes(name)}
        behind += [f"{name}.{c.name}" for c in table.columns if c.name not in cols]
        behind += [i.name for i in table.indexes if i.name not in idx]
    if not behind:
        return False
    print(f"models ahead of the migrations ({', '.join(sorted(behind)[:8])}...): schema "
          f"rebuilt with create_all", flush=True)
    db.session.remove()
    db.drop_all()
    with db.engine.begin() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    db.create_all()
    return True


def pg_url(url: str) -> str:
    """A libpq URL (no SQLAlchemy driver suffix)."""
    return url.replace("postgresql+psycopg://", "postgresql://")


def bench_env(url: str) -> dict:
    """Environment for the app's CLI and server on the bench database."""
    return dict(os.environ, DATABASE_URL=url, SECRET_KEY=os.environ.get("SECRET_KEY",
                "bench-secret"), QR_TOKEN_KEY=os.environ.get("QR_TOKEN_KEY", "bench-qr"),
                LOG_LEVEL="WARNING")


class Sink:
    """Buffers rows per table and writes them: COPY on PostgreSQL, executemany on SQLite."""

    ORDER = ("household", "household_member", "ledger_entry", "entry_transition", "objection",
             "redemption", "redemption_line")

    def __init__(self, engine, tables):
        self.engine, self.tables = engine, tables
        self.pg = engine.dialect.name == "postgresql"
        self.rows = {name: [] for name in self.ORDER}
        self.written = {name: 0 for name in self.ORDER}

    def add(self, table: str, row: dict) -> None:
        self.rows[table].append(row)

    def flush(self) -> None:
        with self.engine.begin() as conn:
            self.bulk_mode(conn)
            for name in self.ORDER:
                rows = self.rows[name]
                if not rows:
                    continue
                self.write(conn, name, rows)
                self.written[name] += len(rows)
                self.rows[name] = []

    def bulk_mode(self, conn) -> None:
        """On PostgreSQL, skip the foreign-key triggers for this transaction (the generator
        makes consistent rows; ``flask ledger verify`` checks a small county) and do not
        wait for the WAL flush at commit."""
        if self.pg:
            conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
            conn.exec_driver_sql("SET LOCAL synchronous_commit = off")

    def write(self, conn, name: str, rows: list) -> None:
        table = self.tables[name]
        if not self.pg:
            conn.execute(table.insert(), rows)
            return
        cols = [c.name for c in table.columns]
        raw = conn.connection.driver_connection
        with raw.cursor() as cur:
            with cur.copy(f"COPY {name} ({', '.join(cols)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([row.get(c) for c in cols])


def _canon_fast(value, _canon=None) -> str:
    """``app.scoring.chain._canon`` for the values this generator makes (UTC datetimes,
    2-place Decimals), faster; anything else goes to the app's own function."""
    kind = type(value)
    if kind is str:
        return value
    if value is None:
        return "\u2400"
    if kind is int or kind is bool:
        return str(value)
    if kind is Decimal and value.as_tuple().exponent == -2:
        return str(value)
    if kind is datetime and value.tzinfo is timezone.utc:
        return value.isoformat(timespec="microseconds")[:26] + "Z"
    if kind is date:
        return value.isoformat()
    from app.scoring.chain import _canon
    return _canon(value)


_N = "\u2400"
_ENTRY_FIELDS = ("seq", "village_id", "household_id", "kind", "direction",
                 "rulebook_version_id", "item_id", "item_code", "item_name", "category_name",
                 "unit_points", "quantity", "points", "deed_date", "period",
                 "note", "reason", "recorded_by_id", "recorded_at", "idempotency_key",
                 "reverses_id", "evidence_id", "spendable", "member_name")
_TRANSITION_FIELDS = ("seq", "village_id", "entry_id", "from_status", "to_status",
                      "by_user_id", "at", "reason")


def _opt(value):
    return _N if value is None else value


def _utc(value: datetime) -> str:
    return value.isoformat(timespec="microseconds")[:26] + "Z"


def entry_hash(r: dict, prev: str) -> str:
    """``chain_hash("E", ENTRY_FIELDS, r, prev)`` unrolled for speed: the generator's rows
    have 2-place Decimals, UTC datetimes and no note, key, evidence or member."""
    text = (f"E\x1f{prev}\x1f{r['seq']}\x1f{r['village_id']}\x1f{r['household_id']}\x1f"
            f"{r['kind']}\x1f{r['direction']}\x1f{_opt(r['rulebook_version_id'])}\x1f"
            f"{_opt(r['item_id'])}\x1f{r['item_code']}\x1f{r['item_name']}\x1f"
            f"{r['category_name']}\x1f{r['unit_points']}\x1f{r['quantity']}\x1f"
            f"{r['points']}\x1f{r['deed_date']}\x1f{r['period']}\x1f{_N}\x1f"
            f"{_opt(r['reason'])}\x1f{r['recorded_by_id']}\x1f{_utc(r['recorded_at'])}\x1f"
            f"{_N}\x1f{_opt(r['reverses_id'])}\x1f{_N}\x1f{r['spendable']}\x1f{_N}")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def transition_hash(r: dict, prev: str) -> str:
    """``chain_hash("T", TRANSITION_FIELDS, r, prev)`` unrolled for speed."""
    text = (f"T\x1f{prev}\x1f{r['seq']}\x1f{r['village_id']}\x1f{r['entry_id']}\x1f"
            f"{_opt(r['from_status'])}\x1f{r['to_status']}\x1f{_opt(r['by_user_id'])}\x1f"
            f"{_utc(r['at'])}\x1f{_opt(r['reason'])}")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def chain_hash(tag: str, fields: tuple, row: dict, prev: str) -> str:
    """``app.scoring.chain.row_hash`` for a row given as a dict."""
    text = "\x1f".join([tag, prev] + [_canon_fast(row.get(f)) for f in fields])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def skeleton(app, n_villages: int, rng) -> dict:
    """Regions, township rulebooks, accounts, settings and rewards through the app's services.
    Returns plain data the bulk writer needs."""
    from sqlalchemy import select

    from app.accounts.models import User
    from app.accounts.services import create_user
    from app.demo.loader import _rulebook_text
    from app.demo.regions import load_region_tree
    from app.extensions import db
    from app.regions.models import Region
    from app.regions.services import add_region
    from app.rewards.models import Reward
    from app.rules.importer import parse_rulebook
    from app.rules.services import load_spec
    from app.scoring.models import VillageSettings
    from app.scoring.periods import local_today

    today = local_today()
    start = date(today.year - 3, today.month, 1)
    load_region_tree()
    county = Region.query.filter_by(code=COUNTY_CODE).one()
    townships = db.session.execute(select(Region).where(Region.parent_id == county.id)
                                   .order_by(Region.sort_order, Region.id)).scalars().all()
    townships = townships[:max(1, min(len(townships), (n_villages + 9) // 10))]
    villages, books = [], {}
    for n in range(n_villages):
        town = townships[n % len(townships)]
        village = add_region(code=f"{town.code}9{n:03d}", name=f"{town.name[:2]}试点{n + 1}村",
                             level="village", parent=town, is_pilot=True, sort_order=900 + n)
        groups = [add_region(code=f"{village.code}-G{g}", name=f"第{'一二三四五六'[g]}村民小组",
                             level="group", parent=village, sort_order=g) for g in range(5)]
        villages.append((village, groups))
        db.session.add(VillageSettings(village_id=village.id, notice_days=NOTICE_DAYS))
    standard = parse_rulebook(_rulebook_text("standard_categories.yaml"), code_prefix="S")
    langao = parse_rulebook(_rulebook_text("rulebooks/langao-daode-bank.yaml"), code_prefix="L")
    for town in {v.parent_id: v.parent for v, _ in villages}.values():
        version = load_spec(town, langao, f"{town.name}村级积分管理办法（模板）",
                            adopted_on=start - timedelta(days=20),
                            effective_from=start - timedelta(days=10),
                            extra=standard.categories, decision="镇党委会议审定的村级模板")
        items = []
        for cat in version.categories:
            for item in cat.items:
                item.needs_review = item.kind == "range"
                if item.once_only:
                    continue
                items.append(dict(id=item.id, code=item.code, name=item.name,
                                  category=cat.name, kind=item.kind, points=item.points,
                                  lo=item.min_points, hi=item.max_points,
                                  review=item.kind == "range", deduction=item.is_deduction))
        books[town.id] = (version.id, items)
    first, town1 = villages[0][0], villages[0][0].parent
    template = create_user(username="bench-scorer", password=PASSWORD,
                           display_name="试点1村评分员", role="village_scorer", region=first)
    create_user(username="bench-admin", password=PASSWORD, display_name="试点1村管理员",
                role="village_admin", region=first)
    create_user(username="bench-township", password=PASSWORD, display_name="镇审核员",
                role="township_auditor", region=town1)
    create_user(username="bench-county", password=PASSWORD, display_name="县农业农村局",
                role="county_official", region=county)
    scorers = {first.id: template.id}
    for n, (village, _) in enumerate(villages[1:], start=2):
        user = User(username=f"bench-scorer-{n}", display_name=f"试点{n}村评分员",
                    role="village_scorer", region=village, password_hash=template.password_hash)
        db.session.add(user)
        db.session.flush()
        scorers[village.id] = user.id
    rewards = {}
    for village, _ in villages:
        rows = [Reward(village_id=village.id, name=name, category="日用品", unit=unit,
                       points_price=Decimal(price), is_goods=True, stock=100000, low_stock_at=5,
                       active=True) for name, unit, price in REWARDS]
        db.session.add_all(rows)
        db.session.flush()
        rewards[village.id] = [(r.id, r.name, r.unit, Decimal(r.points_price).quantize(CENT))
                              for r in rows]
    out = {"today": today, "start": start, "county_id": county.id, "scorers": scorers,
           "villages": [(v.id, v.parent_id, [g.id for g in gs]) for v, gs in villages],
           "books": books, "rewards": rewards}
    db.session.commit()
    db.session.remove()  # no transaction (on SQLite: no write lock) held from here on
    return out


def _name(rng, surname=None):
    return (surname or rng.choice(SURNAMES)) + "".join(rng.choice(GIVEN)
                                                       for _ in range(rng.choice((1, 2))))


class County:
    """The bulk writer: households, then the ledger month by month, then balances and chain
    heads. Ids are assigned here (sequences are moved past them at the end)."""

    def __init__(self, app, sink, skel, rng, n_households, n_entries):
        from app.households.qr import derive_token, token_hash
        self.app, self.sink, self.sk, self.rng = app, sink, skel, rng
        self.n_households, self.n_entries = n_households, n_entries
        self.derive, self.thash = derive_token, token_hash
        self.chain = {}      # village id -> [seq, head]
        self.bal = {}        # household id -> [earned, spendable, pending, count, reached_at]
        self.recent = {}     # village id -> list of reversible entries
        self.hh = {}         # village id -> (household ids, cumulative weights)
        self.ids = {"ledger_entry": 0, "entry_transition": 0, "objection": 0,
                    "redemption": 0, "redemption_line": 0}
        self.now = datetime.now(timezone.utc).replace(microsecond=0)
        self.tokens = {}
        self._pools = {}
        self.shard, self.shards = 0, 1
        from app.scoring.chain import ENTRY_FIELDS, TRANSITION_FIELDS
        if (ENTRY_FIELDS, TRANSITION_FIELDS) == (_ENTRY_FIELDS, _TRANSITION_FIELDS):
            self.entry_hash, self.transition_hash = entry_hash, transition_hash
        else:  # the chain's fields changed: the generic (slower) path stays right
            self.entry_hash = lambda row, prev: chain_hash("E", ENTRY_FIELDS, row, prev)
            self.transition_hash = lambda row, prev: chain_hash("T", TRANSITION_FIELDS, row,
                                                                prev)

    def households(self) -> None:
        rng, villages = self.rng, self.sk["villages"]
        hid, mid = 0, 0
        per = self.n_households // len(villages)
        for vi, (vid, _, groups) in enumerate(villages):
            count = per + (1 if vi < self.n_households % len(villages) else 0)
            ids, weights, total = [], [], 0.0
            for n in range(1, count + 1):
                hid += 1
                surname = rng.choice(SURNAMES)
                nonce = f"{rng.getrandbits(128):032x}"
                token = self.derive(nonce)
                if len(self.tokens) < 2000 and vi < 2:
                    self.tokens[hid] = token
                head = _name(rng, surname)
                self.sink.add("household", dict(
                    id=hid, village_id=vid, group_id=groups[(n - 1) * len(groups) // count],
                    house_number=str(n), head_name=head, name_initials="",
                    phone="1" + rng.choice("3589") + f"{rng.randrange(10 ** 9):09d}",
                    status="active", enrolled=True, qr_nonce=nonce,
                    qr_token_hash=self.thash(token)))
                for pos in range(rng.randint(1, 4)):
                    mid += 1
                    self.sink.add("household_member", dict(
                        id=mid, household_id=hid, name=head if pos == 0 else
                        _name(rng, surname), position=pos))
                self.bal[hid] = [Decimal(0), Decimal(0), Decimal(0), 0, None]
                total += 0.2 + rng.random() ** 2  # some households are much busier
                ids.append(hid)
                weights.append(total)
            self.hh[vid] = (ids, weights)
            self.chain[vid] = [0, ""]
            self.recent[vid] = []
        self.sink.flush()

    def months(self):
        day = self.sk["start"]
        while day <= self.sk["today"]:
            nxt = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
            yield day, nxt
            day = nxt

    def plan(self) -> list:
        """[(month start, its first instant (UTC), seconds in it, [entries per village])]:
        the year-end months score more, the current month only up to now; exactly
        ``n_entries`` in all."""
        villages, rng = self.sk["villages"], self.rng
        plan = []
        for start, end in self.months():
            lo = datetime(start.year, start.month, 1, tzinfo=timezone.utc) - timedelta(hours=8)
            hi = min(datetime(end.year, end.month, 1, tzinfo=timezone.utc) - timedelta(hours=8),
                     self.now - timedelta(minutes=5))
            span = (hi - lo).total_seconds()
            if span > 0:
                season = 1.4 if start.month in (12, 1) else 0.95
                plan.append((start, lo, span, [season * span * rng.uniform(0.8, 1.2)
                                               for _ in villages]))
        total = sum(sum(w) for *_, w in plan)
        acc, made, out = 0.0, 0, []
        for start, lo, span, weights in plan:
            counts = []
            for w in weights:
                acc += w
                n = int(round(self.n_entries * acc / total)) - made
                counts.append(n)
                made += n
            out.append((start, lo, span, counts))
        return out

    def next_id(self, kind: str) -> int:
        """The next id of ``kind`` for this shard (shards interleave: k+1, k+1+P, ...)."""
        self.ids[kind] += 1
        return (self.ids[kind] - 1) * self.shards + self.shard + 1

    def ledger(self, plan, progress=True) -> None:
        """Write this shard's villages' entries month by month (``plan`` from ``plan()``)."""
        villages, t0 = self.sk["villages"], time.time()
        for start, lo, span, counts in plan:
            for vi, ((vid, town_id, _), n) in enumerate(zip(villages, counts, strict=True)):
                if vi % self.shards != self.shard:
                    continue
                rng = self.rng
                times = sorted(lo + timedelta(seconds=int(rng.random() * span))
                               for _ in range(n))
                for at in times:
                    self.one(vid, town_id, at)
            self.sink.flush()
            if progress:
                print(f"  {start:%Y-%m}: {self.ids['ledger_entry'] * self.shards} entries "
                      f"({time.time() - t0:.0f} s)", flush=True)

    def one(self, vid, town_id, at) -> None:
        rng = self.rng
        r = rng.random()
        if r < 0.03 and self.reverse(vid, at):
            return
        if r < 0.065 and self.redeem(vid, at):
            return
        self.score(vid, town_id, at)

    def _entry(self, vid, row, transitions) -> dict:
        """Chain ``row`` and its transitions [(from, to, at, by, reason)], count it in the
        balance and buffer the rows; returns the row."""
        row["id"] = self.next_id("ledger_entry")
        row["village_id"] = vid
        head = self.chain[vid]
        head[0] += 1
        row["seq"], row["prev_hash"] = head[0], head[1]
        row["hash"] = head[1] = self.entry_hash(row, head[1])
        row["status"] = transitions[-1][1]
        for frm, to, at, by, reason in transitions:
            head[0] += 1
            move = dict(id=self.next_id("entry_transition"), entry_id=row["id"], village_id=vid,
                        from_status=frm, to_status=to, by_user_id=by, at=at, reason=reason,
                        seq=head[0], prev_hash=head[1])
            move["hash"] = head[1] = self.transition_hash(move, head[1])
            self.sink.add("entry_transition", move)
        self.sink.add("ledger_entry", row)
        bal = self.bal[row["household_id"]]
        pts, status = row["points"], row["status"]
        if status == "confirmed":
            if row["spendable"]:
                bal[1] += pts
            if row["direction"] != "spend":
                bal[0] += pts
                last = transitions[-1][2]
                bal[4] = last if bal[4] is None or last > bal[4] else bal[4]
        elif status in ("awaiting_review", "under_notice", "held"):
            bal[2] += pts
        bal[3] += 1
        return row

    def _base(self, hid, vid, at, **fields) -> dict:
        local = (at + timedelta(hours=8)).date()
        row = dict(household_id=hid, village_id=vid, quantity=1, deed_date=local,
                   period=f"{local:%Y-%m}", notice_until=None, note=None, reason=None,
                   recorded_by_id=self.sk["scorers"][vid], recorded_at=at,
                   idempotency_key=None, reverses_id=None, evidence_id=None, spendable=True,
                   member_name=None, rulebook_version_id=None, item_id=None)
        row.update(fields)
        return row

    def score(self, vid, town_id, at) -> None:
        rng = self.rng
        version_id, items = self.sk["books"][town_id]
        ids, weights = self.hh[vid]
        hid = ids[bisect_right(weights, rng.random() * weights[-1])]
        awards, deductions = self.pools(town_id)
        item = rng.choice(deductions if rng.random() < 0.09 and deductions else awards)
        if item["kind"] == "range":
            lo, hi = int(item["lo"]), int(item["hi"])
            unit = Decimal(rng.randint(min(lo, hi), max(lo, hi))).quantize(CENT)
        else:
            unit = Decimal(item["points"]).quantize(CENT)
        qty = 1
        scorer = self.sk["scorers"][vid]
        moves, notice_until = [], None
        local = (at + timedelta(hours=8)).date()
        if item["review"]:
            moves.append((None, "awaiting_review", at, scorer, None))
            start = at + timedelta(hours=2)
            if start < self.now:
                moves.append(("awaiting_review", "under_notice", start, scorer, "审核通过"))
        else:
            start = at
            moves.append((None, "under_notice", at, scorer, None))
        if moves[-1][1] == "under_notice":
            notice_until = local + timedelta(days=NOTICE_DAYS)
            done = start + timedelta(days=NOTICE_DAYS)
            if done < self.now:
                moves.append(("under_notice", "confirmed", done, None, "公示期满无异议"))
            elif rng.random() < 0.02:
                moves.append(("under_notice", "held", start + (self.now - start) / 2, None,
                              "异议"))
        row = self._entry(vid, self._base(
            hid, vid, at, kind="score", direction="deduction" if unit < 0 else "award",
            rulebook_version_id=version_id, item_id=item["id"], item_code=item["code"],
            item_name=item["name"], category_name=item["category"], unit_points=unit,
            quantity=qty, points=unit * qty, notice_until=notice_until,
            reason=f"{item['name']}，{format(unit, 'f')} 分"), moves)
        if row["status"] == "held":
            self.sink.add("objection", dict(
                id=self.next_id("objection"), entry_id=row["id"], village_id=vid,
                by_household_id=ids[rng.randrange(len(ids))], by_user_id=None,
                text="我们看到的情况和记分不一样，请村委会核实。", evidence_id=None,
                raised_at=moves[-1][2], status="open", outcome=None, adjusted_points=None,
                resolution=None, resolved_by_id=None, resolved_at=None, idempotency_key=None))
        elif row["status"] == "confirmed" and unit != 0:
            recent = self.recent[vid]
            recent.append((row, moves[-1][2]))
            if len(recent) > 400:
                del recent[:100]

    def pools(self, town_id):
        """(award items, deduction items) of the township's rulebook (cached)."""
        found = self._pools.get(town_id)
        if found is None:
            items = self.sk["books"][town_id][1]
            found = self._pools[town_id] = ([i for i in items if not i["deduction"]] or items,
                                            [i for i in items if i["deduction"]])
        return found

    def reverse(self, vid, at) -> bool:
        recent = self.recent[vid]
        if not recent:
            return False
        k = self.rng.randrange(len(recent))
        orig, confirmed_at = recent[k]
        if confirmed_at >= at:
            return False
        recent.pop(k)
        fields = {f: orig[f] for f in ("household_id", "direction", "rulebook_version_id",
                                       "item_id", "item_code", "item_name", "category_name",
                                       "unit_points", "quantity", "deed_date", "period",
                                       "spendable", "member_name")}
        fields.update(kind="reversal", points=-orig["points"], reverses_id=orig["id"],
                      reason="录入错误：记错了户")
        row = self._base(orig["household_id"], vid, at)
        row.update(fields)
        self._entry(vid, row, [(None, "confirmed", at, self.sk["scorers"][vid],
                                "录入错误：记错了户")])
        return True

    def redeem(self, vid, at) -> bool:
        rng = self.rng
        ids, weights = self.hh[vid]
        hid = ids[bisect_right(weights, rng.random() * weights[-1])]
        rid, name, unit, price = rng.choice(self.sk["rewards"][vid])
        qty = rng.randint(1, 3)
        total = price * qty
        if self.bal[hid][1] < total:
            return False
        summary = f"{name}×{qty}"
        scorer = self.sk["scorers"][vid]
        row = self._base(hid, vid, at, kind="spend", direction="spend", item_code="REDEEM",
                         item_name="积分兑换：" + summary, category_name="积分超市",
                         unit_points=-total, points=-total, reason=summary)
        self._entry(vid, row, [(None, "confirmed", at, scorer, summary)])
        redemption_id = self.next_id("redemption")
        self.sink.add("redemption", dict(
            id=redemption_id, village_id=vid, household_id=hid, entry_id=row["id"],
            total_points=total, status="done", idempotency_key=None, day=row["deed_date"],
            at=at, by_user_id=scorer, cancel_entry_id=None, cancel_reason=None,
            cancelled_at=None, cancelled_by_id=None))
        self.sink.add("redemption_line", dict(
            id=self.next_id("redemption_line"), redemption_id=redemption_id,
            reward_id=rid, name=name, unit=unit, unit_points=price, quantity=qty,
            points=total))
        return True

    def finish(self) -> None:
        """Balances, chain heads, and sequences past the ids used here."""
        from sqlalchemy import text
        sink = self.sink
        bal_rows = [dict(household_id=h, earned_score=b[0], spendable_balance=b[1],
                         pending_points=b[2], entry_count=b[3], reached_at=b[4])
                    for h, b in self.bal.items()]
        heads = [dict(village_id=v, seq=c[0], head_hash=c[1]) for v, c in self.chain.items()
                 if c[0]]
        with sink.engine.begin() as conn:
            sink.bulk_mode(conn)
            for name, rows in (("household_balance", bal_rows), ("ledger_chain", heads)):
                for i in range(0, len(rows), 20000):
                    sink.write(conn, name, rows[i:i + 20000])
            if sink.pg:
                for name in ("household", "household_member", "ledger_entry",
                             "entry_transition", "objection", "redemption", "redemption_line"):
                    conn.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT coalesce(max(id), 0) + 1 FROM {name}), false)"))
        if sink.pg:
            with sink.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.execute(text("VACUUM ANALYZE"))


_FORKED = {}  # the County the forked shard processes inherit (not pickled)


def _shard(k: int, url: str, progress: bool):
    """Run shard ``k`` of the ledger in a forked process with its own engine; return what
    the parent needs: balances and chain heads of its villages, and its id counters."""
    from sqlalchemy import create_engine
    county = _FORKED["county"]

    from app.extensions import db
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    county.sink = Sink(engine, db.metadata.tables)
    county.shard, county.rng = k, random.Random(county.seed * 1000 + k)
    county.ledger(county.plan_, progress and k == 0)
    engine.dispose()
    mine = {vid for i, (vid, _, _) in enumerate(county.sk["villages"])
            if i % county.shards == k}
    bal = {h: b for vid in mine for h in county.hh[vid][0] for b in [county.bal[h]]}
    return bal, {v: county.chain[v] for v in mine}, dict(county.ids)


def populate(villages: int, households: int, entries: int, seed: int = 2026,
             progress: bool = False, jobs: int = 1) -> dict:
    """Fill the (empty, migrated) database of the current app context with a county; the
    ledger is written by ``jobs`` processes (PostgreSQL only), each a share of the villages.

    Returns {"tokens": {household id: door-plate token} (a sample of villages 1 and 2),
    "villages": [village ids], "township_id", "county_id", "entries", "transitions"}.
    """
    from flask import current_app

    from app.extensions import db
    t0 = time.time()
    rng = random.Random(seed)
    skel = skeleton(current_app, villages, rng)
    sink = Sink(db.engine, db.metadata.tables)
    county = County(current_app, sink, skel, rng, households, entries)
    county.households()
    if progress:
        print(f"skeleton and {households} households: {time.time() - t0:.0f} s", flush=True)
    county.plan_, county.seed = county.plan(), seed
    jobs = jobs if sink.pg else 1
    if jobs == 1:
        county.ledger(county.plan_, progress)
        counts = [dict(county.ids)]
    else:
        import multiprocessing
        url = str(db.engine.url.render_as_string(hide_password=False))
        db.engine.dispose()
        county.shards = jobs
        _FORKED["county"] = county
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            parts = pool.starmap(_shard, [(k, url, progress) for k in range(jobs)])
        counts = []
        for bal, heads, ids in parts:
            county.bal.update(bal)
            county.chain.update(heads)
            counts.append(ids)
        county.sink = Sink(db.engine, db.metadata.tables)
    county.finish()
    db.session.remove()
    try:  # the per household per month totals the pages read (issue 10), when present
        from app.scoring import summary
    except ImportError:
        summary = None
    if summary is not None:
        summary.rebuild()
        db.session.commit()
        if sink.pg:
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.exec_driver_sql("ANALYZE household_month")
    return {"tokens": county.tokens, "villages": [v[0] for v in skel["villages"]],
            "township_id": skel["villages"][0][1], "county_id": skel["county_id"],
            "entries": sum(c["ledger_entry"] for c in counts),
            "transitions": sum(c["entry_transition"] for c in counts)}


def build(url: str, villages: int, households: int, entries: int, seed: int = 2026,
          progress: bool = True, jobs: int = 1) -> dict:
    """Drop, re-create and migrate the database at ``url``, then ``populate`` it. Returns
    what ``populate`` returns plus "seconds"."""
    t0 = time.time()
    env = bench_env(url)
    prepare_database(url, env)
    os.environ.update({k: env[k] for k in ("DATABASE_URL", "SECRET_KEY", "QR_TOKEN_KEY")})
    from app import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "QR_TOKEN_KEY": env["QR_TOKEN_KEY"]})
    with app.app_context():
        catch_up_schema(app)
        out = populate(villages, households, entries, seed, progress, jobs)
    out["seconds"] = time.time() - t0
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--database-url", default="sqlite:///" + str(ROOT / "instance" /
                                                                  "bench.sqlite3"))
    ap.add_argument("--villages", type=int, default=200)
    ap.add_argument("--households", type=int, default=100_000)
    ap.add_argument("--entries", type=int, default=5_000_000)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--jobs", type=int, default=3,
                    help="processes writing the ledger (PostgreSQL; default 3)")
    args = ap.parse_args()
    out = build(args.database_url, args.villages, args.households, args.entries, args.seed,
                jobs=args.jobs)
    print(f"{out['entries']} entries, {out['transitions']} transitions in "
          f"{len(out['villages'])} villages: {out['seconds']:.0f} s")


if __name__ == "__main__":
    main()
