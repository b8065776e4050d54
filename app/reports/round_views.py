"""Pilot rounds page (thin; on the reports blueprint): list the rounds, add one, change its
dates and due dates. Needs ``manage_rounds`` (city officials, system admins); every save is
in the operation log.
Rounds are city-wide (the notice's programme), so there is no region to scope by."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.accounts.access import require
from app.audit.services import log_action
from app.extensions import db
from app.reports import rounds
from app.reports.forms import RoundForm
from app.reports.models import PilotRound
from app.reports.views import bp

DATE_FIELDS = ("starts_on", "ends_on", "plan_due")


def _save(form, rnd=None):
    """Validate and save ``form``; returns the round, or None with errors at the fields."""
    valid = form.validate()
    for name in DATE_FIELDS:  # a date that does not parse: say so in Chinese at the field
        field = getattr(form, name)
        if field.errors:
            field.errors = [_("请填写有效的日期，如 2026-11-30")]
    if not valid:
        return None
    before = _logged(rnd) if rnd is not None else None
    try:
        saved = rounds.save_round(
            rnd, name=form.name.data, starts_on=form.starts_on.data, ends_on=form.ends_on.data,
            plan_due=form.plan_due.data, assessment_due=form.assessment_due.data,
            review_due=form.review_due.data, spot_check_due=form.spot_check_due.data)
    except rounds.RoundError as err:
        db.session.rollback()
        for name, message in err.errors.items():
            getattr(form, name).errors = [str(message)]
        return None
    log_action(current_user, "round.save", region=current_user.region_id, target=saved,
               before=before, after=_logged(saved))
    db.session.commit()
    return saved


def _logged(rnd) -> dict:
    """What the operation log keeps of a round: its name, dates and due dates."""
    return {name: getattr(rnd, name) for name in ("name", *DATE_FIELDS, *rounds.STEPS)}


@bp.route("/pilots/rounds", methods=["GET", "POST"])
@require("manage_rounds")
def rounds_page():
    """Every pilot round with its due dates, and a form to add a round."""
    form = RoundForm()
    if request.method == "POST":
        saved = _save(form)
        if saved is not None:
            flash(_("已添加试点轮次：%(name)s", name=saved.name), "success")
            return redirect(url_for("reports.rounds_page"))
    listed = rounds.all_rounds()
    db.session.commit()  # the notice's first round, when it was just created
    return render_template("reports/rounds.html", form=form, rounds=listed, editing=None)


@bp.route("/pilots/rounds/<int:round_id>", methods=["GET", "POST"])
@require("manage_rounds")
def round_edit(round_id):
    """Change a round's dates and due dates."""
    rnd = db.session.get(PilotRound, round_id)
    if rnd is None:
        abort(404)
    form = RoundForm(obj=rnd)
    if request.method == "POST":
        saved = _save(form, rnd)
        if saved is not None:
            flash(_("已保存试点轮次：%(name)s", name=saved.name), "success")
            return redirect(url_for("reports.rounds_page"))
    return render_template("reports/rounds.html", form=form, rounds=rounds.all_rounds(),
                           editing=rnd)
