#!/usr/bin/env python3
"""Page latency and throughput as ratios to a trivial endpoint of the same app (issue 10).

    .venv/bin/python bench/pages.py \\
        --database-url postgresql://postgres@127.0.0.1:5432/bench_county --out bench-5m.json
    .venv/bin/python bench/pages.py --compare instance/bench-50k.json instance/bench-5m.json

Serves the app with ``gunicorn -c gunicorn.conf.py`` on a free loopback port against a
database built by bench/generate.py, and measures, one page after the other in the same run,
each page's median and 95th-percentile latency and its throughput with ``--clients``
concurrent keep-alive clients (threads, http.client) for ``--seconds`` each. The trivial
endpoint is ``/healthz`` (the whole app stack and one ``SELECT 1``), measured the same way
before and after the pages (its two medians are averaged). Pages:

- qr: a door-plate page ``/h/<token>`` (no login), random households of villages 1 and 2;
- household: ``/households/<id>`` as the village scorer;
- post: the scoring form POSTed (CSRF token, fresh idempotency key), a fixed-points item;
- redeem: the points-supermarket basket POSTed (``/counter/<id>``), one cheapest reward;
- board: ``/villages/<id>/board`` (this month);
- audit: ``/audit/entries`` as the township auditor, filtered by village, status and dates;
- rollup: ``/rollups/<county>`` as the county official (this year), and
  rollup-month (this month): the snapshot the page serves (app.reports.snapshots, at most
  ROLLUP_MAX_AGE seconds old); rollup-fresh: this year computed on every request.

Prints a table of ratios (median, p95, throughput) and the workers' resident memory after
the run (VmRSS). ``--compare`` prints each page's growth (median at the large county over the
median at the small one). Rate limits are raised for the run; workers are not recycled.
"""
import argparse
import hashlib
import hmac
import http.client
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from base64 import urlsafe_b64encode
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PASSWORD = "bench-2026"
TARGETS = {"qr": 3, "post": 5, "redeem": 5, "board": 5, "rollup": 20, "rollup-fresh": 20}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def worker_rss(master_pid: int) -> dict:
    """{pid: VmRSS in MB} of the gunicorn workers (children of the master)."""
    out = {}
    for task in Path(f"/proc/{master_pid}/task").iterdir():
        children = (task / "children").read_text().split()
        for pid in children:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    out[int(pid)] = round(int(line.split()[1]) / 1024, 1)
    return out


class Client:
    """One keep-alive HTTP connection with the cookies it was given (not followed:
    redirects are answers)."""

    def __init__(self, port, cookie=""):
        self.port, self.cookie = port, cookie
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

    def request(self, method, path, form=None):
        headers = {"User-Agent": "bench", "Connection": "keep-alive"}
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        if self.cookie:
            headers["Cookie"] = self.cookie
        for attempt in (1, 2):
            try:
                self.conn.request(method, path, body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
                break
            except (http.client.HTTPException, OSError):
                self.conn.close()
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                if attempt == 2:
                    raise
        for value in resp.headers.get_all("Set-Cookie") or []:
            name_value = value.split(";", 1)[0]
            if name_value.startswith("session="):
                self.cookie = name_value
        return resp.status, data.decode("utf-8", "replace"), resp.headers


def hidden(html, name):
    m = re.search(rf'name="{name}"[^>]*value="([^"]*)"', html) or \
        re.search(rf'value="([^"]*)"[^>]*name="{name}"', html)
    return m.group(1) if m else ""


def login(port, username) -> str:
    """The session cookie of ``username`` logged in."""
    c = Client(port)
    _, html, _ = c.request("GET", "/login")
    status, _, _ = c.request("POST", "/login", {"csrf_token": hidden(html, "csrf_token"),
                                               "username": username, "password": PASSWORD})
    if status != 302:
        raise SystemExit(f"login of {username} failed ({status})")
    return c.cookie


def county_facts(url: str, qr_key: str) -> dict:
    """Ids the pages need, read from the bench database (SQLAlchemy Core, no app)."""
    from sqlalchemy import create_engine, text
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as c:
        def one(sql, **kw):
            return c.execute(text(sql), kw).scalar_one()
        v1 = one("SELECT region_id FROM user_account WHERE username = 'bench-scorer'")
        county = one("SELECT region_id FROM user_account WHERE username = 'bench-county'")
        villages = [r[0] for r in c.execute(text(
            "SELECT id FROM region WHERE level = 'village' AND code LIKE '%9___' "
            "ORDER BY sort_order, id LIMIT 2"))]
        nonces = c.execute(text(
            "SELECT id, village_id, qr_nonce FROM household WHERE village_id IN :v "
            "AND status = 'active'").bindparams(
                __import__("sqlalchemy").bindparam("v", expanding=True)),
            {"v": villages}).all()
        rich = [r[0] for r in c.execute(text(
            "SELECT b.household_id FROM household_balance b JOIN household h "
            "ON h.id = b.household_id WHERE h.village_id = :v AND h.status = 'active' "
            "ORDER BY b.spendable_balance DESC LIMIT 100"), {"v": v1})]
        reward = c.execute(text("SELECT id, points_price FROM reward WHERE village_id = :v "
                                "AND active ORDER BY points_price, id LIMIT 1"),
                           {"v": v1}).one()
        entries = one("SELECT count(*) FROM ledger_entry")
    engine.dispose()
    key = qr_key.encode()
    tokens = [urlsafe_b64encode(hmac.new(key, f"qr:{n}".encode(), hashlib.sha256).digest())
              .rstrip(b"=").decode() for _, _, n in nonces]
    return {"village": v1, "county": county, "tokens": tokens, "entries": entries,
            "households": [h for h, v, _ in nonces if v == v1], "rich": rich,
            "reward": reward[0]}


class Page:
    """A page to measure: ``make(client, rng)`` performs one request and returns True when
    the answer is the expected one."""

    def __init__(self, name, cookie, make):
        self.name, self.cookie, self.make = name, cookie, make


def run_page(port, page, clients, seconds, warmup=5) -> dict:
    """Run ``page`` with ``clients`` threads for ``seconds``; latency stats in ms."""
    lat, errors, lock = [], [], threading.Lock()
    stop, measuring = threading.Event(), threading.Event()
    ready = threading.Barrier(clients + 1)

    def attempt(c, rng):
        try:
            return page.make(c, rng)
        except OSError:  # a timeout (60 s) or a worker killed by gunicorn's timeout
            return False

    def loop(n):
        rng = random.Random(n)
        c = Client(port, page.cookie)
        for _ in range(warmup):
            t0 = time.perf_counter()
            attempt(c, rng)
            if time.perf_counter() - t0 > 1:  # a slow page: one warm-up request is enough
                break
        ready.wait()
        while not stop.is_set():
            t0 = time.perf_counter()
            ok = attempt(c, rng)
            dt = time.perf_counter() - t0
            if measuring.is_set() and not stop.is_set():
                with lock:
                    lat.append(dt)
                    if not ok:
                        errors.append(ok)
    threads = [threading.Thread(target=loop, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    ready.wait()  # every client has warmed up
    measuring.set()
    t0 = time.time()
    time.sleep(seconds)
    with lock:
        stop.set()
        done = list(lat)
        errs = len(errors)
        elapsed = time.time() - t0
    for t in threads:
        t.join()
    done.sort()
    if not done:
        return {"n": 0, "median": float("nan"), "p95": float("nan"), "rps": 0, "errors": errs}
    return {"n": len(done), "median": statistics.median(done) * 1000,
            "p95": done[min(len(done) - 1, int(len(done) * 0.95))] * 1000,
            "rps": len(done) / elapsed, "errors": errs}


def pages(port, facts) -> list:
    """The pages of the issue, each as a Page."""
    scorer, township = login(port, "bench-scorer"), login(port, "bench-township")
    county = login(port, "bench-county")
    village, hh, rich = facts["village"], facts["households"], facts["rich"]
    today = datetime.now(timezone(timedelta(hours=8))).date()
    setup = Client(port, scorer)
    _, form, _ = setup.request("GET", f"/households/{hh[0]}/score")
    csrf, scorer = hidden(form, "csrf_token"), setup.cookie  # the token lives in the session
    fixed = re.findall(r'id="item-(\d+)"[^>]*data-kind="fixed"[^>]*data-points="(\d[^"]*)"',
                       form) or re.findall(r'name="item_id" id="item-(\d+)"', form)
    item = fixed[0][0] if isinstance(fixed[0], tuple) else fixed[0]

    def get(path_of, expect=200):
        def make(c, rng):
            status, _, _ = c.request("GET", path_of(rng))
            return status == expect
        return make

    def post(c, rng):
        hid = rng.choice(hh)
        status, _, headers = c.request("POST", f"/households/{hid}/score", {
            "csrf_token": csrf, "idempotency_key": uuid.uuid4().hex, "item_id": item,
            "deed_date": today.isoformat(), "quantity": "1", "points": "", "note": ""})
        return status == 302 and "/households/" in (headers.get("Location") or "")

    def redeem(c, rng):
        hid = rng.choice(rich)
        status, _, headers = c.request("POST", f"/counter/{hid}", {
            "csrf_token": csrf, "idempotency_key": uuid.uuid4().hex,
            f"q{facts['reward']}": "1"})
        return status == 302 and "/redemptions/" in (headers.get("Location") or "")

    month = today.strftime("%Y-%m")
    # the board of the last whole month: the current month's is nearly empty in its first
    # days, which would flatter the page (a board ranks every household with entries)
    full_month = (today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    first = (today.replace(day=1) - timedelta(days=62)).replace(day=1)
    audit = (f"/audit/entries?village={village}&status=confirmed"
             f"&date_from={first.isoformat()}&date_to={today.isoformat()}")
    return [
        Page("qr", "", get(lambda rng: "/h/" + rng.choice(facts["tokens"]))),
        Page("household", scorer, get(lambda rng: f"/households/{rng.choice(hh)}")),
        Page("post", scorer, post),
        Page("redeem", scorer, redeem),
        Page("board", scorer, get(lambda rng: f"/villages/{village}/board?month={full_month}")),
        Page("audit", township, get(lambda rng: audit)),
        Page("rollup", county, get(lambda rng: f"/rollups/{facts['county']}")),
        Page("rollup-month", county,
             get(lambda rng: f"/rollups/{facts['county']}?period={month}")),
        # computed on every request (the snapshot above is at most ROLLUP_MAX_AGE old)
        Page("rollup-fresh", county, get(lambda rng: f"/rollups/{facts['county']}?fresh=1")),
    ]


def serve(url, workers, port):
    env = dict(os.environ, DATABASE_URL=url, SECRET_KEY="bench-secret", QR_TOKEN_KEY="bench-qr",
               GUNICORN_WORKERS=str(workers), GUNICORN_BIND=f"127.0.0.1:{port}",
               GUNICORN_MAX_REQUESTS="0", PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
               LOG_LEVEL="WARNING", GUNICORN_LOGLEVEL="warning",
               RATELIMIT_QR="1000000 per minute", RATELIMIT_QR_MISS="1000000 per minute",
               RATELIMIT_LOGIN="1000 per minute")
    log = open(ROOT / "instance" / "bench-gunicorn.log", "w")
    server = subprocess.Popen([PYTHON, "-m", "gunicorn", "-c", "gunicorn.conf.py",
                               "--access-logfile", "/dev/null", "wsgi:app"],
                              cwd=ROOT, env=env, stdout=log, stderr=log)
    for _ in range(300):
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                break
        except OSError:
            time.sleep(0.2)
    else:
        server.kill()
        raise SystemExit("gunicorn did not start: see instance/bench-gunicorn.log")
    return server, log


def measure(args) -> dict:
    facts = county_facts(args.database_url, "bench-qr")
    port = free_port()
    server, log = serve(args.database_url, args.workers, port)
    results = {}
    try:
        trivial = Page("trivial", "", lambda c, rng: c.request("GET", "/healthz")[0] == 200)
        print(f"{facts['entries']} entries; {args.clients} clients, {args.workers} workers, "
              f"{args.seconds} s per page", flush=True)
        before = run_page(port, trivial, args.clients, args.seconds)
        for page in pages(port, facts):
            if args.only and page.name not in args.only:
                continue
            results[page.name] = run_page(port, page, args.clients, args.seconds)
            print(f"  {page.name:<13} median {results[page.name]['median']:7.1f} ms  "
                  f"({results[page.name]['n']} requests, {results[page.name]['errors']} "
                  f"errors)", flush=True)
        after = run_page(port, trivial, args.clients, args.seconds)
        rss = worker_rss(server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
        log.close()
    results["trivial"] = {k: (before[k] + after[k]) / 2 for k in ("median", "p95", "rps")}
    results["trivial"].update(n=before["n"] + after["n"], errors=before["errors"] +
                              after["errors"], before=before["median"], after=after["median"])
    return {"entries": facts["entries"], "results": results, "rss": rss,
            "clients": args.clients, "workers": args.workers}


def print_table(run: dict) -> None:
    res, base = run["results"], run["results"]["trivial"]
    print(f"\n{run['entries']:,} entries — ratios to /healthz (median {base['median']:.1f} ms, "
          f"p95 {base['p95']:.1f} ms, {base['rps']:.0f} req/s; before/after "
          f"{base['before']:.1f}/{base['after']:.1f} ms)")
    print(f"{'page':<13} {'median ms':>9} {'p95 ms':>8} {'req/s':>7} {'x median':>9} "
          f"{'x p95':>7} {'x thru':>7} {'target':>7} {'errors':>6}")
    for name, r in res.items():
        if name == "trivial":
            continue
        ratio = r["median"] / base["median"]
        target = TARGETS.get(name)
        verdict = "" if target is None else (f"<{target} ok" if ratio <= target
                                             else f"<{target} NO")
        print(f"{name:<13} {r['median']:9.1f} {r['p95']:8.1f} {r['rps']:7.1f} {ratio:9.1f} "
              f"{r['p95'] / base['p95']:7.1f} {base['rps'] / max(r['rps'], 1e-9):7.1f} "
              f"{verdict:>7} {r['errors']:>6}")
    print("worker VmRSS after the run (MB):", run["rss"],
          "— all under 200" if all(v < 200 for v in run["rss"].values()) else "— OVER 200")


def print_growth(small: dict, large: dict) -> None:
    print(f"\ngrowth: median at {large['entries']:,} entries / median at "
          f"{small['entries']:,} (target <= 1.3)")
    for name, r in large["results"].items():
        if name in small["results"]:
            g = r["median"] / small["results"][name]["median"]
            norm = (r["median"] / large["results"]["trivial"]["median"]) / \
                (small["results"][name]["median"] / small["results"]["trivial"]["median"])
            # the target is on the medians; the ratios discount a run whose /healthz moved
            verdict = "ok" if g <= 1.3 else "ok as a ratio only" if norm <= 1.3 else "NO"
            print(f"  {name:<13} {g:6.2f}  (as ratios to /healthz: {norm:5.2f})  {verdict}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--database-url")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--only", nargs="*", help="page names to measure (default all)")
    ap.add_argument("--out", help="save the results as JSON")
    ap.add_argument("--compare", nargs=2, metavar=("SMALL.json", "LARGE.json"))
    args = ap.parse_args()
    if args.compare:
        small, large = (json.loads(Path(p).read_text()) for p in args.compare)
        print_table(small)
        print_table(large)
        print_growth(small, large)
        return 0
    run = measure(args)
    print_table(run)
    if args.out:
        Path(args.out).write_text(json.dumps(run, indent=1))
    return 1 if any(r["errors"] for r in run["results"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
