"""Issue 10: roll-ups and ranks read summary tables kept in the posting transaction; they
must give exactly what the ledger gives. Roll-ups of whole months and years (summary rows)
are compared with the same days asked as a custom period (summed from the ledger), at every
level, after reversals, objections, a household moving away, redemptions with yuan and a
cancelled redemption; the SQL rank of one household is compared with ``standings``."""
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from app.extensions import db
from app.reports import queries
from app.reports.periods import custom_period, quarter_period, year_period
from app.rewards import services as rewards
from app.scoring import summary
from app.scoring.models import HouseholdBalance
from app.scoring.periods import local_today
from app.scoring.queries import rank_of, standings
from tests.test_reports import ledger  # noqa: F401  (the hand-computed fixture)


def _figures(r):
    def row(x):
        return (x.households, x.participating, x.awarded, x.deducted, x.score_total,
                x.average, x.median, x.objections, x.upheld, x.redemptions, x.redeemed,
                x.redeemed_yuan, x.red_listed, x.black_listed, x.honours, x.stars)
    return ([(x.key.id, row(x)) for x in r.rows], row(r.total), r.categories, r.trend,
            [(x.key.id, x.households, x.participating) for x in r.ranking])


def _redemptions(world):
    """This year: a1 and a2 redeem (yuan values on one item); a2's is cancelled."""
    village, admin = world["village_a"], world["users"]["vadmin"]
    soap = rewards.add_reward(village=village, name="肥皂", points_price="1", unit="块",
                              is_goods=False, yuan_value="2.50")
    towel = rewards.add_reward(village=village, name="毛巾", points_price="2", unit="条",
                               is_goods=False)
    kept = rewards.redeem(household=world["hh"]["a1"], basket={soap.id: 2, towel.id: 1},
                          by_user=admin)
    cancelled = rewards.redeem(household=world["hh"]["a2"], basket={soap.id: 1},
                               by_user=admin)
    rewards.cancel_redemption(cancelled, reason="拿错了", by_user=admin)
    db.session.commit()
    return kept


def _ledger_only(monkeypatch):
    """Switch the summary tables off: every read falls back to the ledger."""
    monkeypatch.setattr(summary, "household_labels", lambda period: None)
    monkeypatch.setattr(summary, "month_labels", lambda period: None)


def test_rollups_from_the_summaries_equal_rollups_from_the_ledger(app, ledger,  # noqa: F811
                                                                   monkeypatch):
    kept = _redemptions(ledger)
    assert summary.faults() == []
    this_year = local_today().year
    periods = (year_period(2025), quarter_period(2025, 3), year_period(this_year),
               custom_period(date(2025, 3, 15), date(2025, 9, 10)))
    fast = {(region, p.label): _figures(queries.rollup(ledger[region], p))
            for region in ("city", "county_a", "town_a", "village_a", "g_a1") for p in periods}
    _ledger_only(monkeypatch)
    for (region, label), figures in fast.items():
        period = next(p for p in periods if p.label == label)
        assert figures == _figures(queries.rollup(ledger[region], period)), (region, label)
    year = fast[("village_a", year_period(this_year).label)][1]
    assert (year[9], year[10], year[11]) == (1, Decimal("4.00"), Decimal("5.00"))
    assert kept.status == "done"   # soap 2 x 2.50; the towel has no yuan value


def test_year_rows_equal_the_sum_of_month_rows(app, ledger, monkeypatch):  # noqa: F811
    from sqlalchemy import select

    from app.scoring.models import HouseholdMonth
    rows = db.session.execute(select(HouseholdMonth)).scalars().all()
    years = {(r.household_id, r.period): r for r in rows if len(r.period) == 4}
    for (hid, label), year in years.items():
        months = [r for r in rows if r.household_id == hid and r.period.startswith(label + "-")]
        assert year.points == sum((m.points for m in months), Decimal(0))
        assert (year.entries, year.scored) == (sum(m.entries for m in months),
                                               sum(m.scored for m in months))
    assert years and summary.faults() == []
    v = ledger["village_a"].id
    assert summary.household_labels(year_period(2025)) == ["2025"]
    fast = standings(v, year_period(2025))
    _ledger_only(monkeypatch)
    assert fast == standings(v, year_period(2025))


T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
balance = st.tuples(st.sampled_from(["0", "5", "5", "7.5", "-2"]),
                    st.one_of(st.none(), st.integers(0, 3)))


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(balances=st.lists(balance, min_size=4, max_size=4))
def test_rank_of_one_household_equals_its_place_in_standings(world, balances):
    """Ties on points and on the time they were reached (or never reached) included."""
    keys = ["a1", "a2", "a3", "a4"]
    for key, (points, minutes) in zip(keys, balances, strict=True):
        db.session.execute(update(HouseholdBalance).where(
            HouseholdBalance.household_id == world["hh"][key].id).values(
            earned_score=Decimal(points),
            reached_at=None if minutes is None else T0 + timedelta(minutes=minutes)))
    db.session.commit()
    table = standings(world["village_a"].id)
    for key in keys:
        place = next(s.rank for s in table if s.household_id == world["hh"][key].id)
        assert rank_of(world["hh"][key]) == (place, len(table))


def _households_card(html):
    return html.split("户数</div><div class=\"fs-4\">")[1].split("<")[0]


def test_rollup_page_serves_a_snapshot_until_it_is_older_than_its_max_age(app, world, login,
                                                                         monkeypatch):
    """Invalidation lives in app.reports.snapshots: a snapshot is served (and says when it
    was taken) while younger than ROLLUP_MAX_AGE; ``fresh=1`` or its age recomputes it;
    with 0 every request computes."""
    from app.households.services import archive_household
    from app.reports import snapshots
    monkeypatch.setitem(app.config, "ROLLUP_MAX_AGE", 300)
    county = login("county")
    url = f"/rollups/{world['county_a'].id}?period=2026"
    first = county.get(url).get_data(as_text=True)
    assert _households_card(first) == "4" and "立即重新计算" not in first
    # a4 moved away before 2026: no longer counted once the figures are computed again
    change = archive_household(world["hh"]["a4"], reason="迁往外地", by=world["users"]["vadmin"])
    change.changed_at = datetime(2025, 12, 1, tzinfo=timezone.utc)
    db.session.commit()
    again = county.get(url).get_data(as_text=True)
    assert _households_card(again) == "4" and "立即重新计算" in again   # the snapshot
    assert 'data-testid="rollup-as-of"' in again
    assert _households_card(county.get(url + "&fresh=1").get_data(as_text=True)) == "3"
    # that new snapshot is served until it is 300 s old, then computed again
    taken = snapshots.utcnow()
    monkeypatch.setattr(snapshots, "utcnow", lambda: taken + timedelta(seconds=299))
    assert "立即重新计算" in county.get(url).get_data(as_text=True)
    monkeypatch.setattr(snapshots, "utcnow", lambda: taken + timedelta(seconds=301))
    assert "立即重新计算" not in county.get(url).get_data(as_text=True)
    monkeypatch.setitem(app.config, "ROLLUP_MAX_AGE", 0)
    assert "立即重新计算" not in county.get(url).get_data(as_text=True)
    assert "立即重新计算" not in county.get(url).get_data(as_text=True)


def test_a_snapshot_shows_the_same_roll_up_at_every_level(app, ledger, monkeypatch):  # noqa: F811
    from app.reports import snapshots
    monkeypatch.setitem(app.config, "ROLLUP_MAX_AGE", 300)
    for region in ("city", "county_a", "town_a", "village_a", "g_a1"):
        computed = snapshots.rollup(ledger[region], year_period(2025))
        served = snapshots.rollup(ledger[region], year_period(2025))
        assert (computed.cached, served.cached) == (False, True)
        assert served.as_of == computed.as_of
        assert _figures(served.rollup) == _figures(computed.rollup)
        assert [r.key for r in served.rollup.rows] == [r.key for r in computed.rollup.rows]
        assert served.rollup.total.key == ledger[region]


def test_the_excel_export_states_when_its_figures_were_computed(app, world, login,
                                                               monkeypatch):
    import io

    from openpyxl import load_workbook

    from app.scoring.periods import to_local
    monkeypatch.setitem(app.config, "ROLLUP_MAX_AGE", 300)
    county = login("county")
    county.get(f"/rollups/{world['county_a'].id}?period=2026")
    from app.reports import snapshots
    snap = snapshots.rollup(world["county_a"], year_period(2026))
    assert snap.cached
    data = county.get(f"/rollups/{world['county_a'].id}/export.xlsx?period=2026").data
    rows = [[c.value for c in r] for r in load_workbook(io.BytesIO(data)).worksheets[0].rows]
    stamp = next(r[1] for r in rows if r and r[0] == "数据截至")
    assert stamp == to_local(snap.as_of).strftime("%Y-%m-%d %H:%M")


def test_a_cache_that_cannot_be_reached_only_means_computing(app, world, login, monkeypatch):
    from app.extensions import cache

    def down(*args, **kwargs):
        raise ConnectionError("redis is down")
    monkeypatch.setitem(app.config, "ROLLUP_MAX_AGE", 300)
    monkeypatch.setattr(cache, "get", down)
    monkeypatch.setattr(cache, "set", down)
    resp = login("county").get(f"/rollups/{world['county_a'].id}?period=2026")
    assert resp.status_code == 200 and "立即重新计算" not in resp.get_data(as_text=True)


def test_a_groups_households_are_listed_in_house_number_order(app, world):
    """2 before 10 (natural order), as every other list of households."""
    from app.households.services import add_household
    for number in ("10", "5", "11"):
        add_household(village=world["village_a"], group=world["g_a1"], house_number=number,
                      head_name="户主" + number)
    db.session.commit()
    r = queries.rollup(world["g_a1"], year_period(2026))
    assert [row.key.house_number for row in r.rows] == ["1", "2", "3", "5", "10", "11"]
