"""Domain writes of boards: definitions, privacy, the publication flow (draft -> reviewed ->
under_notice -> published), corrections and black-board corrections. They flush, never
commit; each raises Refusal (Chinese message template) when the request cannot be done."""
from datetime import timedelta

from sqlalchemy import select

from app.accounts.models import utcnow
from app.boards import compute
from app.boards.models import (PERIOD_KINDS, BlackCorrection, BoardChange, BoardDefinition,
                               BoardLine, BoardPrivacy, BoardPublication)
from app.extensions import db
from app.public.masking import mask_name
from app.rules import queries as rules_q
from app.rules.engine import N_, Refusal, to_points
from app.scoring.periods import Period, local_today
from app.scoring.models import LedgerEntry
from app.scoring.services import post_entry, reverse_entry, village_settings

DEFINITION_FIELDS = ("name", "period_kind", "group_id", "red_top_n", "red_threshold",
                     "black_items", "black_categories", "black_threshold", "black_bottom_n",
                     "red_item_code", "red_points", "black_item_code", "black_points",
                     "notice_days")


def _points(value, field):
    """Points typed for a threshold or an extra item's points: blank is None; else points
    as everywhere (``rules.engine.to_points``: plain decimals, two places at most, refused
    rather than rounded) from 0 to 100000. Raises Refusal("bad_points") at ``field``."""
    if value is None or not str(value).strip():
        return None
    try:
        number = to_points(str(value))
    except Refusal as exc:
        raise Refusal(exc.code, exc.template, **exc.params, field=field) from None
    if not 0 <= number <= 100000:
        raise Refusal("bad_points", N_("须是 0 到 100000 之间的数"), field=field)
    return number


def item_by_code(village, code: str, on):
    """The RuleItem with ``code`` in the rulebook in force for ``village`` on local date
    ``on``, else None."""
    version = rules_q.version_in_force(village, on)
    for category in (version.categories if version else []):
        for it in category.items:
            if it.code == code:
                return it
    return None


def _rulebook_items(region, on) -> tuple:
    """({lower-case item code: [RuleItem]}, {category name}) of the rulebooks a board
    definition of ``region`` may filter on (see ``rulebook_names``)."""
    regions = [region]
    if region.level == "township":
        from app.regions.queries import children
        regions += [r for r in children(region) if r.level == "village"]
    items, names = {}, set()
    for r in regions:
        version = rules_q.version_in_force(r, on)
        for category in (version.categories if version else []):
            names.add(category.name)
            for it in category.items:
                items.setdefault(it.code.lower(), []).append(it)
    return items, names


def rulebook_names(region, on) -> tuple:
    """(item codes, category names) a board definition of ``region`` may filter on, as sets:
    for a village, those of its rulebook in force on local date ``on``; for a township
    template, those of every rulebook the template can apply to: the township's own (or its
    county's) rulebook in force and each of its villages' rulebook in force."""
    items, names = _rulebook_items(region, on)
    return {it.code for found in items.values() for it in found}, names


def _can_deduct(it) -> bool:
    """Whether rule item ``it`` can give a deduction (a negative fixed value, or a range
    reaching below zero)."""
    return it.is_deduction or (it.min_points is not None and it.min_points < 0)


def _check_filters(region, values: dict) -> None:
    """Normalise and check the black-board filters of ``values`` in place: item codes
    (separated by commas, 、, semicolons or spaces; any letter case) become the rulebook's
    codes; refuse a code or category name not in the rulebooks of ``region`` (see
    ``rulebook_names``) and an item that only awards points (a black board filtered on it
    would always be empty)."""
    items, names = _rulebook_items(region, local_today())
    codes = []
    for code in compute.split_codes(values["black_items"]):
        found = items.get(code.lower())
        if not found:
            raise Refusal("no_black_items", N_("现行细则里没有编号为 %(item)s 的评分项"),
                          item=code, field="black_items")
        if not any(_can_deduct(it) for it in found):
            raise Refusal("award_black_items",
                          N_("%(item)s 是加分项，黑榜只能按扣分项筛选"),
                          item=found[0].code, field="black_items")
        if found[0].code not in codes:
            codes.append(found[0].code)
    values["black_items"] = ", ".join(codes)
    categories = compute.split_codes(values["black_categories"], spaces=False)
    for name in categories:
        if name not in names:
            raise Refusal("no_black_categories", N_("现行细则里没有名为 %(item)s 的类别"),
                          item=name, field="black_categories")
    values["black_categories"] = ", ".join(dict.fromkeys(categories))


def _check_extra_item(it, field: str) -> None:
    """Refuse a red board's extra item that deducts, or a black board's one that awards."""
    if field == "red_item_code" and it.is_deduction:
        raise Refusal("red_item_deducts",
                      N_("%(item)s 是扣分项，上红榜另记的评分项须是加分项"),
                      item=it.code, field=field)
    if field == "black_item_code" and not it.is_deduction:
        raise Refusal("black_item_awards",
                      N_("%(item)s 是加分项，上黑榜另记的评分项须是扣分项"),
                      item=it.code, field=field)


def save_definition(region, values: dict, definition: BoardDefinition | None = None):
    """Create (or update ``definition``) from ``values`` (DEFINITION_FIELDS; strings as typed
    or None). ``region`` is a village, or a township for a template. Returns the flushed
    definition. Raises Refusal when the red or black rule is empty, a number is bad, an item
    code or category name is not in the rulebook or a black filter item only awards
    (``_check_filters``), or the red board's extra item deducts or the black board's awards."""
    values = dict(values)
    if values.get("period_kind") not in PERIOD_KINDS:
        raise Refusal("bad_period", N_("请选择周期"), field="period_kind")
    if not (values.get("name") or "").strip():
        raise Refusal("name_required", N_("请填写榜单名称"), field="name")
    for field in ("red_threshold", "black_threshold", "red_points", "black_points"):
        values[field] = _points(values.get(field), field)
    if not values.get("red_top_n") and values.get("red_threshold") is None:
        raise Refusal("red_rule", N_("红榜请至少填写“前几名”或“分数线”之一"),
                      field="red_top_n")
    for field in ("red_item_code", "black_item_code"):
        code = (values.get(field) or "").strip() or None
        values[field] = code
        if code and region.level == "village":
            it = item_by_code(region, code, local_today())
            if it is None:
                raise Refusal("no_item", N_("现行细则里没有编号为 %(item)s 的评分项"),
                              item=code, field=field)
            _check_extra_item(it, field)
    for field in ("black_items", "black_categories"):
        values[field] = (values.get(field) or "").strip()
    _check_filters(region, values)
    definition = definition or BoardDefinition(region_id=region.id)
    for field in DEFINITION_FIELDS:
        setattr(definition, field, values.get(field))
    definition.name = definition.name.strip()
    db.session.add(definition)
    db.session.flush()
    return definition


def copy_template(template: BoardDefinition, village) -> BoardDefinition:
    """A village's own copy of a township template (a new definition, flushed). Raises
    Refusal when ``template`` is not a template of one of the village's parent regions."""
    if template.region_id not in {r.id for r in village.ancestors()}:
        raise Refusal("not_template", N_("这个模板不属于本村所在的乡镇"))
    copy = BoardDefinition(region_id=village.id, copied_from_id=template.id)
    for field in DEFINITION_FIELDS:
        setattr(copy, field, getattr(template, field))
    copy.group_id = None
    db.session.add(copy)
    db.session.flush()
    return copy


def privacy_of(village_id: int) -> BoardPrivacy:
    """The village's board privacy (defaults, not added: names masked, black board for the
    village only)."""
    return db.session.get(BoardPrivacy, village_id) or BoardPrivacy(
        village_id=village_id, mask_names=True, black_public=False)


def save_privacy(village_id: int, *, mask_names: bool, black_public: bool) -> BoardPrivacy:
    """Save the village's board privacy (flushed)."""
    found = db.session.get(BoardPrivacy, village_id)
    if found is None:
        found = BoardPrivacy(village_id=village_id)
        db.session.add(found)
    found.mask_names, found.black_public = bool(mask_names), bool(black_public)
    db.session.flush()
    return found


def _open_publication(definition_id: int, label: str):
    return db.session.execute(
        select(BoardPublication).where(
            BoardPublication.definition_id == definition_id,
            BoardPublication.period_label == label,
            BoardPublication.status.in_(("draft", "reviewed", "under_notice", "published")))
        .order_by(BoardPublication.id.desc())).scalars().first()


def create_draft(definition: BoardDefinition, period: Period, *, by_user,
                 supersedes: BoardPublication | None = None, note: str | None = None):
    """Draw ``definition``'s board of ``period`` into a draft publication (lines frozen now;
    names masked per the village's privacy). With ``supersedes`` (a published board of the
    same definition and period) the draft is its correction: ``note`` says why and the
    changes versus it are recorded. Returns the flushed BoardPublication. Raises Refusal when
    the period has not started, a board of it is already on its way, or it is published and
    this is not a correction."""
    village = definition.region
    if village.level != "village":
        raise Refusal("template", N_("乡镇模板不能直接出榜，请先复制到村"))
    if period.start > local_today():
        raise Refusal("future_period", N_("这个周期还没有开始"))
    current = _open_publication(definition.id, period.label)
    if supersedes is None and current is not None:
        if current.status == "published":
            raise Refusal("published", N_("%(p)s 的榜单已经发布；要改动请做更正"),
                          p=period.label)
        raise Refusal("in_progress", N_("%(p)s 的榜单已有草稿在办理中"), p=period.label)
    if supersedes is not None:
        if supersedes.status != "published" or current is not supersedes:
            raise Refusal("not_current", N_("只能更正当前已发布的榜单"))
        if not (note or "").strip():
            raise Refusal("reason_required", N_("请写明更正的原因"))
    mask = privacy_of(village.id).mask_names
    days = definition.notice_days
    if days is None:
        days = village_settings(village.id).notice_days
    pub = BoardPublication(
        definition_id=definition.id, village_id=village.id, period_label=period.label,
        period_start=period.start, period_end=period.end, status="draft", mask_names=mask,
        notice_days=days, created_by_id=by_user.id if by_user else None,
        supersedes_id=supersedes.id if supersedes else None,
        version=supersedes.version + 1 if supersedes else 1,
        correction_note=(note or "").strip() or None)
    db.session.add(pub)
    db.session.flush()
    for d in compute.draw(definition, village.id, period):
        db.session.add(BoardLine(
            publication_id=pub.id, board=d.board, rank=d.rank, village_rank=d.village_rank,
            prev_rank=d.prev_rank, household_id=d.household_id, house_number=d.house_number,
            head_name=d.head_name, shown_name=mask_name(d.head_name) if mask else d.head_name,
            points=d.points, deductions=d.deductions, since_label=d.since_label))
    db.session.flush()
    db.session.refresh(pub)
    if supersedes is not None:
        _record_changes(supersedes, pub)
        db.session.refresh(pub)
    return pub


def _record_changes(old: BoardPublication, new: BoardPublication) -> None:
    """Add BoardChange rows: who was added to or removed from each board, and whose rank or
    points changed."""
    for board in ("red", "black", "uncorrected"):
        before = {ln.household_id: ln for ln in old.on(board)}
        after = {ln.household_id: ln for ln in new.on(board)}
        for hid in sorted(before.keys() | after.keys()):
            a, b = before.get(hid), after.get(hid)
            if a and b and (a.rank, a.points, a.deductions) == (b.rank, b.points, b.deductions):
                continue
            change = "added" if a is None else "removed" if b is None else "points"
            db.session.add(BoardChange(
                publication_id=new.id, board=board, change=change, household_id=hid,
                shown_name=(b or a).shown_name, old_rank=a.rank if a else None,
                new_rank=b.rank if b else None, old_points=_measure(a, board),
                new_points=_measure(b, board)))
    db.session.flush()


def _measure(line, board):
    """What a board is drawn by: deductions on the black board, else period points."""
    if line is None:
        return None
    return line.deductions if board == "black" else line.points


NEXT_STEP = {"draft": "reviewed", "reviewed": "under_notice", "under_notice": "published"}


def advance(pub: BoardPublication, *, by_user) -> BoardPublication:
    """Move ``pub`` one step: draft -> reviewed (the village admin checked it) ->
    under_notice (for its notice days from today) -> published (once the notice period is
    over: on or after ``notice_until``). Publishing supersedes the board it corrects and posts
    the definition's board bonus or deduction items. Raises Refusal when there is no next
    step or the notice period is still running."""
    db.session.refresh(pub, with_for_update=True)   # two clicks at once: one step, not two
    today = local_today()
    step = NEXT_STEP.get(pub.status)
    if step is None:
        raise Refusal("no_step", N_("这个榜单已经发布，不能再办理"))
    if step == "reviewed":
        pub.reviewed_by_id = by_user.id if by_user else None
    elif step == "under_notice":
        pub.notice_from = today
        pub.notice_until = today + timedelta(days=pub.notice_days)
    else:
        if pub.notice_until is not None and today < pub.notice_until:
            raise Refusal("notice_running", N_("公示期 %(d)s 期满，次日起才能发布"),
                          d=str(pub.notice_last_day))
        pub.published_on, pub.published_at = today, utcnow()
        pub.published_by_id = by_user.id if by_user else None
        if pub.supersedes is not None:
            pub.supersedes.status = "superseded"
        _post_board_items(pub, by_user, today)
    pub.status = step
    db.session.flush()
    return pub


def _post_board_items(pub: BoardPublication, by_user, today) -> None:
    """Post the definition's red/black board item to each household on that board, through
    ``post_entry`` (the rulebook judges it; review and notice apply as to any entry), and,
    when ``pub`` corrects an earlier board, reverse (``reverse_entry``) the bonus of every
    household no longer on it. A household keeps at most one live bonus per definition,
    period and board: one already holding it gets nothing more (idempotency keys), one
    newly listed gets it once, one listed again after a reversal gets it anew."""
    definition = pub.definition
    for board, code, points in (("red", definition.red_item_code, definition.red_points),
                                ("black", definition.black_item_code,
                                 definition.black_points)):
        board_name = "红榜" if board == "red" else "黑榜"
        listed = {line.household_id: line for line in pub.on(board)}
        held = _board_bonuses(definition.id, pub.period_label, board)
        for hid, entries in held.items():
            if hid in listed:
                continue
            for entry in entries:
                if entry.reversed_by is None and entry.status not in ("cancelled",
                                                                      "declined"):
                    reverse_entry(entry, recorded_by=by_user,
                                  reason=f"更正后不在{board_name}：{definition.name} "
                                         f"{pub.period_label}（第 {pub.version} 版）",
                                  idempotency_key=f"{entry.idempotency_key}:r{pub.version}")
        if not code or not listed:
            continue
        it = item_by_code(pub.village, code, today)
        if it is None:
            raise Refusal("no_item", N_("现行细则里没有编号为 %(item)s 的评分项"), item=code)
        for hid, line in listed.items():
            entries = held.get(hid, [])
            if any(e.reversed_by is None and e.status != "cancelled" for e in entries):
                continue                      # holds it (or a reviewer declined it)
            key = f"board:{definition.id}:{pub.period_label}:{hid}:{board}"
            if entries:
                key += f":v{pub.version}"
            post_entry(household=line.household, item_id=it.id, deed_date=today,
                       recorded_by=by_user, points=points,
                       note=f"上{board_name}：{definition.name} {pub.period_label}",
                       idempotency_key=key)


def _board_bonuses(definition_id: int, label: str, board: str) -> dict:
    """{household id: [bonus LedgerEntry]} posted for ``board`` of the definition's period
    (keys ``board:<definition>:<period>:<household>:<board>[:v<version>]``)."""
    prefix = f"board:{definition_id}:{label}:"
    rows = db.session.execute(
        select(LedgerEntry)
        .where(LedgerEntry.kind == "score",
               LedgerEntry.idempotency_key.startswith(prefix, autoescape=True))
        .order_by(LedgerEntry.id)).scalars().all()
    found = {}
    for entry in rows:
        parts = entry.idempotency_key[len(prefix):].split(":")
        if len(parts) >= 2 and parts[1] == board and parts[0].isdigit():
            found.setdefault(int(parts[0]), []).append(entry)
    return found


def correct(pub: BoardPublication, *, by_user, note: str) -> BoardPublication:
    """A correction draft of published ``pub`` (redrawn from the ledger as it is now); see
    ``create_draft``."""
    from app.boards.periods import parse_period
    period = parse_period(pub.period_label, pub.definition.period_kind)
    return create_draft(pub.definition, period, by_user=by_user, supersedes=pub, note=note)


def record_correction(village, household, *, corrected_on, note: str, by_user):
    """Record that ``household`` (of ``village``) corrected what put it on the black board
    (local date ``corrected_on``, ``note`` required): later boards stop listing it as not
    yet corrected. Returns the flushed BlackCorrection."""
    note = (note or "").strip()
    if not note:
        raise Refusal("note_required", N_("请填写整改情况"))
    if household.village_id != village.id:
        raise Refusal("not_here", N_("这户不是本村的"))
    if corrected_on is None or corrected_on > local_today():
        raise Refusal("bad_date", N_("整改日期不能晚于今天"))
    fix = BlackCorrection(village_id=village.id, household_id=household.id,
                          corrected_on=corrected_on, note=note[:500],
                          recorded_by_id=by_user.id if by_user else None)
    db.session.add(fix)
    db.session.flush()
    return fix
