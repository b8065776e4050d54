"""Board setup pages: a village's (or township's) board definitions, copying a township
template, and the village's board privacy. Defining boards needs ``manage_households``."""
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from app.accounts.access import require, scope
from app.audit.services import log_action
from app.boards import services
from app.boards.forms import DefinitionForm, DraftForm, PrivacyForm, TemplateForm
from app.boards.models import STATUS_LABELS, BoardDefinition
from app.boards.periods import board_period
from app.boards.queries import publications_of
from app.boards.views import bp
from app.extensions import db
from app.households.queries import village_or_404
from app.i18n import refusal_text
from app.points import fmt_points
from app.regions.queries import children, get_scoped_or_404, region_or_404
from app.rules.engine import N_, Refusal
from app.rules.queries import version_in_force
from app.scoring.periods import local_today


def definitions_of(region_ids) -> list:
    """Board definitions of the regions ``region_ids`` (a list), oldest first."""
    return db.session.execute(select(BoardDefinition).where(
        BoardDefinition.region_id.in_(region_ids)).order_by(BoardDefinition.id)).scalars().all()


def extra_items(region, definitions, on) -> dict:
    """{definition id: [(board, code, item name or None, points text)]}: the item each
    definition posts to households on its red or black board. Points are the definition's
    own (range items) or the item's; name and points are looked up in the village's rulebook
    in force on ``on`` (a township template shows the code and its own points only)."""
    found = {}
    for d in definitions:
        for board, code, points in (("red", d.red_item_code, d.red_points),
                                    ("black", d.black_item_code, d.black_points)):
            if not code:
                continue
            it = (services.item_by_code(region, code, on) if region.level == "village"
                  else None)
            if points is not None:
                sign = -1 if it is not None and it.is_deduction else 1
                text = fmt_points(sign * abs(points))
            elif it is not None:
                text = (fmt_points(it.points) if it.kind == "fixed" and it.points is not None
                        else it.points_label)
            else:
                text = ""
            found.setdefault(d.id, []).append((board, code, it.name if it else None, text))
    return found


@bp.route("/regions/<int:region_id>/boards")
@login_required
def manage(region_id):
    """A village's boards (definitions, drafts and publications) or a township's templates."""
    region = region_or_404(region_id, scope())
    if region.level not in ("village", "township"):
        abort(404)
    templates = []
    if region.level == "village":
        templates = definitions_of([r.id for r in region.ancestors()])
    today = local_today()
    definitions = definitions_of([region.id])
    return render_template(
        "boards/manage.html", region=region, definitions=definitions,
        extras=extra_items(region, definitions, today),
        templates=templates, privacy=services.privacy_of(region.id),
        publications=publications_of(region.id) if region.level == "village" else [],
        current_label=lambda d: board_period(today, d.period_kind).label,
        draft_form=DraftForm(), template_form=TemplateForm(),
        status_label=STATUS_LABELS.get)


def _fill_choices(form, region):
    groups = children(region) if region.level == "village" else []
    form.group_id.choices = ([SelectChoice(0, _("全村"))]
                             + [SelectChoice(g.id, g.name) for g in groups])
    items = [("", _("（不另记分）"))]
    version = version_in_force(region, local_today()) if region.level == "village" else None
    for category in (version.categories if version else []):
        items += [(it.code, f"{it.code} {it.name}（{it.points_label}）")
                  for it in category.items]
    form.red_item_code.choices = form.black_item_code.choices = items


def _values(form) -> dict:
    values = {f: getattr(form, f).data for f in services.DEFINITION_FIELDS}
    values["group_id"] = values["group_id"] or None
    return values


def _save(form, region, definition=None):
    """Validate and save; a Refusal is shown at the form (what was typed is kept)."""
    if not form.validate_on_submit():
        return None
    try:
        saved = services.save_definition(region, _values(form), definition)
        log_action(current_user, "board.define", region=region, target=saved,
                   after={f: getattr(saved, f) for f in services.DEFINITION_FIELDS})
        db.session.commit()
        flash(_("榜单设置已保存。"), "success")
        return redirect(url_for("boards.manage", region_id=region.id))
    except Refusal as exc:
        db.session.rollback()
        field = getattr(form, exc.params.get("field") or "", None)
        if field is not None:
            field.errors = [*field.errors, refusal_text(exc)]
        else:
            form.form_errors.append(refusal_text(exc))
        return None


@bp.route("/regions/<int:region_id>/boards/new", methods=["GET", "POST"])
@require("manage_households")
def new_definition(region_id):
    """Define a board of a village, or a template of a township."""
    region = region_or_404(region_id, scope())
    if region.level not in ("village", "township"):
        abort(404)
    form = DefinitionForm()
    _fill_choices(form, region)
    if not form.is_submitted():
        form.name.data, form.red_top_n.data = _("月度红黑榜"), 10
    return _save(form, region) or render_template("boards/definition_form.html",
                                                  region=region, form=form)


@bp.route("/board-definitions/<int:definition_id>/edit", methods=["GET", "POST"])
@require("manage_households")
def edit_definition(definition_id):
    """Change a board definition (publications already made keep their frozen lines)."""
    definition = get_scoped_or_404(BoardDefinition, definition_id, "region_id", scope())
    form = DefinitionForm(obj=definition)
    _fill_choices(form, definition.region)
    if not form.is_submitted():
        form.group_id.data = definition.group_id or 0
        form.red_item_code.data = definition.red_item_code or ""
        form.black_item_code.data = definition.black_item_code or ""
    return _save(form, definition.region, definition) or render_template(
        "boards/definition_form.html", region=definition.region, form=form,
        definition=definition)


@bp.route("/villages/<int:village_id>/boards/copy", methods=["POST"])
@require("manage_households")
def copy_template(village_id):
    """Copy a township template into the village's own definitions."""
    village = village_or_404(village_id, scope())
    form = TemplateForm()
    template = None
    if form.validate_on_submit() and form.template_id.data.isdigit():
        template = db.session.get(BoardDefinition, int(form.template_id.data))
    try:
        if template is None:
            raise Refusal("no_template", N_("请选择模板"))
        copy = services.copy_template(template, village)
        log_action(current_user, "board.copy", region=village, target=copy)
        db.session.commit()
        flash(_("已复制模板，可按本村情况修改。"), "success")
    except Refusal as exc:
        db.session.rollback()
        flash(refusal_text(exc), "danger")
    return redirect(url_for("boards.manage", region_id=village.id))


@bp.route("/villages/<int:village_id>/boards/privacy", methods=["GET", "POST"])
@require("manage_households")
def privacy(village_id):
    """Whether names are masked on published boards and whether the black board is public."""
    village = village_or_404(village_id, scope())
    current = services.privacy_of(village.id)
    form = PrivacyForm(obj=current)
    if form.validate_on_submit():
        before = {"mask_names": current.mask_names, "black_public": current.black_public}
        saved = services.save_privacy(village.id, mask_names=form.mask_names.data,
                                      black_public=form.black_public.data)
        log_action(current_user, "board.privacy", region=village, before=before,
                   after={"mask_names": saved.mask_names, "black_public": saved.black_public})
        db.session.commit()
        flash(_("已保存。以后发布的榜单按新设置显示。"), "success")
        return redirect(url_for("boards.manage", region_id=village.id))
    return render_template("boards/privacy.html", village=village, form=form)
