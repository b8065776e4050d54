"""Roll-up and pilot-registry pages and their Excel exports, and the yearly evaluation's
three steps. Every region is looked up within the user's scope (404 outside it); reading
needs ``reports``; the steps need ``assess``, ``review_county``, ``spot_check`` and
``manage_pilots``. One commit per request."""
import json
from urllib.parse import quote

from flask import (Blueprint, Response, abort, flash, redirect, render_template, request,
                   url_for)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from app.accounts.access import require, scope
from app.extensions import db
from app.regions.models import Region
from app.regions.queries import get_scoped_or_404, region_or_404
from app.reports import charts, exports, queries, services, snapshots
from app.reports.forms import (AssessmentForm, DrawForm, FindingForm, PeriodForm, PilotForm,
                               ReviewForm)
from app.reports.models import (CONTENT_AREAS, PilotRound, SelfAssessment, SpotCheck,
                                SpotCheckFinding)
from app.scoring.models import LedgerEntry
from app.reports.periods import in_reach, parse_period, quarter_period, year_period
from app.scoring.periods import local_today, month_period

bp = Blueprint("reports", __name__)


def _period():
    """The period asked for (``period`` or ``start``+``end``), else this year; a malformed
    period or one out of reach (before 2000 or after next year, ``in_reach``) is refused with
    a warning and this year shown instead."""
    args = request.args
    wanted = args.get("period") or args.get("start") or args.get("end")
    period = parse_period(args.get("period"), args.get("start"), args.get("end"))
    if period is not None and not in_reach(period, local_today()):
        flash(_("期间超出可查范围（2000 年至明年），已改为显示本年度"), "warning")
        period = year_period(local_today().year)
    if period is None:
        if wanted and not args.get("period") and not (args.get("start") and args.get("end")):
            flash(_("自定义期间要同时填写开始和结束日期，已改为显示本年度"), "warning")
        elif wanted:
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
    snap = snapshots.rollup(region, period, fresh=request.args.get("fresh") == "1")
    r = snap.rollup
    form = PeriodForm(request.args)
    return render_template(
        "reports/rollup.html", r=r, snap=snap, form=form, period_args=_period_args(period),
        choices=_choices(period), header=exports.rollup_header(), row_name=exports.row_name,
        trend_chart=charts.trend_chart(r), category_chart=charts.category_chart(r),
        ranking_chart=charts.ranking_chart(r) if r.ranking else None,
        quotas={q.county.id: q.designated for q in queries.pilot_quotas(region)})


@bp.route("/rollups/<int:region_id>/export.xlsx")
@require("reports")
def rollup_xlsx(region_id):
    """The roll-up as an Excel workbook, one sheet per table."""
    region = region_or_404(region_id, scope())
    period = _period()
    snap = snapshots.rollup(region, period)   # the figures the page shows
    data = exports.rollup_xlsx(snap.rollup, as_of=snap.as_of)
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


# --- the pilot registry and the yearly evaluation -------------------------------------------

def _village_or_404(village_id):
    village = region_or_404(village_id, scope())
    if village.level != "village":
        abort(404)
    return village


def _year_or_404(year: int) -> int:
    if not 2000 <= year <= 2099:
        abort(404)
    return year


def _refused(err: services.Refusal, file_field=None):
    """Show a refusal: at the form's file field when it is about the uploaded file, else as
    a message above the form. A browser cannot keep a chosen file across a refused form, so
    when one was chosen its field says to choose it again."""
    chosen = file_field is not None and bool(getattr(file_field.data, "filename", None))
    if err.field == "file" and file_field is not None:
        file_field.errors = [str(err.message)]
    else:
        flash(str(err.message), "danger")
    if chosen:
        file_field.errors = list(file_field.errors) + [_("请重新选择文件")]


@bp.route("/pilots/village/<int:village_id>")
@require("reports")
def pilot(village_id):
    """A village's pilot record: round, content areas, plan, and its evaluations by year."""
    village = _village_or_404(village_id)
    found = services.pilot_for(village)
    years = []
    if found is not None:
        for year in found.round.years():
            a = services.latest_assessment(found, year)
            years.append((year, a, services.latest_review(a)))
    return render_template("reports/pilot.html", village=village, pilot=found, years=years,
                           areas=CONTENT_AREAS)


@bp.route("/pilots/village/<int:village_id>/edit", methods=["GET", "POST"])
@require("manage_pilots")
def pilot_edit(village_id):
    """Designate a village as a pilot of a round, choose its content areas, file its plan."""
    village = _village_or_404(village_id)
    services.first_round()
    rounds = db.session.execute(select(PilotRound).order_by(PilotRound.starts_on)
                                ).scalars().all()
    found = services.pilot_for(village)
    form = PilotForm(obj=None)
    form.round_id.choices = [SelectChoice(r.id, r.name) for r in rounds]
    form.areas.choices = [SelectChoice(k, str(v)) for k, v in CONTENT_AREAS.items()]
    if request.method == "GET" and found is not None:
        form.round_id.data, form.areas.data = found.round_id, found.area_codes
        form.filed_on.data = found.plan_filed_on
    if form.validate_on_submit():
        rnd = db.session.get(PilotRound, form.round_id.data)
        try:
            saved = services.register_pilot(village, rnd, areas=form.areas.data or [])
            upload = request.files.get("plan")
            if upload and upload.filename:
                services.file_plan(saved, filename=upload.filename,
                                   content_type=upload.mimetype,
                                   data=upload.read(services.MAX_PLAN_BYTES + 1),
                                   filed_on=form.filed_on.data or local_today(),
                                   by_user=current_user)
        except services.Refusal as err:
            db.session.rollback()
            _refused(err, form.plan)
        else:
            db.session.commit()
            flash(_("已保存"), "success")
            return redirect(url_for("reports.pilot", village_id=village.id))
    return render_template("reports/pilot_edit.html", village=village, form=form,
                           pilot=found)


@bp.route("/pilots/village/<int:village_id>/plan")
@require("reports")
def plan_document(village_id):
    """The pilot plan document as uploaded."""
    village = _village_or_404(village_id)
    found = services.pilot_for(village)
    if found is None or found.plan_data is None:
        abort(404)
    return Response(found.plan_data, mimetype="application/octet-stream", headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(found.plan_filename)}"})


def _evaluation_context(village, year):
    found = services.pilot_for(village, year)
    versions = []
    if found is not None:
        versions = db.session.execute(
            select(SelfAssessment).where(SelfAssessment.pilot_id == found.id,
                                         SelfAssessment.year == year)
            .order_by(SelfAssessment.version)).scalars().all()
    latest = versions[-1] if versions else None
    return {"village": village, "year": year, "pilot": found, "versions": versions,
            "latest": latest, "review": services.latest_review(latest),
            "figure_labels": FIGURE_LABELS, "json": json}


FIGURE_LABELS = [("households", _l("户数")), ("participating", _l("参与户数")),
                 ("rate", _l("参与率（%）")), ("awarded", _l("加分")), ("deducted", _l("扣分")),
                 ("average", _l("户均积分")), ("median", _l("积分中位数")),
                 ("objections", _l("异议")), ("upheld", _l("异议成立")),
                 ("redemptions", _l("兑换次数")), ("redeemed", _l("兑换积分")),
                 ("redeemed_yuan", _l("兑换金额（元）")), ("red_listed", _l("上红榜户次")),
                 ("black_listed", _l("上黑榜户次")), ("honours", _l("获荣誉")),
                 ("stars", _l("星级户次"))]


@bp.route("/evaluations/<int:village_id>/<int:year>")
@require("reports")
def evaluation(village_id, year):
    """A pilot village's evaluation of one year: every signed-off version of the
    self-assessment and of the county's review."""
    village, year = _village_or_404(village_id), _year_or_404(year)
    return render_template("reports/evaluation.html", **_evaluation_context(village, year))


@bp.route("/evaluations/<int:village_id>/<int:year>/assess", methods=["GET", "POST"])
@require("assess")
def assess(village_id, year):
    """The township's self-assessment, pre-filled with the village's roll-up for the year."""
    village, year = _village_or_404(village_id), _year_or_404(year)
    ctx = _evaluation_context(village, year)
    form = AssessmentForm()
    if request.method == "GET" and ctx["latest"] is not None:
        for name in ("work_done", "results", "problems", "next_steps"):
            getattr(form, name).data = getattr(ctx["latest"], name)
        form.self_score.data = str(ctx["latest"].self_score)
    if ctx["pilot"] is not None and form.validate_on_submit():
        upload = request.files.get("attachment")
        attachment = ((upload.filename, upload.read(services.MAX_PLAN_BYTES + 1))
                      if upload and upload.filename else None)
        try:
            services.submit_assessment(
                ctx["pilot"], year, work_done=form.work_done.data, results=form.results.data,
                problems=form.problems.data, next_steps=form.next_steps.data,
                self_score=form.self_score.data, by_user=current_user,
                correction_reason=form.correction_reason.data, attachment=attachment)
        except services.Refusal as err:
            db.session.rollback()
            _refused(err, form.attachment)
        else:
            db.session.commit()
            flash(_("自评已签署存档。如需更正，请提交新版本并写明原因"), "success")
            return redirect(url_for("reports.evaluation", village_id=village.id, year=year))
    figures = services.figures_of(village, year)
    return render_template("reports/assess.html", form=form, figures=figures, **ctx)


@bp.route("/evaluations/<int:village_id>/<int:year>/review", methods=["GET", "POST"])
@require("review_county")
def review(village_id, year):
    """The county's review of the latest self-assessment: accept with a score, or return."""
    village, year = _village_or_404(village_id), _year_or_404(year)
    ctx = _evaluation_context(village, year)
    form = ReviewForm()
    if ctx["latest"] is not None and form.validate_on_submit():
        try:
            services.submit_review(ctx["latest"], decision=form.decision.data,
                                   comments=form.comments.data, score=form.score.data,
                                   by_user=current_user,
                                   correction_reason=form.correction_reason.data)
        except services.Refusal as err:
            db.session.rollback()
            _refused(err)
        else:
            db.session.commit()
            flash(_("复核已签署存档。如需更正，请提交新版本并写明原因"), "success")
            return redirect(url_for("reports.evaluation", village_id=village.id, year=year))
    return render_template("reports/review.html", form=form, **ctx)


@bp.route("/evaluations/board/<int:region_id>")
@require("reports")
def board(region_id):
    """Status board: per county, pilots, self-assessments submitted, reviews, and who has
    not yet submitted, with the due dates of the year's round."""
    region = region_or_404(region_id, scope())
    year = request.args.get("year", local_today().year, type=int)
    _year_or_404(year)
    rnd = services.round_for_year(year)
    pilots = []
    for village in queries.pilot_villages(region):
        found = services.pilot_for(village, year)
        if found is not None:
            a = services.latest_assessment(found, year)
            pilots.append((village, a, services.latest_review(a)))
    return render_template("reports/board.html", region=region, year=year, round=rnd,
                           rows=services.status_rows(region, year), pilots=pilots)


@bp.route("/spot-checks/<int:region_id>", methods=["GET", "POST"])
@require("spot_check")
def spot_checks(region_id):
    """The city's spot-check draws of a year in a region, and a form to draw again."""
    region = region_or_404(region_id, scope())
    year = request.args.get("year", local_today().year, type=int)
    _year_or_404(year)
    form = DrawForm()
    if form.validate_on_submit():
        try:
            check = services.draw_spot_check(region, year, village_count=form.village_count.data,
                                             entry_count=form.entry_count.data,
                                             seed=form.seed.data, by_user=current_user)
        except services.Refusal as err:
            db.session.rollback()
            _refused(err)
        else:
            db.session.commit()
            return redirect(url_for("reports.spot_check", check_id=check.id))
    checks = db.session.execute(select(SpotCheck).where(SpotCheck.region_id == region.id,
                                                        SpotCheck.year == year)
                                .order_by(SpotCheck.id.desc())).scalars().all()
    return render_template("reports/spot_checks.html", region=region, year=year, form=form,
                           checks=checks)


@bp.route("/spot-checks/check/<int:check_id>", methods=["GET", "POST"])
@require("spot_check")
def spot_check(check_id):
    """One draw: its seed (redone and compared), the drawn villages and entries, and the
    findings recorded on them."""
    check = get_scoped_or_404(SpotCheck, check_id, "region_id", scope())
    drawn = {int(k): v for k, v in json.loads(check.entries).items()}
    villages = {r.id: r for r in db.session.execute(
        select(Region).where(Region.id.in_(list(drawn)))).scalars()}
    entry_ids = [e for ids in drawn.values() for e in ids]
    entries = {e.id: e for e in db.session.execute(
        select(LedgerEntry).where(LedgerEntry.id.in_(entry_ids))).scalars()} if entry_ids else {}
    form = FindingForm()
    form.target.choices = []
    for vid, ids in drawn.items():
        form.target.choices.append((f"v{vid}", villages[vid].name))
        form.target.choices += [(f"e{vid}:{e}", f"{villages[vid].name} #{e}") for e in ids]
    valid, prior = form.validate_on_submit(), None
    if valid and form.supersedes.data:
        prior = db.session.get(SpotCheckFinding, form.supersedes.data)
        if prior is None or prior.spot_check_id != check.id:   # not a result of this check
            form.supersedes.errors = [*form.supersedes.errors, _(
                "本次抽查没有第 %(n)s 条结果", n=form.supersedes.data)]
            valid = False
    if valid:
        target = form.target.data
        vid, _sep, eid = target[1:].partition(":")
        try:
            services.record_finding(check, village_id=int(vid),
                                    entry_id=int(eid) if eid else None,
                                    verdict=form.verdict.data, text=form.text.data,
                                    by_user=current_user, supersedes=prior,
                                    correction_reason=form.correction_reason.data)
        except services.Refusal as err:
            db.session.rollback()
            if err.field == "supersedes":
                form.supersedes.errors = [*form.supersedes.errors, str(err.message)]
            else:
                _refused(err)
        else:
            db.session.commit()
            flash(_("抽查结果已记录"), "success")
            return redirect(url_for("reports.spot_check", check_id=check.id))
    return render_template("reports/spot_check.html", check=check, drawn=drawn,
                           villages=villages, entries=entries, form=form,
                           reproduced=services.redo_draw(check))


from app.reports.cli import register as _register_cli  # noqa: E402

_register_cli(bp)


@bp.route("/evaluations/report/<int:region_id>")
@require("reports")
def yearly_report(region_id):
    """The yearly evaluation report of a region, printable on A4."""
    region = region_or_404(region_id, scope())
    year = _year_or_404(request.args.get("year", local_today().year, type=int))
    return render_template("reports/yearly_report.html", areas=CONTENT_AREAS,
                           header=exports.rollup_header(), row_name=exports.row_name,
                           today=local_today(), **services.yearly_report(region, year))


@bp.route("/evaluations/report/<int:region_id>/export.xlsx")
@require("reports")
def yearly_report_xlsx(region_id):
    """The yearly evaluation report as an Excel workbook, one sheet per table."""
    region = region_or_404(region_id, scope())
    year = _year_or_404(request.args.get("year", local_today().year, type=int))
    data = exports.yearly_report_xlsx(services.yearly_report(region, year))
    return _xlsx(data, f"试点示范评估-{region.name}-{year}.xlsx")


@bp.route("/evaluations/attachment/<int:assessment_id>")
@require("reports")
def attachment(assessment_id):
    """The attachment of a self-assessment, as uploaded (404 outside the user's region)."""
    from app.regions.queries import in_scope
    from app.reports.models import PilotVillage
    found = db.session.execute(in_scope(
        select(SelfAssessment).join(PilotVillage, PilotVillage.id == SelfAssessment.pilot_id)
        .where(SelfAssessment.id == assessment_id), PilotVillage.village_id, scope())
    ).scalar_one_or_none()
    if found is None or found.attachment_data is None:
        abort(404)
    return Response(found.attachment_data, mimetype="application/octet-stream", headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(found.attachment_name)}"})


from app.reports import round_views  # noqa: E402,F401  (the rounds page, on this blueprint)
