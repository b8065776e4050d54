"""Roll-up and pilot-registry pages (read-only) and their Excel exports. Every region is
looked up within the user's scope (404 outside it); the ``reports`` permission is needed."""
from urllib.parse import quote

from flask import Blueprint, Response, flash, render_template, request
from flask_babel import gettext as _

from app.accounts.access import require, scope
from app.regions.queries import region_or_404
from app.reports import charts, exports, queries
from app.reports.forms import PeriodForm
from app.reports.periods import parse_period, quarter_period, year_period
from app.scoring.periods import local_today, month_period

bp = Blueprint("reports", __name__)


def _period():
    """The period asked for (``period`` or ``start``+``end``), else this year."""
    args = request.args
    wanted = args.get("period") or (args.get("start") and args.get("end"))
    period = parse_period(args.get("period"), args.get("start"), args.get("end"))
    if period is None:
        if wanted:
            flash(_("期间格式不正确，已改为显示本年度"), "warning")
        period = year_period(local_today().year)
    return period


def _period_args(period) -> dict:
    """Query arguments that name ``period`` again (for links and exports)."""
    if "~" in period.label:
        first, last = period.label.split("~")
        return {"start": first, "end": last}
    return {"period": period.label}


def _choices(period) -> dict:
    """Quick links: the period's year, its quarters and its months."""
    year = period.start.year
    return {"year": year_period(year),
            "quarters": [quarter_period(year, q) for q in range(1, 5)],
            "months": [month_period(period.start.replace(year=year, month=m, day=1))
                       for m in range(1, 13)],
            "prev_year": year_period(year - 1), "next_year": year_period(year + 1)}


def _xlsx(data: bytes, name: str) -> Response:
    return Response(data, mimetype=exports.XLSX, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


@bp.route("/rollups/<int:region_id>")
@require("reports")
def rollup(region_id):
    """The roll-up of a region over a period, with drill-down to its children, charts, and
    the same figures as tables."""
    region = region_or_404(region_id, scope())
    period = _period()
    r = queries.rollup(region, period)
    form = PeriodForm(request.args)
    return render_template(
        "reports/rollup.html", r=r, form=form, period_args=_period_args(period),
        choices=_choices(period), header=exports.rollup_header(), row_name=exports.row_name,
        trend_chart=charts.trend_chart(r), category_chart=charts.category_chart(r),
        ranking_chart=charts.ranking_chart(r) if r.ranking else None)


@bp.route("/rollups/<int:region_id>/export.xlsx")
@require("reports")
def rollup_xlsx(region_id):
    """The roll-up as an Excel workbook, one sheet per table."""
    region = region_or_404(region_id, scope())
    period = _period()
    data = exports.rollup_xlsx(queries.rollup(region, period))
    return _xlsx(data, f"积分制汇总-{region.name}-{period.label}.xlsx")


@bp.route("/pilots/<int:region_id>")
@require("reports")
def pilots(region_id):
    """The pilot registry: each county's quota against the villages it designated."""
    region = region_or_404(region_id, scope())
    quotas = queries.pilot_quotas(region)
    return render_template("reports/pilots.html", region=region, quotas=quotas,
                           villages=queries.pilot_villages(region),
                           quota_chart=charts.quota_chart(quotas) if quotas else None,
                           total_quota=sum(q.quota or 0 for q in quotas),
                           total_designated=sum(q.designated for q in quotas))


@bp.route("/pilots/<int:region_id>/export.xlsx")
@require("reports")
def pilots_xlsx(region_id):
    """The pilot registry as an Excel workbook."""
    region = region_or_404(region_id, scope())
    data = exports.pilots_xlsx(region, queries.pilot_quotas(region),
                               queries.pilot_villages(region))
    return _xlsx(data, f"试点示范村-{region.name}.xlsx")
