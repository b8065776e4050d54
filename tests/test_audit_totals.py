"""Issue 10: the audit explorer's totals of confirmed entries over whole months come from
the village monthly totals; they must equal the ledger's totals for every filter the fast
path accepts, and the page must count its rows the same way."""
from datetime import date, timedelta

from app.audit import queries
from app.audit.queries import EntryFilters, _summary_totals
from tests.test_audit import get, ledger, listed  # noqa: F401  (the fixture)


def _ledger_totals(scope, f, monkeypatch):
    monkeypatch.setattr(queries, "_summary_totals", lambda scope, f: None)
    try:
        return queries.totals(scope, f)
    finally:
        monkeypatch.undo()


def test_summary_totals_equal_ledger_totals(app, world, ledger, monkeypatch):  # noqa: F811
    va = world["village_a"].id
    town = world["town_a"]
    cases = [dict(status="confirmed"),
             dict(status="confirmed", village=va),
             dict(status="confirmed", village=va, category="环境卫生"),
             dict(status="confirmed", date_from=date(2026, 11, 1)),
             dict(status="confirmed", date_from=date(2026, 10, 1), date_to=date(2026, 10, 31)),
             dict(status="confirmed", date_to=date(2026, 11, 30), category="孝老爱亲")]
    for scope in (town, world["city"], world["village_a"]):
        for case in cases:
            f = EntryFilters(**case)
            fast = _summary_totals(scope, f)
            assert fast is not None, case
            assert fast == _ledger_totals(scope, f, monkeypatch), (scope.name, case)
    assert _summary_totals(town, EntryFilters(status="confirmed")).count == 7
    # what only the ledger can answer
    for case in (dict(), dict(status="held"), dict(status="confirmed", house="2"),
                 dict(status="confirmed", date_from=date(2026, 10, 20)),
                 dict(status="confirmed", date_to=date(2026, 11, 15)),
                 dict(status="confirmed", item="清洁")):
        assert _summary_totals(town, EntryFilters(**case)) is None, case


def test_explorer_page_counts_and_lists_the_same_with_the_fast_totals(app, world, login,
                                                                      ledger):  # noqa: F811
    from app.scoring.periods import local_today, month_period
    client = login("auditor")
    # whole months from October to this one: the fixture's October and November entries
    # (two awards, two deductions, an award and its reversal) and today's spend
    last = month_period(local_today()).end - timedelta(days=1)
    html = get(client, "/audit/entries?status=confirmed&date_from=2026-10-01"
                       f"&date_to={last.isoformat()}")
    assert 'data-testid="total-count">7<' in html
    assert len(listed(html)) == 7
