"""A township's shared catalogue (thin; on the rewards blueprint).

The township defines the items (``manage_shared_rewards``); each of its villages offers them
in its supermarket with its own stock, and may hide an item (``manage_rewards`` of the
village): ``shared_stock``. A village's catalogue and counter list the shared items beside
its own (``queries.catalogue``); another township's items never appear.
"""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.access import require, scope
from app.extensions import db
from app.households import queries as hh_q
from app.i18n import refusal_text
from app.regions.queries import region_or_404, villages_under
from app.rewards import merchants, queries, services
from app.rewards.forms import AdjustForm, RewardForm, StockInForm
from app.rewards.models import Reward
from app.rewards.views import _save_reward, bp
from app.rules.engine import Refusal


def _township_or_404(region_id):
    region = region_or_404(region_id, scope())
    if region.level != "township":
        abort(404)
    return region


@bp.route("/townships/<int:region_id>/rewards")
@require("manage_shared_rewards")
def township(region_id):
    """The township's shared catalogue, each item's stock in every village, and the
    township's merchants."""
    region = _township_or_404(region_id)
    villages = villages_under(region)
    stock = {v.id: {i.id: i for i in queries.catalogue(v.id) if i.shared} for v in villages}
    return render_template("rewards/township.html", region=region,
                           rewards=queries.shared_catalogue(region.id), villages=villages,
                           stock=stock, merchants=merchants.merchants_in(region))


@bp.route("/townships/<int:region_id>/rewards/new", methods=["GET", "POST"])
@require("manage_shared_rewards")
def township_new(region_id):
    """Add an item to the township's shared catalogue."""
    region = _township_or_404(region_id)
    form = RewardForm()
    if form.validate_on_submit():
        reward = _save_reward(form, region)
        if reward is not None:
            flash(_("已添加到乡镇共享奖品：%(name)s", name=reward.name), "success")
            return redirect(url_for("rewards.township", region_id=region.id))
    return render_template("rewards/edit.html", village=region, form=form, reward=None,
                           back=url_for("rewards.township", region_id=region.id))


@bp.route("/villages/<int:village_id>/rewards/<int:reward_id>/stock", methods=["GET", "POST"])
@require("manage_rewards")
def shared_stock(village_id, reward_id):
    """A village's stock of an item of its township's shared catalogue: stock-in,
    adjustment, hide or show it in the village's supermarket, and its movements."""
    village = hh_q.village_or_404(village_id, scope())
    reward = db.session.get(Reward, reward_id)
    if reward is None or not reward.is_shared or reward.village_id != village.parent_id:
        abort(404)
    in_form, adj_form = StockInForm(prefix="in"), AdjustForm(prefix="adj")
    action = request.form.get("action")
    form_error = None
    if action in ("hide", "show") and request.method == "POST":
        services.set_hidden(reward, village.id, action == "hide")
        db.session.commit()
        flash(_("已在本村隐藏") if action == "hide" else _("已在本村恢复显示"), "success")
        return redirect(url_for("rewards.catalogue", village_id=village.id))
    form = in_form if action == "stock_in" else adj_form if action == "adjust" else None
    if form is not None and form.validate_on_submit():
        try:
            if form is in_form:
                services.stock_in(reward, quantity=in_form.quantity.data,
                                  supplier=in_form.supplier.data, village_id=village.id,
                                  cost_yuan=in_form.cost_yuan.data, by_user=current_user)
            else:
                services.adjust_stock(reward, delta=adj_form.delta.data, village_id=village.id,
                                      reason=adj_form.reason.data, by_user=current_user)
            db.session.commit()
            flash(_("已记录，现有库存 %(n)s%(unit)s",
                    n=services.village_stock(reward, village.id), unit=reward.unit), "success")
            return redirect(url_for("rewards.shared_stock", village_id=village.id,
                                    reward_id=reward.id))
        except Refusal as exc:
            db.session.rollback()
            if exc.code == "bad_cost":
                in_form.cost_yuan.errors = [refusal_text(exc)]
            else:
                form_error = refusal_text(exc)
    item = next(i for i in queries.catalogue(village.id) if i.id == reward.id)
    return render_template("rewards/stock.html", reward=item, in_form=in_form,
                           adj_form=adj_form, form_error=form_error, village=village,
                           movements=queries.movements(reward.id, village_id=village.id),
                           back=url_for("rewards.catalogue", village_id=village.id))

