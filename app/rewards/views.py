"""Points supermarket pages (thin: the services do the work, each request commits once).

Catalogue, report and receipts: anyone whose scope holds the village. The counter (find a
household, build a basket, confirm): permission ``redeem``. Catalogue edits, stock, opening
days and cancellations: permission ``manage_rewards``.
"""
import io
import re
from datetime import date, timedelta
from urllib.parse import quote

from flask import (Blueprint, Response, abort, flash, make_response, redirect, render_template,
                   request, url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts.access import require, scope
from app.audit.services import log_action
from app.evidence.forms import photo_id, photo_or_form_error
from app.extensions import db
from app.households import queries as hh_q
from app.i18n import refusal_text
from app.points import fmt_points
from app.regions.queries import get_scoped_or_404
from app.rewards import merchants, queries, services
from app.rewards.merchants import CLERK_ROLE
from app.rewards.forms import (AdjustForm, CancelForm, RedeemForm, RewardForm, SettingsForm,
                               StockInForm)
from app.rewards.models import Redemption, Reward
from app.rules.engine import Refusal
from app.scoring.periods import local_today, month_period

bp = Blueprint("rewards", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_TOKEN_IN_URL = re.compile(r"/h/([A-Za-z0-9_\-]{20,64})")


@bp.route("/villages/<int:village_id>/rewards")
@login_required
def catalogue(village_id):
    """The village's catalogue with stock, low-stock alerts and the latest redemptions."""
    village = hh_q.village_or_404(village_id, scope())
    return render_template(
        "rewards/catalogue.html", village=village, rewards=queries.catalogue(village.id),
        low=queries.low_stock(village.id), recent=queries.village_redemptions(village.id, 20),
        settings=services.settings_of(village.id),
        rate=queries.points_per_yuan(village.id))


def _save_reward(form, village, reward=None, merchant=None):
    """Create or update a reward of ``village`` (a village or a township; with ``merchant``
    of that merchant's catalogue) from ``form``; returns it, or None after a refusal (the
    message is put on the form)."""
    try:
        pid = photo_id(form.photo, village.id)
        fields = dict(name=form.name.data, points_price=form.points_price.data,
                      unit=form.unit.data, category=form.category.data,
                      low_stock_at=form.low_stock_at.data, yuan_value=form.yuan_value.data)
        if reward is None:
            reward = services.add_reward(village=village, is_goods=form.kind.data == "goods",
                                         photo_id=pid, merchant=merchant, **fields)
            if not form.active.data:
                services.update_reward(reward, active=False, **fields)
        else:
            services.update_reward(reward, active=form.active.data, photo_id=pid, **fields)
        db.session.commit()
        return reward
    except Refusal as exc:
        db.session.rollback()
        if exc.code == "bad_points":
            form.points_price.errors = [refusal_text(exc)]
        elif exc.code == "name_required":
            form.name.errors = [refusal_text(exc)]
        elif exc.code == "bad_cost":
            form.yuan_value.errors = [refusal_text(exc)]
        else:
            form.form_errors.append(photo_or_form_error(exc, form.photo) or "")
        return None


@bp.route("/villages/<int:village_id>/rewards/new", methods=["GET", "POST"])
@require("manage_rewards")
def new(village_id):
    """Add an item to the catalogue."""
    village = hh_q.village_or_404(village_id, scope())
    form = RewardForm()
    if form.validate_on_submit():
        reward = _save_reward(form, village)
        if reward is not None:
            flash(_("已添加：%(name)s", name=reward.name), "success")
            if reward.is_goods:
                return redirect(url_for("rewards.stock", reward_id=reward.id))
            return redirect(url_for("rewards.catalogue", village_id=village.id))
    return render_template("rewards/edit.html", village=village, form=form, reward=None)


@bp.route("/rewards/<int:reward_id>/edit", methods=["GET", "POST"])
@require("manage_rewards")
def edit(reward_id):
    """Change an item's name, price, unit, category, alert level, photo or active flag."""
    reward = get_scoped_or_404(Reward, reward_id, "village_id", scope())
    form = RewardForm(obj=reward)
    if reward.village.level == "township" and not current_user.can("manage_shared_rewards"):
        abort(403)
    if not form.is_submitted():
        form.points_price.data = fmt_points(reward.points_price, sign=False)
        form.kind.data = "goods" if reward.is_goods else "service"
    if form.validate_on_submit():
        if _save_reward(form, reward.village, reward) is not None:
            flash(_("已保存：%(name)s", name=reward.name), "success")
            return redirect(back_to(reward))
    return render_template("rewards/edit.html", village=reward.village, form=form,
                           reward=reward, back=back_to(reward))


def back_to(reward) -> str:
    """The page listing ``reward``: its merchant's, its township's shared catalogue, or its
    village's catalogue."""
    if reward.merchant_id:
        return url_for("rewards.merchant", merchant_id=reward.merchant_id)
    if reward.village.level == "township":
        return url_for("rewards.township", region_id=reward.village_id)
    return url_for("rewards.catalogue", village_id=reward.village_id)


@bp.route("/rewards/<int:reward_id>/stock", methods=["GET", "POST"])
@require("manage_rewards")
def stock(reward_id):
    """A reward's stock: stock-in and adjustment forms, and every movement."""
    reward = get_scoped_or_404(Reward, reward_id, "village_id", scope())
    if reward.is_shared:  # each village keeps its own stock of a shared item
        abort(404)
    if reward.village.level == "township" and not current_user.can("manage_shared_rewards"):
        abort(403)
    in_form, adj_form = StockInForm(prefix="in"), AdjustForm(prefix="adj")
    action = request.form.get("action")
    form_error = None
    form = in_form if action == "stock_in" else adj_form if action == "adjust" else None
    if form is not None and form.validate_on_submit():
        try:
            if form is in_form:
                services.stock_in(reward, quantity=in_form.quantity.data,
                                  supplier=in_form.supplier.data,
                                  cost_yuan=in_form.cost_yuan.data, by_user=current_user)
            else:
                services.adjust_stock(reward, delta=adj_form.delta.data,
                                      reason=adj_form.reason.data, by_user=current_user)
            db.session.commit()
            flash(_("已记录，现有库存 %(n)s%(unit)s", n=reward.stock, unit=reward.unit),
                  "success")
            return redirect(url_for("rewards.stock", reward_id=reward.id))
        except Refusal as exc:
            db.session.rollback()
            db.session.refresh(reward)
            if exc.code == "bad_cost":
                in_form.cost_yuan.errors = [refusal_text(exc)]
            else:
                form_error = refusal_text(exc)
    return render_template("rewards/stock.html", reward=reward, in_form=in_form,
                           adj_form=adj_form, form_error=form_error,
                           movements=queries.movements(reward.id), back=back_to(reward))


def camera_allowed(view):
    """Let this page (only) use the camera, for scanning door plates: Flask-Talisman's
    per-view Permissions-Policy, the app's policy with ``camera=(self)``."""
    options = dict(getattr(view, "talisman_view_options", {}))
    options["permissions_policy"] = {"browsing-topics": "()", "camera": "(self)",
                                     "microphone": "()", "geolocation": "()"}
    view.talisman_view_options = options
    return view


@bp.route("/villages/<int:village_id>/counter")
@camera_allowed
@require("redeem")
def counter(village_id):
    """The counter: find a household by house number, name, pinyin initials or the link of
    its door-plate QR code (a scanner types it into the search box)."""
    village = hh_q.village_or_404(village_id, scope())
    q = (request.args.get("q") or "").strip()
    found = _TOKEN_IN_URL.search(q)
    if found:
        household = hh_q.household_for_token(found.group(1))
        if household is not None and household.village_id == village.id:
            return redirect(url_for("rewards.basket", household_id=household.id))
        return render_template("rewards/counter.html", village=village, q="", households=[],
                               qr_unknown=True)
    households = db.session.execute(hh_q.search_stmt(village.id, q).limit(30)).unique() \
        .scalars().all() if q else []
    return render_template("rewards/counter.html", village=village, q=q,
                           households=households, qr_unknown=False)


def _basket_from(form_data, rewards) -> dict:
    """{reward id: quantity} from the posted ``q<id>`` fields (blank or 0 left out); a
    quantity that is not a whole number counts as a bad quantity (-1)."""
    basket = {}
    for r in rewards:
        raw = (form_data.get(f"q{r.id}") or "").strip()
        if not raw:
            continue
        basket[r.id] = int(raw) if raw.isdigit() else -1
    return basket


@bp.route("/counter/<int:household_id>", methods=["GET", "POST"])
@require("redeem")
def basket(household_id):
    """Build a basket for a household and confirm it once: one spend entry, stock taken."""
    household = hh_q.household_or_404(household_id, scope())
    rewards = queries.catalogue(household.village_id, active_only=True)
    form = RedeemForm()
    form_error = cash_due = bad_line = None
    try:
        services.check_window(household.village_id)
        services.check_eligible(household)
        closed = None
    except Refusal as exc:
        closed = refusal_text(exc)
    if household.status != "active":
        closed = _("该户已迁出或合并，不能兑换")
    if form.validate_on_submit() and closed is None:
        try:
            redemption = services.redeem(household=household,
                                         basket=_basket_from(request.form, rewards),
                                         by_user=current_user,
                                         idempotency_key=form.idempotency_key.data,
                                         cash_yuan=request.form.get("cash_yuan"))
            # read before the commit expires the row (issue 10: no reload to say "done")
            done = url_for("rewards.receipt", redemption_id=redemption.id)
            total, cash = redemption.total_points, redemption.cash_yuan
            db.session.commit()
            flash(_("兑换成功，共 %(p)s 分", p=fmt_points(total, sign=False)), "success")
            if cash is not None:  # row 25: cash top-up
                flash(_("已收取现金补差 %(y)s 元", y=cash), "success")
            return redirect(done)
        except Refusal as exc:
            db.session.rollback()
            form_error = refusal_text(exc)
            cash_due = exc.params.get("yuan") if exc.code == "cash_needed" else None
            bad_line = exc.params.get("reward_id")     # its box is marked
    elif request.method == "POST" and closed:
        form_error = closed
    db.session.refresh(household.balance)
    response = make_response(render_template(
        "rewards/basket.html", household=household, rewards=rewards, form=form,
        form_error=form_error, closed=closed, cash_due=cash_due, bad_line=bad_line,
        posted=request.form if request.method == "POST" else {},
        history=queries.household_redemptions(household.id, 5)))
    # Back from the receipt must not bring back a filled basket under a fresh key (a second
    # charge): never cached, so back renders it anew; rewards.js undoes restored quantities.
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/redemptions/<int:redemption_id>")
@login_required
def receipt(redemption_id):
    """The printable receipt of a redemption (小票)."""
    redemption = get_scoped_or_404(Redemption, redemption_id, "village_id", scope())
    if current_user.role == CLERK_ROLE and (
            merchants.merchant_of(current_user) is None
            or redemption.merchant_id != merchants.merchant_of(current_user).id):
        abort(404)
    return render_template("rewards/receipt.html", r=redemption,
                           village=redemption.household.village)


@bp.route("/redemptions/<int:redemption_id>/cancel", methods=["GET", "POST"])
@require("manage_rewards")
def cancel(redemption_id):
    """Cancel a redemption with a reason: the points and the stock go back."""
    redemption = get_scoped_or_404(Redemption, redemption_id, "village_id", scope())
    form = CancelForm()
    form_error = None
    if redemption.status == "cancelled":
        form_error = _("这笔兑换已经退还过")
    elif form.validate_on_submit():
        try:
            services.cancel_redemption(redemption, reason=form.reason.data,
                                       by_user=current_user,
                                       idempotency_key=form.idempotency_key.data)
            log_action(current_user, "redemption.cancel", region=redemption.village_id,
                       target=redemption, before={"status": "done"},
                       after={"status": "refunded", "points": redemption.total_points,
                              "cash_yuan": redemption.cash_yuan,
                              "reason": redemption.cancel_reason})
            db.session.commit()
            flash(_("已退还：积分和库存已恢复"), "success")
            if redemption.cash_yuan is not None:  # row 25: cash top-up
                flash(_("请把现金补差 %(y)s 元退还给农户", y=redemption.cash_yuan), "warning")
            return redirect(url_for("rewards.receipt", redemption_id=redemption.id))
        except Refusal as exc:
            db.session.rollback()
            form_error = refusal_text(exc)
    return render_template("rewards/cancel.html", r=redemption, form=form,
                           form_error=form_error)


@bp.route("/villages/<int:village_id>/rewards/settings", methods=["GET", "POST"])
@require("manage_rewards")
def settings(village_id):
    """The supermarket's opening days (days of the month)."""
    village = hh_q.village_or_404(village_id, scope())
    form = SettingsForm()
    if not form.is_submitted():
        form.open_days.data = services.settings_of(village.id).open_days
    if form.validate_on_submit():
        try:
            services.set_open_days(village.id, form.open_days.data)
            db.session.commit()
            flash(_("已保存开放日"), "success")
            return redirect(url_for("rewards.catalogue", village_id=village.id))
        except Refusal as exc:
            db.session.rollback()
            form.open_days.errors = [refusal_text(exc)]
    return render_template("rewards/settings.html", village=village, form=form)


def _report_range():
    """(start, end) local dates of the report: ``from``/``to`` (YYYY-MM) months, inclusive;
    default the last 12 months."""
    this = month_period(local_today())
    def month(arg, default):
        text = request.args.get(arg) or ""
        try:
            return date(int(text[:4]), int(text[5:7]), 1) if len(text) == 7 else default
        except ValueError:
            return default
    start = month("from", date(this.start.year - 1, this.start.month, 1))
    last = month("to", this.start)
    end = month_period(last).end
    if start >= end:
        start = last
    return start, end


@bp.route("/villages/<int:village_id>/rewards/report")
@login_required
def report(village_id):
    """Redemptions by day and month, top items, points and their value in yuan."""
    village = hh_q.village_or_404(village_id, scope())
    start, end = _report_range()
    rate = queries.points_per_yuan(village.id)
    return render_template("rewards/report.html", village=village, start=start, end=end,
                           to_label=(end - timedelta(days=1)).strftime("%Y-%m"),
                           data=queries.report(village.id, start, end, rate), rate=rate)


@bp.route("/villages/<int:village_id>/rewards/report.xlsx")
@login_required
def report_xlsx(village_id):
    """The report as an Excel workbook (sheets: by month, by day, top items, by villager
    group, totals)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    village = hh_q.village_or_404(village_id, scope())
    start, end = _report_range()
    rate = queries.points_per_yuan(village.id)
    data = queries.report(village.id, start, end, rate)
    wb = Workbook()
    sheets = [(_("按月"), [_("月份"), _("兑换笔数"), _("积分")], data["by_month"]),
              (_("按日"), [_("日期"), _("兑换笔数"), _("积分")], data["by_day"]),
              (_("热门奖品"), [_("奖品"), _("单位"), _("数量"), _("积分")], data["top"]),
              (_("按村民小组"), [_("村民小组"), _("兑换笔数"), _("积分")], data["by_group"])]
    for i, (title, head, rows) in enumerate(sheets):
        ws = wb.active if i == 0 else wb.create_sheet()
        ws.title = title
        ws.append(head)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in rows:
            ws.append([str(v) if isinstance(v, date) else v for v in row])
        ws.freeze_panes = "A2"
    ws = wb.create_sheet(_("合计"))
    ws.append([_("兑换笔数"), data["count"]])
    ws.append([_("积分"), data["points"]])
    ws.append([_("积分兑换金额（元，不含现金补差）"), data["yuan"]])
    ws.append([_("现金补差（元）"), data["cash_yuan"]])
    ws.append([_("兑出商品金额（元，含现金补差）"), data["goods_yuan"]])
    ws.append([_("按现行折算比例（元）"),
               data["rate_yuan"] if data["rate_yuan"] is not None else ""])
    ws.append([_("进货金额（元）"), data["stock_in_yuan"]])
    buf = io.BytesIO()
    wb.save(buf)
    name = f"{village.name}-积分超市-{start:%Y%m}-{end:%Y%m}.xlsx"
    return Response(buf.getvalue(), mimetype=XLSX, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})


from app.rewards import merchant_views, shared_views  # noqa: E402,F401  (more routes on bp)
