"""Rulebook pages: read a village's rulebooks and versions; a village admin edits a draft,
adopts it by a recorded decision, exports and imports it (YAML, Excel) and tries a deed
against it before adopting it. Thin: the services do the writes, one commit per request.

Visibility: a user sees the rulebooks of regions in their scope and, for a village user,
the templates of their township. Editing (``edit_rules``) is for rulebooks of regions in
the user's scope. Anything else is a 404.
"""
from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from app.accounts.access import require, scope
from app.audit.services import log_action
from app.extensions import db
from app.households.models import Household
from app.i18n import refusal_text
from app.ids import as_id
from app.regions.models import Region
from app.regions.queries import in_scope, region_or_404
from app.rules import excel, services
from app.rules.engine import Deed, Refusal, judge
from app.rules.forms import (AdoptForm, BookRulesForm, CategoryForm, ConfirmForm, ImportForm,
                             ItemForm,
                             NewDraftForm, PreviewForm)
from app.rules.importer import RulebookFormatError, parse_rulebook
from app.rules.models import Category, RuleItem, Rulebook, RulebookVersion
from app.rules.queries import book_rule, to_rule, version_in_force
from app.rules.yaml_export import export_yaml
from app.scoring.periods import local_today
from app.scoring.services import household_state

bp = Blueprint("rules", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _visible(region: Region) -> bool:
    """True when the user may read rulebooks of ``region``: inside their scope, or the
    township of their village (its templates)."""
    mine = scope()
    return mine.contains(region) or (mine.level == "village" and mine.parent_id == region.id)


def _version_or_404(version_id, edit: bool = False) -> RulebookVersion:
    version = db.session.get(RulebookVersion, version_id)
    if version is None or not _visible(version.rulebook.region):
        abort(404)
    if edit and not scope().contains(version.rulebook.region):
        abort(404)
    return version


def _category_or_404(category_id) -> Category:
    cat = db.session.get(Category, category_id)
    if cat is None:
        abort(404)
    _version_or_404(cat.version_id, edit=True)
    return cat


def _item_or_404(item_id) -> RuleItem:
    item = db.session.get(RuleItem, item_id)
    if item is None:
        abort(404)
    _version_or_404(item.category.version_id, edit=True)
    return item


def _refuse_adopted(version):
    """A redirect with a clear message when ``version`` is adopted (never edited), else None."""
    if version.status == "draft":
        return None
    flash(_("第 %(n)s 版已经通过，不能修改。要修改细则，请以它为底新建一份草稿，改好后再表决通过。",
            n=version.number), "danger")
    return redirect(url_for("rules.version", version_id=version.id))


def _books_of(region: Region) -> list:
    """Rulebooks owned by ``region`` (with their versions), oldest first."""
    return db.session.execute(select(Rulebook).where(Rulebook.region_id == region.id)
                              .order_by(Rulebook.id)).scalars().all()


@bp.route("/regions/<int:region_id>/rulebooks")
@login_required
def index(region_id):
    """The rulebooks of a village (its own and its township's templates) or of a township,
    each version with its status, effective date and decision."""
    region = region_or_404(region_id, scope())
    if region.level not in ("village", "township"):
        abort(404)
    township = region.parent if region.level == "village" else None
    in_force = version_in_force(region, local_today()) if region.level == "village" else None
    return render_template("rules/index.html", region=region, own=_books_of(region),
                           templates=_books_of(township) if township else [],
                           township=township, in_force=in_force, form=NewDraftForm())


@bp.route("/rulebook-versions/<int:version_id>")
@login_required
def version(version_id):
    """One version: status, effective date, decision, rulebook-wide rules and the items."""
    v = _version_or_404(version_id)
    editable = scope().contains(v.rulebook.region)
    village = scope() if scope().level == "village" else None
    return render_template("rules/version.html", version=v, book=book_rule(v),
                           editable=editable, village=village, form=NewDraftForm())


@bp.route("/regions/<int:region_id>/rulebooks/drafts", methods=["POST"])
@require("edit_rules")
def new_draft(region_id):
    """Start a new draft of the region's own rulebook from a version: the one in force or a
    township template (copied; the version itself never changes)."""
    region = region_or_404(region_id, scope())
    if region.level not in ("village", "township"):
        abort(404)
    form = NewDraftForm()
    source = None
    if form.validate_on_submit() and as_id(form.source.data) is not None:
        source = db.session.get(RulebookVersion, as_id(form.source.data))
    if source is None or not (source.rulebook.region_id == region.id
                              or source.rulebook.region_id == region.parent_id):
        flash(_("请选择要以哪一版为底新建草稿"), "danger")
        return redirect(url_for("rules.index", region_id=region.id))
    draft = services.draft_from(region, source)
    db.session.commit()
    flash(_("已新建草稿第 %(n)s 版（复制自%(book)s第 %(m)s 版）。改好后请表决通过。",
            n=draft.number, book=source.rulebook.name, m=source.number), "success")
    return redirect(url_for("rules.edit", version_id=draft.id))


@bp.route("/rulebook-versions/<int:version_id>/edit")
@require("edit_rules")
def edit(version_id):
    """The draft editor: categories and their items, each editable on its own page."""
    v = _version_or_404(version_id, edit=True)
    refused = _refuse_adopted(v)
    if refused:
        return refused
    book = book_rule(v)
    return render_template("rules/edit.html", version=v, confirm=ConfirmForm(), book=book,
                           book_rules_set=bool(book.base or book.household_cap
                                               or book.eligibility or book.thresholds
                                               or book.star_bands))


@bp.route("/rulebook-versions/<int:version_id>/delete", methods=["POST"])
@require("edit_rules")
def delete_draft(version_id):
    """Remove a draft that will not be put to the vote (an import gone wrong, a second
    try); adopted versions stay for ever."""
    v = _version_or_404(version_id, edit=True)
    refused = _refuse_adopted(v)
    if refused:
        return refused
    region_id, number = v.rulebook.region_id, v.number
    if ConfirmForm().validate_on_submit():
        services.delete_draft(v)
        db.session.commit()
        flash(_("已删除草稿第 %(n)s 版", n=number), "success")
        return redirect(url_for("rules.index", region_id=region_id))
    return redirect(url_for("rules.edit", version_id=version_id))


def _save_category(form, save, message: str, version_id: int):
    """Run ``save`` (adds or updates a category) and commit: the redirect to the editor,
    or None with a refusal (a duplicate name) shown at the name field."""
    try:
        save()
    except Refusal as exc:
        db.session.rollback()
        form.name.errors = [*form.name.errors, refusal_text(exc)]
        return None
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("rules.edit", version_id=version_id))


@bp.route("/rulebook-versions/<int:version_id>/categories/new", methods=["GET", "POST"])
@require("edit_rules")
def category_new(version_id):
    """Add a category to a draft."""
    v = _version_or_404(version_id, edit=True)
    refused = _refuse_adopted(v)
    if refused:
        return refused
    form = CategoryForm()
    if form.validate_on_submit():
        cleaned = form.cleaned()
        if cleaned:
            name, cap, period = cleaned
            done = _save_category(form, lambda: services.add_category(v, name, cap, period),
                                  _("已添加类别：%(name)s", name=name), v.id)
            if done:
                return done
    return render_template("rules/category.html", version=v, form=form, category=None)


@bp.route("/rule-categories/<int:category_id>/edit", methods=["GET", "POST"])
@require("edit_rules")
def category_edit(category_id):
    """Rename a draft's category, set or clear its cap."""
    cat = _category_or_404(category_id)
    refused = _refuse_adopted(cat.version)
    if refused:
        return refused
    form = CategoryForm()
    if not form.is_submitted():
        form.name.data = cat.name
        form.cap_points.data = "" if cat.cap_points is None else \
            format(cat.cap_points.normalize(), "f")
        form.cap_period.data = cat.cap_period or "year"
    if form.validate_on_submit():
        cleaned = form.cleaned()
        if cleaned:
            name, cap, period = cleaned
            done = _save_category(
                form, lambda: services.update_category(cat, name=name, cap_points=cap,
                                                       cap_period=period),
                _("已保存类别：%(name)s", name=name), cat.version_id)
            if done:
                return done
    return render_template("rules/category.html", version=cat.version, form=form, category=cat)


@bp.route("/rule-categories/<int:category_id>/delete", methods=["POST"])
@require("edit_rules")
def category_delete(category_id):
    """Remove a category and its items from a draft."""
    cat = _category_or_404(category_id)
    refused = _refuse_adopted(cat.version)
    if refused:
        return refused
    version_id, name = cat.version_id, cat.name
    if ConfirmForm().validate_on_submit():
        services.delete_category(cat)
        db.session.commit()
        flash(_("已删除类别：%(name)s", name=name), "success")
    return redirect(url_for("rules.edit", version_id=version_id))


@bp.route("/rule-categories/<int:category_id>/items/new", methods=["GET", "POST"])
@require("edit_rules")
def item_new(category_id):
    """Add an item, with all the parameters of its kind, to a draft's category."""
    cat = _category_or_404(category_id)
    refused = _refuse_adopted(cat.version)
    if refused:
        return refused
    form = ItemForm()
    if form.validate_on_submit():
        fields = form.cleaned()
        if fields:
            item = services.add_item(cat, **fields)
            db.session.commit()
            flash(_("已添加评分项：%(name)s", name=item.name), "success")
            return redirect(url_for("rules.edit", version_id=cat.version_id,
                                    _anchor=f"c{cat.id}"))
    return render_template("rules/item.html", version=cat.version, category=cat, form=form,
                           item=None)


#: Item params the item form has no field for (RULE-FEATURES rows 14, 22, 23, 26).
_FORMLESS_PARAMS = ("channels", "blocks_redemption_months", "zeroes", "assessment")


@bp.route("/rule-items/<int:item_id>/edit", methods=["GET", "POST"])
@require("edit_rules")
def item_edit(item_id):
    """Change a draft's item (its code stays, so its ledger history carries over)."""
    item = _item_or_404(item_id)
    cat = item.category
    refused = _refuse_adopted(cat.version)
    if refused:
        return refused
    form = ItemForm()
    if not form.is_submitted():
        form.fill(item)
    if form.validate_on_submit():
        fields = form.cleaned()
        if fields:
            # keys the form does not edit (channels, sanctions, zeroing, assessment)
            # stay as they were: the tablet form must not drop them
            kept = {k: v for k, v in (item.params or {}).items() if k in _FORMLESS_PARAMS}
            if kept:
                fields["params"] = {**kept, **(fields.get("params") or {})}
            services.update_item(item, **fields)
            db.session.commit()
            flash(_("已保存评分项：%(name)s", name=item.name), "success")
            return redirect(url_for("rules.edit", version_id=cat.version_id,
                                    _anchor=f"c{cat.id}"))
    return render_template("rules/item.html", version=cat.version, category=cat, form=form,
                           item=item)


@bp.route("/rule-items/<int:item_id>/delete", methods=["POST"])
@require("edit_rules")
def item_delete(item_id):
    """Remove an item from a draft."""
    item = _item_or_404(item_id)
    version = item.category.version
    refused = _refuse_adopted(version)
    if refused:
        return refused
    name = item.name
    if ConfirmForm().validate_on_submit():
        services.delete_item(item)
        db.session.commit()
        flash(_("已删除评分项：%(name)s", name=name), "success")
    return redirect(url_for("rules.edit", version_id=version.id))


@bp.route("/rulebook-versions/<int:version_id>/book-rules", methods=["GET", "POST"])
@require("edit_rules")
def book_rules(version_id):
    """Edit a draft's rulebook-wide rules: base score, household cap, eligibility gate,
    thresholds and star bands."""
    v = _version_or_404(version_id, edit=True)
    refused = _refuse_adopted(v)
    if refused:
        return refused
    form = BookRulesForm()
    if not form.is_submitted():
        form.fill(v.params)
    if form.validate_on_submit():
        params = form.cleaned(v.params)
        if not any(f.errors for f in form):  # cleaned() puts its errors on the fields
            services.set_book_rules(v, params)
            db.session.commit()
            flash(_("已保存总则"), "success")
            return redirect(url_for("rules.edit", version_id=v.id))
    return render_template("rules/book_rules.html", version=v, form=form)


def _after_adopted(version, form) -> bool:
    """True when the draft takes effect after every adopted version of its rulebook (else
    the error is set on the effective date): a later version never takes effect before an
    earlier one, so which version judges a day stays plain."""
    latest = max((v.effective_from for v in version.rulebook.versions
                  if v.status == "adopted" and v.effective_from), default=None)
    if latest is not None and form.effective_from.data <= latest:
        form.effective_from.errors = list(form.effective_from.errors) + [
            _("第 %(n)s 版自 %(d)s 起施行，新版本的施行日期须在这一天之后",
              n=max(v.number for v in version.rulebook.versions
                    if v.status == "adopted" and v.effective_from == latest), d=latest)]
        return False
    return True


@bp.route("/rulebook-versions/<int:version_id>/adopt", methods=["GET", "POST"])
@require("edit_rules")
def adopt(version_id):
    """Adopt a draft by a recorded decision (四议两公开) from an effective date."""
    v = _version_or_404(version_id, edit=True)
    refused = _refuse_adopted(v)
    if refused:
        return refused
    form = AdoptForm()
    if not form.is_submitted():
        form.meeting_date.data = local_today()
    empty = not any(c.items for c in v.categories)
    hollow = "、".join(c.name for c in v.categories if not c.items)
    if empty and form.is_submitted():
        flash(_("草稿里还没有任何评分项，不能表决通过"), "danger")
    elif hollow and form.is_submitted():   # it would be an empty heading on the scoring form
        flash(_("类别“%(names)s”里还没有评分项：请添加评分项或删除这个类别后再表决",
                names=hollow), "danger")
    elif form.validate_on_submit() and _after_adopted(v, form):
        services.adopt_version(v, adopted_on=form.meeting_date.data,
                               effective_from=form.effective_from.data,
                               decision=form.decision_text(), record=form.record())
        log_action(current_user, "rulebook.adopt", region=v.rulebook.region_id, target=v,
                   before={"status": "draft"},
                   after={"status": "adopted", "number": v.number, "adopted_on": v.adopted_on,
                          "effective_from": v.effective_from, "decision": v.decision})
        db.session.commit()
        flash(_("第 %(n)s 版已通过，自 %(d)s 起施行。", n=v.number, d=v.effective_from),
              "success")
        return redirect(url_for("rules.version", version_id=v.id))
    return render_template("rules/adopt.html", version=v, form=form)


def _download(data, mimetype, filename):
    return Response(data, mimetype=mimetype, headers={
        "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"})


@bp.route("/rulebook-versions/<int:version_id>/rulebook.yaml")
@login_required
def export_yaml_file(version_id):
    """The version as YAML in the documented format (docs/rulebook-format.md)."""
    v = _version_or_404(version_id)
    return _download(export_yaml(v).encode("utf-8"), "application/yaml; charset=utf-8",
                     f"{v.rulebook.name}-第{v.number}版.yaml")


@bp.route("/rulebook-versions/<int:version_id>/rulebook.xlsx")
@login_required
def export_xlsx(version_id):
    """The version as an Excel workbook cadres can fill in and import."""
    v = _version_or_404(version_id)
    return _download(excel.export_workbook(v), XLSX, f"{v.rulebook.name}-第{v.number}版.xlsx")


def _parse_upload(data: bytes):
    """(RulebookSpec, is_excel) of an uploaded file; raises WorkbookError or
    RulebookFormatError."""
    if data[:2] == b"PK":
        return excel.parse_workbook(data), True
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise RulebookFormatError(_("文件不是 UTF-8 编码的 YAML，也不是 Excel 工作簿")) from None
    return parse_rulebook(text), False


@bp.route("/regions/<int:region_id>/rulebooks/import", methods=["GET", "POST"])
@require("edit_rules")
def import_file(region_id):
    """Import a YAML file or an Excel workbook as a new draft of the region's own rulebook.
    Nothing changes unless the whole file is right; mistakes name the sheet, row and column
    (Excel) or the category and item (YAML)."""
    region = region_or_404(region_id, scope())
    if region.level not in ("village", "township"):
        abort(404)
    form = ImportForm()
    errors = []
    if form.validate_on_submit():
        data = form.file.data.read()
        try:
            spec, is_excel = _parse_upload(data)
            if not spec.categories or not any(c.items for c in spec.categories):
                raise RulebookFormatError(_("文件里没有任何评分项"))
            book = services.own_rulebook(region)
            current = version_in_force(region, local_today()) if is_excel else None
            if is_excel:
                excel.keep_absent_options(spec, current)
            draft = services.import_draft(book, spec,
                                          params=current.params if current else None)
            db.session.commit()
            flash(_("已导入为草稿第 %(n)s 版：%(c)s 个类别，%(i)s 个评分项。请核对后表决通过。",
                    n=draft.number, c=len(draft.categories),
                    i=sum(len(c.items) for c in draft.categories)), "success")
            if is_excel and spec.absent:
                flash(_("工作簿里没有这些列：%(columns)s。同一编号的评分项沿用现行版本的设置。",
                        columns="、".join(spec.absent)), "info")
            return redirect(url_for("rules.version", version_id=draft.id))
        except excel.WorkbookError as exc:
            db.session.rollback()
            errors = exc.errors
        except RulebookFormatError as exc:
            db.session.rollback()
            errors = [(None, None, None, str(exc))]
    return render_template("rules/import.html", region=region, form=form, errors=errors)


def _preview_households(v):
    """Active households in both the version's region and the user's scope."""
    region = v.rulebook.region
    stmt = (select(Household).join(Region, Region.id == Household.village_id)
            .where(Region.path.startswith(region.path), Household.status == "active")
            .order_by(Household.village_id, Household.group_id, Household.house_number))
    return db.session.execute(in_scope(stmt, Household.village_id, scope())).scalars().all()


@bp.route("/rulebook-versions/<int:version_id>/preview")
@login_required
def preview(version_id):
    """Try a deed against a version (a draft before adopting it): the engine's judgement for
    a household of the village, or its refusal. Writes nothing."""
    from app.rules.periodic import split_ratings
    v = _version_or_404(version_id)
    form = PreviewForm(request.args)
    households = _preview_households(v)
    items = [i for c in v.categories for i in c.items]
    form.household.choices = [SelectChoice(h.id, f"{h.house_number} {h.head_name}")
                              for h in households]
    form.item.choices = [SelectChoice(i.id, f"{i.category.name} · {i.name}") for i in items]
    result = refusal = household = chosen = None
    if "item" in request.args and form.validate():
        household = next(h for h in households if h.id == form.household.data)
        chosen = next(i for i in items if i.id == form.item.data)
        deed_date = form.deed_date.data or local_today()
        rule, book = to_rule(chosen), book_rule(v)
        deed = Deed(points=form.points.data or None, quantity=form.quantity.data or 1,
                    problems=form.problems.data, units=form.units.data or None,
                    tier=form.tier.data or None, bonus=form.bonus.data or None,
                    reference=form.reference.data or None, member=form.member.data or None,
                    ratings=split_ratings(form.ratings.data),
                    self_rating=form.self_rating.data or None)
        try:
            result = judge(rule, household_state(household, rule, book, deed_date), deed, book)
        except Refusal as exc:
            refusal = refusal_text(exc)
    elif not request.args:
        form.deed_date.data = local_today()
    tiers = list(dict.fromkeys(t for i in items for t in i.tiers))
    return render_template("rules/preview.html", version=v, form=form, result=result,
                           refusal=refusal, household=household, chosen=chosen, tiers=tiers)
