#!/usr/bin/env python3
"""The floor of a page in this stack (issue 10): what Flask, Jinja, Flask-Babel and the
SQLAlchemy ORM cost before a page does any of its own work, measured in-process (Flask's test
client, no HTTP) on a bench database, as ratios to ``/healthz`` in the same run.

    .venv/bin/python bench/floor.py --database-url postgresql://postgres@127.0.0.1:5432/bench_county

Rows (medians of ``--repeat`` requests):

- healthz: the trivial endpoint the benchmark divides by (the app stack and ``SELECT 1``);
- flask: a route returning a string (no template, no query);
- public layout: the door-plate layout (``public/layout.html``) around an empty page, with
  the village read by primary key;
- door-plate floor: the household by its token, its rank and its 15 latest entries (what
  issue 10's QR page must show at least) in that layout; the real door-plate page follows;
- staff layout: an empty page in the staff layout (``base.html``) for a logged-in scorer;
- form POST floor: a logged-in POST of a form with its CSRF token, one commit and a redirect
  (what any posting costs before the ledger is touched).

The extra routes exist only in this script's process.
"""
import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

DOOR_PLATE = """{% extends "public/layout.html" %}{% block content %}
<h1>{{ household.house_number }}</h1><p>{{ household.balance.earned_score|points }}
· {{ rank }} / {{ out_of }}</p><ul>{% for e in entries %}<li>{{ e.item_name }}
{{ e.points|points }} {{ e.deed_date }}</li>{% endfor %}</ul>{% endblock %}"""
EMPTY_PUBLIC = """{% extends "public/layout.html" %}{% block content %}<p>-</p>{% endblock %}"""
EMPTY_STAFF = """{% extends "base.html" %}{% block content %}<p>-</p>{% endblock %}"""


def add_routes(app):
    """The floor routes (before the app's first request, as Flask requires)."""
    from flask import redirect, render_template
    from flask_login import login_required
    from flask_wtf import FlaskForm

    from app.extensions import db
    from app.households.queries import household_for_token
    from app.regions.models import Region
    from app.scoring import queries as ledger
    compiled = {}

    def render(source, **context):
        if source not in compiled:
            compiled[source] = app.jinja_env.from_string(source)
        return render_template(compiled[source], **context)

    @app.route("/floor/flask")
    def floor_flask():
        return "ok"

    @app.route("/floor/public/<int:village_id>")
    def floor_public(village_id):
        return render(EMPTY_PUBLIC, village=db.session.get(Region, village_id), token="")

    @app.route("/floor/door-plate/<token>")
    def floor_door_plate(token):
        household = household_for_token(token)
        rank, out_of = ledger.rank_of(household)
        return render(DOOR_PLATE, village=household.village, household=household, token=token,
                      rank=rank, out_of=out_of, entries=ledger.recent_entries(household.id, 15))

    @app.route("/floor/staff")
    @login_required
    def floor_staff():
        return render(EMPTY_STAFF)

    @app.route("/floor/post", methods=["POST"])
    @login_required
    def floor_post():
        assert FlaskForm().validate_on_submit()
        db.session.commit()
        return redirect("/floor/staff")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--database-url", required=True)
    ap.add_argument("--repeat", type=int, default=60)
    args = ap.parse_args()
    os.environ.update(DATABASE_URL=args.database_url, SECRET_KEY="bench-secret",
                      QR_TOKEN_KEY="bench-qr", LOG_LEVEL="WARNING",
                      RATELIMIT_QR="1000000 per minute", RATELIMIT_QR_MISS="1000000 per minute")
    from pages import county_facts, hidden

    from wsgi import app
    add_routes(app)
    facts = county_facts(args.database_url, "bench-qr")
    token = facts["tokens"][0]
    public = app.test_client()
    staff = app.test_client()
    csrf = hidden(staff.get("/login").get_data(as_text=True), "csrf_token")
    staff.post("/login", data={"csrf_token": csrf, "username": "bench-scorer",
                               "password": "bench-2026"})
    form_token = hidden(staff.get(f"/households/{facts['households'][0]}/score")
                        .get_data(as_text=True), "csrf_token")
    rows = [("healthz", public, "GET", "/healthz", 200),
            ("flask", public, "GET", "/floor/flask", 200),
            ("public layout", public, "GET", f"/floor/public/{facts['village']}", 200),
            ("door-plate floor", public, "GET", f"/floor/door-plate/{token}", 200),
            ("door-plate page", public, "GET", f"/h/{token}", 200),
            ("staff layout", staff, "GET", "/floor/staff", 200),
            ("form POST floor", staff, "POST", "/floor/post", 302),
            ("healthz", public, "GET", "/healthz", 200)]
    results = []
    for name, client, method, path, status in rows:
        data = {"csrf_token": form_token} if method == "POST" else None
        times = []
        for _ in range(args.repeat + 5):
            t0 = time.perf_counter()
            answer = client.open(path, method=method, data=data)
            times.append(time.perf_counter() - t0)
            assert answer.status_code == status, (name, answer.status_code)
        results.append((name, statistics.median(times[5:]) * 1000))
    base = statistics.mean(ms for name, ms in results if name == "healthz")
    print(f"{'in-process floor':18} {'median ms':>10} {'x healthz':>10}")
    for name, ms in results:
        print(f"{name:18} {ms:10.2f} {ms / base:10.1f}")


if __name__ == "__main__":
    main()
