"""Pages of the non-goods uses of points (RULE-FEATURES row 26): the dividend of a village's
pool for a year (page and Excel export; nothing is posted to the ledger), and the template
helper that shows a household's privileges and redemption block on its pages."""
import io
from decimal import Decimal, InvalidOperation
from urllib.parse import quote

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from app.accounts.access import require, scope
from app.audit.exports import neutralise
from app.extensions import db
from app.households.models import Household
from app.households.queries import household_for_token, village_or_404
from app.i18n import refusal_text
from app.rules.engine import Refusal
from app.rules.uses_state import dividend_table, household_privileges, redemption_block
from app.scoring.periods import local_today

bp = Blueprint("uses", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.app_template_global()
def household_uses(household_id=None, token=None) -> dict:
    """{"privileges": [labels], "block": (entry, until) or None} of a household (by id, or
    by door-plate token on the QR page), for templates/rules/_uses.html."""
    household = (db.session.get(Household, household_id) if household_id
                 else household_for_token(token) if token else None)
    if household is None:
        return {"privileges": [], "block": None}
    return {"privileges": household_privileges(household),
            "block": redemption_block(household)}


def _args():
    """(year int, pool Decimal or None, error text or None) from the query string."""
    year = request.args.get("year", type=int) or local_today().year
    raw = (request.args.get("pool") or "").strip().replace(",", "").replace("，", "")
    if not raw:
        return year, None, None
    try:
        pool = Decimal(raw)
    except InvalidOperation:
        return year, None, _("分红总额须是数字（元）")
    if not pool.is_finite() or pool < 0 or pool != pool.quantize(Decimal("0.01")) \
            or pool >= Decimal("1e10"):
        return year, None, _("分红总额须是不小于 0、最多两位小数的金额")
    return year, pool, None


@bp.route("/villages/<int:village_id>/dividend")
@require("view")
def dividend(village_id):
    """Each household's share in yuan of a pool for a year, in proportion to its points
    (``?year=2026&pool=10000``)."""
    village = village_or_404(village_id, scope())
    year, pool, error = _args()
    rows = []
    if pool is not None:
        try:
            rows = dividend_table(village.id, year, pool)
        except Refusal as exc:
            error = refusal_text(exc)
    total = sum((r["yuan"] for r in rows), Decimal(0))
    return render_template("rules/dividend.html", village=village, year=year, pool=pool,
                           rows=rows, total=total, error=error,
                           raw_pool=request.args.get("pool", ""))


@bp.route("/villages/<int:village_id>/dividend.xlsx")
@require("view")
def dividend_xlsx(village_id):
    """The dividend table as an Excel workbook (same figures as the page)."""
    village = village_or_404(village_id, scope())
    year, pool, error = _args()
    if pool is None:
        return Response(error or _("请填写分红总额"), status=400, mimetype="text/plain")
    data = dividend_workbook(village.name, year, pool, dividend_table(village.id, year, pool))
    name = f"积分分红-{village.name}-{year}.xlsx"
    return Response(data, mimetype=XLSX, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


def dividend_workbook(village_name: str, year: int, pool: Decimal, rows: list) -> bytes:
    """The dividend table (``uses_state.dividend_table`` rows) as .xlsx bytes; points and
    yuan are exact numeric cells."""
    wb = Workbook()
    ws = wb.active
    ws.title = _("积分分红")
    for row in ([_("积分分红（按积分比例，不记入积分台账）")], [_("村"), village_name],
                [_("年度"), year], [_("分红总额（元）"), pool], []):
        ws.append([neutralise(v) if isinstance(v, str) else v for v in row])
    ws.append([_("名次"), _("门牌号"), _("户主"), _("年度积分"), _("分红（元）")])
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for r in rows:
        ws.append([r["rank"], neutralise(r["house_number"]), neutralise(r["head_name"]),
                   r["points"], r["yuan"]])
    ws.append([_("合计"), "", "", None, sum((r["yuan"] for r in rows), Decimal(0))])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
