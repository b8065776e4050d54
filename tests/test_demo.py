"""The demo loads the real region tree and a consistent village; migrations match models."""
import os
import subprocess
import sys
from decimal import Decimal

from sqlalchemy import func, select

from app.extensions import db
from app.households.models import Household
from app.regions.models import Region
from app.scoring.checks import balance_faults
from app.scoring.models import LedgerEntry


def test_demo_loads_real_regions_and_a_consistent_village(app):
    from app.demo.loader import load_demo
    demo = load_demo()
    db.session.commit()
    city = Region.query.filter_by(level="city").one()
    counties = Region.query.filter_by(level="county").all()
    assert city.name == "南昌市" and len(counties) == 12
    assert sum(c.pilot_quota for c in counties) == 58
    assert Region.query.filter_by(level="township").count() == 139
    assert Region.query.filter_by(level="village").count() == 87
    zone = Region.query.filter_by(name="湾里管理局").one()
    assert zone.is_functional_zone and zone.pilot_quota == 5
    meiling = Region.query.filter_by(name="梅岭镇").one()
    assert meiling.parent_id == zone.id and meiling.code == "360112116"
    assert meiling.statistical_code == "360112"
    village = demo["village"]
    assert village.is_pilot and len(village.children) == 6
    assert db.session.scalar(select(func.count(Household.id))
                             .where(Household.village_id == village.id)) == 120
    periods = db.session.scalars(select(LedgerEntry.period).distinct()).all()
    assert len(periods) == 3
    assert db.session.scalar(select(func.count(LedgerEntry.id))) > 300
    assert db.session.scalar(select(func.count(LedgerEntry.id))
                             .where(LedgerEntry.reverses_id.isnot(None))) > 0
    assert db.session.scalar(select(func.count(LedgerEntry.id))
                             .where(LedgerEntry.points < 0)) > 0
    assert balance_faults() == []
    # a published board of last month with both boards filled, two honours awarded, one
    # under notice (app/demo/distinctions.py)
    from app.boards.models import BoardPublication
    from app.honours.models import Honour
    pub = db.session.scalars(select(BoardPublication)).one()
    assert pub.status == "published" and {ln.board for ln in pub.lines} >= {"red", "black"}
    assert pub.definition.black_threshold is None      # "有扣分即上榜", as the form makes it
    assert sorted(h.status for h in db.session.scalars(select(Honour))) == [
        "awarded", "awarded", "under_notice"]
    total = db.session.scalar(select(func.sum(LedgerEntry.points)))
    assert Decimal(total) == Decimal(total).quantize(Decimal("0.01"))


def test_migrations_build_the_schema_the_models_describe(tmp_path):
    """``flask db upgrade`` on an empty database, then autogenerate finds nothing to add."""
    url = os.environ.get("TEST_DATABASE_URL")
    env = dict(os.environ)
    if url:
        # a scratch schema of its own on PostgreSQL
        import psycopg
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS points_migration_check")
            conn.execute("CREATE DATABASE points_migration_check")
        env["DATABASE_URL"] = url.rsplit("/", 1)[0] + "/points_migration_check"
    else:
        env["DATABASE_URL"] = "sqlite:///" + str(tmp_path / "m.sqlite3")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run(flask + ["db", "upgrade"], cwd=root, env=env, check=True,
                   capture_output=True)
    check = subprocess.run(flask + ["db", "check"], cwd=root, env=env, capture_output=True,
                           text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    load = subprocess.run(flask + ["demo", "load"], cwd=root, env=env, capture_output=True,
                          text=True)
    assert load.returncode == 0, load.stderr
    assert "scorer" in load.stdout and "demo-2021" in load.stdout
    again = subprocess.run(flask + ["demo", "load"], cwd=root, env=env, capture_output=True,
                           text=True)
    assert "未载入" in again.stdout
    verify = subprocess.run(flask + ["ledger", "verify"], cwd=root, env=env,
                            capture_output=True, text=True)
    assert verify.returncode == 0 and "0 fault(s)" in verify.stdout
