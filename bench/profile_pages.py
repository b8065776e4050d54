"""Where a page's time goes, in-process (no gunicorn, no network): for each page of
``bench/pages.py`` the median wall time of a few requests through Flask's test client, the
number of SQL statements and the time spent in them, and optionally a cProfile listing.

    .venv/bin/python bench/profile_pages.py --database-url postgresql://postgres@127.0.0.1:5432/bench_county
    .venv/bin/python bench/profile_pages.py --database-url ... --page qr --profile 25

``--page post`` and ``--page redeem`` POST a scoring and a counter form as ``bench/pages.py``
does: they add entries and redemptions to the bench database, like a benchmark run.
"""
import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--page", action="append", help="qr, household, board, audit, rollup, "
                    "rollup-month, score-form, counter, login, post, redeem (default: all "
                    "but post and redeem)")
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--profile", type=int, default=0, help="print the top N functions")
    ap.add_argument("--sort", default="cumulative", help="cProfile order (e.g. tottime)")
    ap.add_argument("--slow-sql", type=float, default=0,
                    help="print the statements of the last request slower than this (ms)")
    args = ap.parse_args()
    os.environ.update(DATABASE_URL=args.database_url, SECRET_KEY="bench-secret",
                      QR_TOKEN_KEY="bench-qr", LOG_LEVEL="WARNING",
                      RATELIMIT_QR="1000000 per minute", RATELIMIT_QR_MISS="1000000 per minute")
    from pages import county_facts, hidden
    from sqlalchemy import event

    from wsgi import app
    facts = county_facts(args.database_url, "bench-qr")
    hh, village = facts["households"], facts["village"]
    # the local date, as bench/pages.py: its three months filter the audit explorer, and
    # the board shows the last whole month
    today = datetime.now(timezone(timedelta(hours=8))).date()
    full_month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    first = (today.replace(day=1) - timedelta(days=62)).replace(day=1)
    paths = {
        "healthz": ("", "/healthz"),
        "login": ("", "/login"),   # a page with the base layout and no query: the floor
        "qr": ("", "/h/" + facts["tokens"][0]),
        "household": ("bench-scorer", f"/households/{hh[0]}"),
        "score-form": ("bench-scorer", f"/households/{hh[0]}/score"),
        "counter": ("bench-scorer", f"/counter/{facts['rich'][0]}"),
        "board": ("bench-scorer", f"/villages/{village}/board?month={full_month}"),
        "audit": ("bench-township", f"/audit/entries?village={village}&status=confirmed"
                  f"&date_from={first.isoformat()}&date_to={today.isoformat()}"),
        "rollup": ("bench-county", f"/rollups/{facts['county']}"),
        "rollup-month": ("bench-county",
                         f"/rollups/{facts['county']}?period={time.strftime('%Y-%m')}"),
    }
    stats = {"n": 0, "t": 0.0, "slow": []}
    from app.extensions import db
    with app.app_context():
        engine = db.engine

    @event.listens_for(engine, "before_cursor_execute")
    def _before(conn, cursor, statement, parameters, context, executemany):
        context._t0 = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _after(conn, cursor, statement, parameters, context, executemany):
        took = time.perf_counter() - context._t0
        stats["n"] += 1
        stats["t"] += took
        if args.slow_sql and took * 1000 >= args.slow_sql:
            stats["slow"].append((took * 1000, statement, parameters))

    clients = {}
    for user in {u for u, _ in paths.values() if u}:
        c = app.test_client()
        csrf = hidden(c.get("/login").get_data(as_text=True), "csrf_token")
        c.post("/login", data={"csrf_token": csrf, "username": user, "password": "bench-2026"})
        clients[user] = c
    clients[""] = app.test_client()
    print(f"{'page':14} {'median ms':>10} {'SQL n':>6} {'SQL ms':>7}")
    writes = {"post": ("bench-scorer", f"/households/{hh[0]}/score"),
              "redeem": ("bench-scorer", f"/counter/{facts['rich'][0]}")}
    for name in args.page or paths:
        user, path = writes.get(name) or paths[name]
        c = clients[user]
        page = c.get(path)
        assert page.status_code == 200, (name, page.status_code)
        form = write_form(name, page.get_data(as_text=True), facts)
        times, counts, sql = [], [], []
        prof = cProfile.Profile() if args.profile else None
        for _ in range(args.repeat):
            stats.update(n=0, t=0.0, slow=[])
            t0 = time.perf_counter()
            if prof:
                prof.enable()
            if form:
                answer = c.post(path, data=dict(form(), csrf_token=hidden(
                    page.get_data(as_text=True), "csrf_token")))
                assert answer.status_code == 302, (name, answer.status_code)
            else:
                c.get(path)
            if prof:
                prof.disable()
            times.append(time.perf_counter() - t0)
            counts.append(stats["n"])
            sql.append(stats["t"])
        print(f"{name:14} {statistics.median(times) * 1000:10.1f} {statistics.median(counts):6.0f} "
              f"{statistics.median(sql) * 1000:7.1f}")
        for took, statement, parameters in stats["slow"]:
            print(f"  {took:8.1f} ms  {' '.join(statement.split())[:3000]}  {parameters}")
        if prof:
            pstats.Stats(prof).sort_stats(args.sort).print_stats(args.profile)


def write_form(name, html, facts):
    """For ``post`` and ``redeem``: a function returning the form fields of one request (a
    fresh idempotency key each time, as bench/pages.py sends); None for a GET page."""
    import re
    import uuid
    if name == "post":
        item = re.findall(r'id="item-(\d+)"[^>]*data-kind="fixed"', html)[0]
        return lambda: {"idempotency_key": uuid.uuid4().hex, "item_id": item, "quantity": "1",
                        "deed_date": date.today().isoformat(), "points": "", "note": ""}
    if name == "redeem":
        return lambda: {"idempotency_key": uuid.uuid4().hex, f"q{facts['reward']}": "1"}
    return None


if __name__ == "__main__":
    main()
