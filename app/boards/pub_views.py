"""The publication flow's pages: draw a draft, review, public notice, publish, correct; the
A4/A3 posters; recording a black-board household's correction; the township board.
Drafting and correcting need ``manage_households``; review, notice, publication and
recording corrections need ``review`` (the village admin); reading needs ``view``."""
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from app.accounts.access import require, scope
from app.audit.services import log_action
from app.boards import services
from app.boards.forms import BlackCorrectionForm, CorrectForm, DraftForm
from app.boards.models import STATUS_LABELS, BoardDefinition, BoardPublication
from app.boards.periods import KIND_LABELS, board_period, parse_period, previous_period
from app.boards.queries import township_board
from app.boards.views import bp
from app.extensions import db
from app.households.queries import household_or_404, village_or_404
from app.i18n import refusal_text
from app.regions.queries import get_scoped_or_404, region_or_404
from app.rules.engine import N_, Refusal
from app.scoring.periods import local_today


def _publication(publication_id) -> BoardPublication:
    return get_scoped_or_404(BoardPublication, publication_id, "village_id", scope())


@bp.route("/board-definitions/<int:definition_id>/draft", methods=["POST"])
@require("manage_households")
def draft(definition_id):
    """Draw a draft board of the period typed (default: the current one)."""
    definition = get_scoped_or_404(BoardDefinition, definition_id, "region_id", scope())
    form = DraftForm()
    label = (form.period.data or "").strip() or board_period(
        local_today(), definition.period_kind).label
    period = parse_period(label, definition.period_kind)
    try:
        if period is None:
            raise Refusal("bad_period", N_(
                "周期“%(label)s”的写法不对，例如 2026-11、2026Q4、2026H2、2026"), label=label)
        pub = services.create_draft(definition, period, by_user=current_user)
        log_action(current_user, "board.draft", region=pub.village_id, target=pub)
        db.session.commit()
        return redirect(url_for("boards.publication", publication_id=pub.id))
    except Refusal as exc:
        db.session.rollback()
        flash(refusal_text(exc), "danger")
        return redirect(url_for("boards.manage", region_id=definition.region_id))



@bp.route("/board-publications/<int:publication_id>")
@login_required
def publication(publication_id):
    """A drafted or published board with its flow, changes and uncorrected households."""
    pub = _publication(publication_id)
    newer = db.session.execute(select(BoardPublication).where(
        BoardPublication.supersedes_id == pub.id)).scalars().first()
    return render_template("boards/publication.html", pub=pub, village=pub.village,
                           newer=newer,
                           kind=KIND_LABELS[pub.definition.period_kind],
                           correct_form=CorrectForm(), fix_form=BlackCorrectionForm(),
                           today=local_today(), statuses=STATUS_LABELS)


@bp.route("/board-publications/<int:publication_id>/advance", methods=["POST"])
@require("review")
def advance(publication_id):
    """The next step of the flow: reviewed, public notice, published."""
    pub = _publication(publication_id)
    before = pub.status
    try:
        services.advance(pub, by_user=current_user)
        log_action(current_user, "board." + pub.status, region=pub.village_id, target=pub,
                   before={"status": before}, after={"status": pub.status})
        db.session.commit()
        flash(_("已办理：%(s)s", s=STATUS_LABELS[pub.status]), "success")
    except Refusal as exc:
        db.session.rollback()
        flash(refusal_text(exc), "danger")
    return redirect(url_for("boards.publication", publication_id=publication_id))



@bp.route("/board-publications/<int:publication_id>/correct", methods=["POST"])
@require("manage_households")
def correct(publication_id):
    """Draw a correction of a published board from the ledger as it is now."""
    pub = _publication(publication_id)
    form = CorrectForm()
    try:
        new = services.correct(pub, by_user=current_user, note=form.note.data or "")
        log_action(current_user, "board.correct", region=pub.village_id, target=new,
                   after={"supersedes": pub.id, "note": new.correction_note})
        db.session.commit()
        return redirect(url_for("boards.publication", publication_id=new.id))
    except Refusal as exc:
        db.session.rollback()
        flash(refusal_text(exc), "danger")
        return redirect(url_for("boards.publication", publication_id=publication_id))


@bp.route("/board-publications/<int:publication_id>/poster/<size>")
@login_required
def poster(publication_id, size):
    """The board as a poster for the notice wall, A4 or A3 (print CSS ``@page``)."""
    pub = _publication(publication_id)
    if size not in ("a4", "a3"):
        abort(404)
    privacy = services.privacy_of(pub.village_id)
    return render_template("boards/poster.html", pub=pub, village=pub.village, size=size,
                           kind=KIND_LABELS[pub.definition.period_kind], staff=True,
                           show_black=True, privacy=privacy, statuses=STATUS_LABELS)


@bp.route("/villages/<int:village_id>/black-corrections", methods=["POST"])
@require("review")
def record_correction(village_id):
    """The committee records that a black-board household has corrected (date and note)."""
    village = village_or_404(village_id, scope())
    form = BlackCorrectionForm()
    back = request.form.get("next_publication", "")
    try:
        if not form.validate_on_submit() or not form.household_id.data.isdigit():
            raise Refusal("bad_form", N_("请填写整改日期和整改情况"))
        household = household_or_404(form.household_id.data, scope())
        fix = services.record_correction(village, household, by_user=current_user,
                                         corrected_on=form.corrected_on.data,
                                         note=form.note.data)
        log_action(current_user, "board.black_corrected", region=village, target=fix,
                   after={"household": household.id, "on": fix.corrected_on,
                          "note": fix.note})
        db.session.commit()
        flash(_("已记录整改。以后的榜单不再列为“未整改”。"), "success")
    except Refusal as exc:
        db.session.rollback()
        flash(refusal_text(exc), "danger")
    if back.isdigit():
        return redirect(url_for("boards.publication", publication_id=int(back)))
    return redirect(url_for("boards.manage", region_id=village.id))



@bp.route("/regions/<int:region_id>/village-board")
@login_required
def township(region_id):
    """The villages under a region (a township's villages) ranked by participation and
    average score in a month, quarter, half-year or year."""
    region = region_or_404(region_id, scope())
    kind = request.args.get("kind", "month")
    if kind not in KIND_LABELS:
        kind = "month"
    period = parse_period(request.args.get("period"), kind) or board_period(local_today(), kind)
    return render_template("boards/township.html", region=region, kind=kind, period=period,
                           rows=township_board(region, period), kinds=KIND_LABELS,
                           prev=previous_period(period, kind))
