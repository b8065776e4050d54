"""Partner merchants' pages (thin; on the rewards blueprint): the list of a village's
merchants, registering one, its page and catalogue, its counter, and the settlement
statement per month with its Excel export.

A merchant is looked up within the user's scope (404 outside it); a merchant's counter login
(role ``merchant_clerk``) sees only its own merchant (404 for any other) and only the pages
listed in ``CLERK_PAGES`` (``merchant_guard``). Registering a merchant and adding to its
catalogue need ``manage_rewards``, and for a township's merchant ``manage_shared_rewards``.
"""
import io
from datetime import date
from urllib.parse import quote

from flask import (Response, abort, flash, redirect, render_template, request, url_for)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts.access import require, scope
from app.extensions import db
from app.households import queries as hh_q
from app.i18n import refusal_text
from app.points import fmt_points
from app.regions.queries import get_scoped_or_404, region_or_404
from app.rewards import merchants, services
from app.rewards.forms import MerchantForm, RedeemForm, RewardForm, SettlementForm
from app.rewards.merchants import CLERK_ROLE
from app.rewards.models import Merchant
from app.rewards.views import XLSX, _TOKEN_IN_URL, _basket_from, _save_reward, bp
from app.rules.engine import Refusal
from app.scoring.periods import local_today, month_period

CLERK_PAGES = {"rewards.merchant", "rewards.merchant_counter", "rewards.merchant_basket",
               "rewards.receipt", "rewards.settlement", "rewards.settlement_xlsx",
               "accounts.login", "accounts.logout", "users.change_my_password", "static",
               "ops.healthz", "evidence.thumb"}


@bp.before_app_request
def merchant_guard():
    """Keep a merchant's counter login to its merchant's pages: home goes to its counter;
    any other staff page is 403 (pages without login stay as they are)."""
    if not current_user.is_authenticated or current_user.role != CLERK_ROLE:
        return None
    endpoint = request.endpoint or ""
    if endpoint.startswith(("public.", "villager.")) or endpoint in CLERK_PAGES:
        return None
    mine = merchants.merchant_of(current_user)
    if endpoint == "accounts.home" and mine is not None:
        return redirect(url_for("rewards.merchant_counter", merchant_id=mine.id))
    abort(403)


def merchant_or_404(merchant_id) -> Merchant:
    """The merchant when it lies in the user's scope (and is the user's own, for a merchant's
    counter login), else 404."""
    merchant = get_scoped_or_404(Merchant, merchant_id, "region_id", scope())
    if current_user.role == CLERK_ROLE:
        mine = merchants.merchant_of(current_user)
        if mine is None or mine.id != merchant.id:
            abort(404)
    return merchant


def _may_manage(region) -> None:
    """403 unless the user may manage rewards of ``region`` (a township's need
    ``manage_shared_rewards`` too)."""
    if not current_user.can("manage_rewards") or (
            region.level == "township" and not current_user.can("manage_shared_rewards")):
        abort(403)


@bp.route("/villages/<int:village_id>/merchants")
@login_required
def merchants_list(village_id):
    """The merchants serving a village: its own and its township's."""
    village = hh_q.village_or_404(village_id, scope())
    return render_template("rewards/merchants.html", village=village,
                           merchants=merchants.merchants_for(village))


@bp.route("/regions/<int:region_id>/merchants/new", methods=["GET", "POST"])
@require("manage_rewards")
def merchant_new(region_id):
    """Register a merchant for a village or a township, with its counter login."""
    region = region_or_404(region_id, scope())
    if region.level not in ("village", "township"):
        abort(404)
    _may_manage(region)
    form = MerchantForm()
    if form.validate_on_submit():
        try:
            merchant = merchants.add_merchant(
                region=region, name=form.name.data, contact=form.contact.data,
                phone=form.phone.data, address=form.address.data,
                clerk_username=form.clerk_username.data,
                clerk_password=form.clerk_password.data)
            db.session.commit()
            flash(_("已登记合作商户：%(name)s", name=merchant.name), "success")
            return redirect(url_for("rewards.merchant", merchant_id=merchant.id))
        except Refusal as exc:
            db.session.rollback()
            target = {"name_required": form.name, "username_taken": form.clerk_username,
                      "bad_password": form.clerk_password}.get(exc.code, form.name)
            target.errors = [refusal_text(exc)]
    return render_template("rewards/merchant_new.html", region=region, form=form)


@bp.route("/merchants/<int:merchant_id>")
@login_required
def merchant(merchant_id):
    """A merchant's page: its catalogue with stock and its latest redemptions."""
    found = merchant_or_404(merchant_id)
    return render_template("rewards/merchant.html", merchant=found,
                           rewards=merchants.catalogue(found), recent=merchants.recent(found),
                           villages=merchants.villages_of(found))


@bp.route("/merchants/<int:merchant_id>/rewards/new", methods=["GET", "POST"])
@require("manage_rewards")
def merchant_reward_new(merchant_id):
    """Add an item to a merchant's catalogue."""
    found = merchant_or_404(merchant_id)
    _may_manage(found.region)
    form = RewardForm()
    if form.validate_on_submit():
        reward = _save_reward(form, found.region, merchant=found)
        if reward is not None:
            flash(_("已添加：%(name)s", name=reward.name), "success")
            return redirect(url_for("rewards.merchant", merchant_id=found.id))
    return render_template("rewards/edit.html", village=found.region, form=form, reward=None,
                           back=url_for("rewards.merchant", merchant_id=found.id))


@bp.route("/merchants/<int:merchant_id>/counter")
@require("redeem")
def merchant_counter(merchant_id):
    """The merchant's counter: find a household of the villages it serves by house number,
    name, pinyin initials or the link of its door-plate QR code."""
    found = merchant_or_404(merchant_id)
    q = (request.args.get("q") or "").strip()
    token = _TOKEN_IN_URL.search(q)
    if token:
        household = hh_q.household_for_token(token.group(1))
        if household is not None and merchants.serves(found, household):
            return redirect(url_for("rewards.merchant_basket", merchant_id=found.id,
                                    household_id=household.id))
        return render_template("rewards/counter.html", village=found.region, q="",
                               households=[], qr_unknown=True, merchant=found)
    households = merchants.find_households(found, q) if q else []
    return render_template("rewards/counter.html", village=found.region, q=q,
                           households=households, qr_unknown=False, merchant=found)


@bp.route("/merchants/<int:merchant_id>/counter/<int:household_id>", methods=["GET", "POST"])
@require("redeem")
def merchant_basket(merchant_id, household_id):
    """A basket from the merchant's catalogue for a household; confirmed once."""
    found = merchant_or_404(merchant_id)
    household = hh_q.household_or_404(household_id, found.region)
    rewards = merchants.catalogue(found, active_only=True)
    form = RedeemForm()
    form_error = closed = bad_line = None
    try:
        services.check_eligible(household)
    except Refusal as exc:
        closed = refusal_text(exc)
    if household.status != "active":
        closed = _("该户已迁出或合并，不能兑换")
    elif not found.active:
        closed = _("该商户已停止代兑积分")
    if form.validate_on_submit() and closed is None:
        try:
            redemption = services.redeem(household=household,
                                         basket=_basket_from(request.form, rewards),
                                         by_user=current_user, merchant=found,
                                         idempotency_key=form.idempotency_key.data)
            db.session.commit()
            flash(_("兑换成功，共 %(p)s 分", p=fmt_points(redemption.total_points, sign=False)),
                  "success")
            return redirect(url_for("rewards.receipt", redemption_id=redemption.id))
        except Refusal as exc:
            db.session.rollback()
            form_error = refusal_text(exc)
            bad_line = exc.params.get("reward_id")     # its box is marked
    elif request.method == "POST" and closed:
        form_error = closed
    db.session.refresh(household.balance)
    return render_template("rewards/basket.html", household=household, rewards=rewards,
                           form=form, form_error=form_error, closed=closed, merchant=found,
                           bad_line=bad_line,
                           posted=request.form if request.method == "POST" else {},
                           history=[])


def _month():
    """(start, end, form) of the settlement: ``month`` YYYY-MM, default this month; a bad
    month gets a Chinese error at the field and falls back to this month."""
    form = SettlementForm(request.args)
    this = month_period(local_today())
    text = (form.month.data or "").strip()
    if text:
        try:
            if len(text) != 7 or text[4] != "-":
                raise ValueError(text)
            chosen = month_period(date(int(text[:4]), int(text[5:7]), 1))
            return chosen.start, chosen.end, form
        except ValueError:
            form.month.errors = [_("月份格式应为 2026-11 这样的年-月")]
    form.month.data = this.start.strftime("%Y-%m")
    return this.start, this.end, form


@bp.route("/merchants/<int:merchant_id>/settlement")
@login_required
def settlement(merchant_id):
    """The merchant's settlement statement of a month: every redemption line, and the
    points and yuan owed per village."""
    found = merchant_or_404(merchant_id)
    start, end, form = _month()
    return render_template("rewards/settlement.html", merchant=found, form=form, start=start,
                           data=merchants.settlement(found, start, end))


@bp.route("/merchants/<int:merchant_id>/settlement.xlsx")
@login_required
def settlement_xlsx(merchant_id):
    """The settlement statement as an Excel workbook (sheets: per village, lines)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from app.audit.exports import neutralise
    found = merchant_or_404(merchant_id)
    start, end, _form = _month()
    data = merchants.settlement(found, start, end)
    wb = Workbook()
    ws = wb.active
    ws.title = _("结算汇总")
    ws.append([_("合作商户"), neutralise(found.name)])
    ws.append([_("月份"), start.strftime("%Y-%m")])
    ws.append([])
    ws.append([_("村"), _("兑换笔数"), _("积分"), _("应结算金额（元）")])
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for village, n, pts, yuan in data["by_village"]:
        ws.append([neutralise(village.name), n, pts, yuan])
    ws.append([_("合计"), data["count"], data["points"], data["yuan"]])
    if data["missing"]:
        ws.append([_("另有 %(n)s 行兑换时没有金额", n=data["missing"])])
    ws = wb.create_sheet(_("兑换明细"))
    ws.append([_("日期"), _("单号"), _("村"), _("门牌号"), _("户主"), _("奖品"), _("数量"),
               _("积分"), _("金额（元）")])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for line in data["lines"]:
        r = line.redemption
        ws.append([r.day.isoformat(), r.id, neutralise(r.household.village.name),
                   neutralise(r.household.house_number), neutralise(r.household.head_name),
                   neutralise(line.name), line.quantity, line.points, line.yuan])
    ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    name = f"{found.name}-积分兑换结算-{start:%Y%m}.xlsx"
    return Response(buf.getvalue(), mimetype=XLSX, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"})
