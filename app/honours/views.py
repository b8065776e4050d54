"""Staff pages of honours: the year's list, nomination, notice, award or decline, the
village's own titles, and the A4 poster of the year's honour list."""
from flask import (Blueprint, abort, flash, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import MultiDict
from wtforms.fields.choices import SelectChoice

from app.accounts.access import require, scope
from app.audit.services import log_action
from app.extensions import db
from app.honours import queries, services
from app.honours.forms import DeclineForm, DecisionForm, NominateForm, NoticeForm, TitleForm
from app.honours.models import Honour
from app.households.models import Household
from app.households.numbers import house_number
from app.households.queries import village_or_404
from app.i18n import refusal_text
from app.regions.queries import get_scoped_or_404
from app.rules.engine import Refusal
from app.scoring.periods import local_today

bp = Blueprint("honours", __name__)


def _year():
    try:
        year = int(request.args.get("year") or local_today().year)
    except ValueError:
        abort(404)
    if not 2000 <= year <= 2099:
        abort(404)
    return year


def _honour(honour_id) -> Honour:
    return get_scoped_or_404(Honour, honour_id, "village_id", scope())


def _state(h: Honour) -> dict:
    return {"status": h.status, "title": h.title, "year": h.year,
            "household_id": h.household_id}


@bp.route("/villages/<int:village_id>/honours")
@require("view")
def index(village_id):
    """The village's honours of a year (?year=, default this year), by status."""
    village = village_or_404(village_id, scope())
    year = _year()
    return render_template("honours/index.html", village=village, year=year,
                           honours=queries.village_honours(village.id, year),
                           today=local_today())


@bp.route("/villages/<int:village_id>/honours/nominate", methods=["GET", "POST"])
@require("score")
def nominate(village_id):
    """A cadre nominates a household (by house number) for a title."""
    village = village_or_404(village_id, scope())
    form = NominateForm()
    form.title.choices = [SelectChoice(t) for t in services.titles_of(village.id)]
    if not form.is_submitted():
        form.year.data = local_today().year
        form.house_number.data = request.args.get("house", "")
    error = None
    if form.validate_on_submit():
        household = db.session.execute(select(Household).where(
            Household.village_id == village.id,
            Household.house_number == house_number(form.house_number.data))).scalar_one_or_none()
        if household is None:
            form.house_number.errors.append(_("本村没有这个门牌号"))
        else:
            try:
                honour = services.nominate(household, title=form.title.data,
                                           year=form.year.data, reason=form.reason.data,
                                           by_user=current_user,
                                           idempotency_key=form.idempotency_key.data)
                log_action(current_user, "honour.nominate", region=village, target=honour,
                           after=_state(honour))
                db.session.commit()
                flash(_("已提名：%(n)s 号 %(t)s", n=household.house_number, t=honour.title),
                      "success")
                return redirect(url_for("honours.show", honour_id=honour.id))
            except Refusal as exc:
                db.session.rollback()
                if exc.code == "bad_year":          # at its field, like the form's own errors
                    form.year.errors = [*form.year.errors, refusal_text(exc)]
                else:
                    error = refusal_text(exc)
    return render_template("honours/nominate.html", village=village, form=form, error=error)


KEPT_KEY = "honour_form"   # what was typed in a failed form, for the page redirected to
_FORMS = {"notice_form": NoticeForm, "decision_form": DecisionForm, "decline_form": DeclineForm}


def _keep(honour, form_name: str, form) -> None:
    """Remember in the session what was typed in ``form`` (and its field errors) so the
    honour page the request redirects to shows them again (Post/Redirect/Get)."""
    data = {f.name: (request.form.get(f.name) or "")[:2000] for f in form
            if f.type != "CSRFTokenField"}
    errors = {f.name: [str(e) for e in f.errors] for f in form if f.errors}
    session[KEPT_KEY] = {"honour": honour.id, "form": form_name, "data": data,
                         "errors": errors}


def _kept(honour) -> dict:
    """{form name: form filled with what was typed, with its errors} kept by ``_keep`` for
    this honour (popped: shown once), else {}."""
    kept = session.pop(KEPT_KEY, None)
    if not kept or kept.get("honour") != honour.id or kept.get("form") not in _FORMS:
        return {}
    form = _FORMS[kept["form"]](formdata=MultiDict(kept.get("data") or {}))
    for name, errors in (kept.get("errors") or {}).items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = list(errors)
    return {kept["form"]: form}


@bp.route("/honours/<int:honour_id>")
@require("view")
def show(honour_id):
    """One honour: its nomination, notice, objections, and the decision forms (a form that
    failed just before keeps what was typed and shows its errors)."""
    honour = _honour(honour_id)
    forms = _kept(honour)
    decision = forms.get("decision_form")
    if decision is None:
        decision = DecisionForm(formdata=None)
        decision.decision_date.data = local_today()
    return render_template("honours/show.html", honour=honour, village=honour.household.village,
                           notice_form=forms.get("notice_form") or NoticeForm(formdata=None),
                           decision_form=decision,
                           decline_form=forms.get("decline_form") or DeclineForm(formdata=None),
                           today=local_today())


def _act(honour, action, apply, form, done, form_name):
    """Validate ``form``, run ``apply()`` (a service call), log, commit, flash ``done`` and
    redirect back to the honour. On a form error or a refusal the honour page shows
    ``form`` (``form_name`` on the page) again with what was typed and the errors."""
    before = _state(honour)
    if not form.validate_on_submit():
        if not any(field.errors for field in form if field.type != "CSRFTokenField"):
            flash(_("请求有误，请刷新页面后重试"), "danger")
        _keep(honour, form_name, form)
        return redirect(url_for("honours.show", honour_id=honour.id))
    try:
        apply()
        log_action(current_user, action, region=honour.village_id, target=honour,
                   before=before, after={**_state(honour), "notice_until": honour.notice_until,
                                         "decision_date": honour.decision_date,
                                         "decision_note": honour.decision_note,
                                         "decline_reason": honour.decline_reason})
        db.session.commit()
        flash(done, "success")
    except Refusal as exc:
        db.session.rollback()
        flash(refusal_text(exc), "danger")
        _keep(honour, form_name, form)
    return redirect(url_for("honours.show", honour_id=honour.id))


@bp.route("/honours/<int:honour_id>/notice", methods=["POST"])
@require("review")
def notice(honour_id):
    """Put a nomination under public notice for the given number of days."""
    honour = _honour(honour_id)
    form = NoticeForm()
    return _act(honour, "honour.notice",
                lambda: services.start_notice(honour, days=form.days.data), form,
                _("已开始公示"), "notice_form")


@bp.route("/honours/<int:honour_id>/award", methods=["POST"])
@require("review")
def award(honour_id):
    """Award an honour after its notice, with the decision's date and record."""
    honour = _honour(honour_id)
    form = DecisionForm()
    return _act(honour, "honour.award", lambda: services.award(
        honour, by_user=current_user, decision_date=form.decision_date.data,
        note=form.note.data), form, _("已授予“%(t)s”", t=honour.title), "decision_form")


@bp.route("/honours/<int:honour_id>/decline", methods=["POST"])
@require("review")
def decline(honour_id):
    """Decline a nomination with a reason."""
    honour = _honour(honour_id)
    form = DeclineForm()
    return _act(honour, "honour.decline", lambda: services.decline(
        honour, by_user=current_user, reason=form.reason.data), form, _("已记录不授予"),
                "decline_form")


@bp.route("/villages/<int:village_id>/honour-titles", methods=["GET", "POST"])
@require("review")
def titles(village_id):
    """The titles of the village: the built-in four and the village's own; add one."""
    village = village_or_404(village_id, scope())
    form = TitleForm()
    error = None
    if form.validate_on_submit():
        try:
            title = services.add_title(village, form.name.data)
            log_action(current_user, "honour_title.create", region=village, target=title,
                       after={"name": title.name})
            db.session.commit()
            flash(_("已添加称号：%(n)s", n=title.name), "success")
            return redirect(url_for("honours.titles", village_id=village.id))
        except Refusal as exc:
            db.session.rollback()
            error = refusal_text(exc)
    return render_template("honours/titles.html", village=village, form=form, error=error,
                           titles=services.titles_of(village.id))


@bp.route("/villages/<int:village_id>/honours/poster")
@require("view")
def poster(village_id):
    """The year's honour list (awarded and under notice) as a poster for the wall: A4, or
    A3 with ``?size=a3`` (print CSS ``@page``; another size is a 404)."""
    village = village_or_404(village_id, scope())
    size = request.args.get("size", "a4")
    if size not in ("a4", "a3"):
        abort(404)
    year = _year()
    honours = queries.village_honours(village.id, year, ("under_notice", "awarded"))
    first, last = queries.notice_window(honours)
    return render_template("honours/poster.html", village=village, year=year, size=size,
                           honours=honours, notice_first=first, notice_last=last,
                           today=local_today())
