#!/usr/bin/env python3
"""A 10,000-household roster import against openpyxl's bare read of the same file (issue 10:
within 3x).

    .venv/bin/python bench/roster_import.py [--households 10000] [--database-url URL]

Writes a roster workbook in the import format (``households.roster.COLUMNS``: house number,
villager group, head, members, phone) for one new village, then times:

- bare: ``openpyxl.load_workbook(read_only=True)`` and iterating every row's values;
- import: what the roster page does on confirm: ``parse_roster`` (validation included),
  ``planned_changes``, ``apply_roster`` (households, members, groups, door-plate tokens,
  balances) and the commit, into a new village (SQLite file by default).

Each side is the best of three runs.

Prints both times and the ratio. Exit status 1 when the ratio is above 3.
"""
import argparse
import io
import os
import random
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SURNAMES = "熊万涂喻魏邹胡刘李王张陈杨黄吴徐罗邓舒龚"
GIVEN = "国建华明军平秀英兰芳桂生福海林春梅金水根发荣德志强红云珍玉连火木"


def workbook(n: int, seed: int = 10) -> bytes:
    """An xlsx roster of ``n`` households in 20 villager groups."""
    from openpyxl import Workbook

    from app.households.roster import COLUMNS
    rng = random.Random(seed)

    def name(surname=None):
        return (surname or rng.choice(SURNAMES)) + "".join(
            rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("花名册")
    ws.append([label for _key, label in COLUMNS])
    for i in range(1, n + 1):
        surname = rng.choice(SURNAMES)
        members = "、".join(name(surname) for _ in range(rng.randint(0, 4)))
        ws.append([str(i), f"第{(i - 1) * 20 // n + 1}村民小组", name(surname), members,
                   "1" + rng.choice("3589") + f"{rng.randrange(10 ** 9):09d}"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def bare_read(data: bytes) -> int:
    """openpyxl alone: open read-only and read every row's values; returns the row count."""
    from openpyxl import load_workbook
    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    rows = sum(1 for _ in wb.worksheets[0].iter_rows(values_only=True))
    wb.close()
    return rows


def import_roster(app, data: bytes) -> tuple:
    """The page's confirm path on a new village; returns (created, seconds)."""
    from app.extensions import db
    from app.households import roster
    from app.regions.models import Region
    from app.regions.services import add_region
    with app.app_context():
        db.create_all()
        n = db.session.query(Region).count()
        city = add_region(code=f"R{n}", name="市", level="city")
        county = add_region(code=f"R{n}-1", name="县", level="county", parent=city)
        town = add_region(code=f"R{n}-2", name="镇", level="township", parent=county)
        village = add_region(code=f"R{n}-3", name="村", level="village", parent=town)
        db.session.commit()
        with app.test_request_context():
            # a running server has loaded these already: pypinyin's dictionary, the parser
            from app.households.services import initials
            initials("张三")
            roster.parse_roster(workbook(5, seed=1))
            initials.cache_clear()   # every run meets the file's names for the first time
            initials("张三")
            t0 = time.perf_counter()
            rows = roster.parse_roster(data)
            roster.planned_changes(village, rows)
            result = roster.apply_roster(village, rows)
            db.session.commit()
            seconds = time.perf_counter() - t0
        db.session.remove()
    return result.created, seconds


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--households", type=int, default=10_000)
    ap.add_argument("--database-url", default="sqlite:///" + str(ROOT / "instance" /
                                                                  "bench-roster.sqlite3"))
    args = ap.parse_args()
    if args.database_url.startswith("sqlite:///"):
        Path(args.database_url[len("sqlite:///"):]).unlink(missing_ok=True)
    os.environ.setdefault("QR_TOKEN_KEY", "bench-qr")
    os.environ.setdefault("SECRET_KEY", "bench-secret")
    os.environ["LOG_LEVEL"] = "WARNING"
    from app import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url})
    data = workbook(args.households)
    bare = min(_timed(bare_read, data) for _ in range(3))
    # the best of three on each side (each import into a new village): one run of either
    # moves by a third on a shared machine
    imports = [import_roster(app, data) for _ in range(3)]
    created, seconds = imports[0][0], min(s for _c, s in imports)
    ratio = seconds / bare
    print(f"roster of {args.households} households ({len(data) // 1024} KB): openpyxl read "
          f"{bare:.2f} s, import {seconds:.2f} s ({created} created): {ratio:.1f}x "
          f"(target <= 3x) {'ok' if ratio <= 3 else 'NO'}")
    return 0 if ratio <= 3 and created == args.households else 1


def _timed(fn, *args):
    t0 = time.perf_counter()
    fn(*args)
    return time.perf_counter() - t0


if __name__ == "__main__":
    sys.exit(main())
