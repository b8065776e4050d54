"""Writes to rulebooks. Services flush; the caller commits."""
from datetime import date
from decimal import Decimal

from sqlalchemy import select

from app.extensions import db
from app.rules.engine import N_, Refusal
from app.rules.importer import RulebookSpec
from app.rules.models import Category, RuleItem, Rulebook, RulebookVersion

#: Key of ``RulebookVersion.params`` holding the adoption record (not a rule of the engine).
ADOPTION_KEY = "adoption"


def create_rulebook(region, name: str, source: str | None = None,
                    points_per_yuan=None) -> Rulebook:
    """Create an empty rulebook owned by ``region`` (a village or a township template)."""
    book = Rulebook(region=region, name=name, source=source, points_per_yuan=points_per_yuan)
    db.session.add(book)
    db.session.flush()
    return book


def add_draft_version(book: Rulebook, specs: list) -> RulebookVersion:
    """Add a draft version to ``book`` holding the categories of ``specs`` (CategorySpec list).

    Category names already present in the draft are merged; item codes must be unique.
    """
    number = 1 + max((v.number for v in book.versions), default=0)
    version = RulebookVersion(rulebook=book, number=number, status="draft")
    db.session.add(version)
    append_categories(version, specs)
    return version


def append_categories(version: RulebookVersion, specs: list) -> None:
    """Append CategorySpec ``specs`` to a draft ``version``. Raises ValueError if adopted."""
    if version.status != "draft":
        raise ValueError("adopted versions cannot change; create a new draft")
    for spec in specs:
        cap = getattr(spec, "cap", None) or {}
        # not Category(version=...): that back-populates ``version.categories`` already, and
        # the append below would then list the category twice until the session reloads it
        cat = Category(name=spec.name, position=len(version.categories),
                       cap_points=Decimal(cap["points"]) if cap else None,
                       cap_period=cap.get("period"))
        for pos, item in enumerate(spec.items):
            cat.items.append(RuleItem(
                code=item.code, name=item.name, kind=item.kind, points=item.points,
                min_points=item.min_points, max_points=item.max_points,
                once_only=item.once_only, note=item.note, position=pos,
                params=item.params or None, veto=item.veto, needs_review=item.needs_review,
            ))
        version.categories.append(cat)
    db.session.flush()


def adopt_version(version: RulebookVersion, *, adopted_on: date, effective_from: date,
                  decision: str, record: dict | None = None) -> RulebookVersion:
    """Adopt a draft ``version``: from ``effective_from`` (a local date) it judges deeds.

    ``decision`` records the meeting and vote (四议两公开). ``record`` optionally keeps the
    decision's parts (meeting, votes for / against / abstaining, the steps followed) in
    ``params["adoption"]``, which the engine ignores. Raises ValueError when the version is
    not a draft.
    """
    if version.status != "draft":
        raise ValueError("only a draft can be adopted")
    version.status = "adopted"
    version.adopted_on = adopted_on
    version.effective_from = effective_from
    version.decision = decision
    if record:
        version.params = {**(version.params or {}), ADOPTION_KEY: dict(record)}
    db.session.flush()
    return version


def load_spec(region, spec: RulebookSpec, name: str, *, adopted_on: date, effective_from: date,
              decision: str, extra: list = ()) -> RulebookVersion:
    """Create a rulebook for ``region`` from a parsed spec plus ``extra`` categories, adopted."""
    book = create_rulebook(region, name, source="\n".join(spec.sources) or spec.place,
                           points_per_yuan=spec.points_per_yuan)
    version = add_draft_version(book, list(extra) + list(spec.categories))
    version.params = spec.rules or None
    return adopt_version(version, adopted_on=adopted_on, effective_from=effective_from,
                         decision=decision)


def new_draft_from(version: RulebookVersion, into: Rulebook | None = None) -> RulebookVersion:
    """A new draft of ``version``'s rulebook (or of ``into``, e.g. a village's copy of its
    township's template) holding a copy of its categories, items and rulebook-wide rules:
    editing an adopted rulebook never changes the adopted version (entries keep being judged
    by the version in force on their deed date). The adoption record is not copied."""
    book = into or version.rulebook
    params = {k: v for k, v in (version.params or {}).items() if k != ADOPTION_KEY} or None
    with db.session.no_autoflush:
        draft = RulebookVersion(rulebook=book, status="draft", params=params,
                                number=1 + max((v.number for v in book.versions), default=0))
        db.session.add(draft)
        for cat in version.categories:
            copy = Category(name=cat.name, position=cat.position,
                            cap_points=cat.cap_points, cap_period=cat.cap_period)
            copy.items = [RuleItem(
                code=i.code, name=i.name, kind=i.kind, points=i.points,
                min_points=i.min_points, max_points=i.max_points, once_only=i.once_only,
                needs_review=i.needs_review, veto=i.veto, params=i.params, note=i.note,
                position=i.position) for i in cat.items]
            draft.categories.append(copy)
    db.session.flush()
    return draft


class AdoptedVersionError(ValueError):
    """A write to a version that is not a draft (adopted versions never change)."""


def _draft_only(version: RulebookVersion) -> None:
    if version.status != "draft":
        raise AdoptedVersionError("adopted versions cannot change; create a new draft")


def village_rulebook(village) -> Rulebook | None:
    """The rulebook owned by ``village`` (its first one), or None."""
    stmt = select(Rulebook).where(Rulebook.region_id == village.id).order_by(Rulebook.id)
    return db.session.execute(stmt.limit(1)).scalar_one_or_none()


def own_rulebook(village, name: str | None = None) -> Rulebook:
    """The village's own rulebook, created (empty, named after the village) when it has none."""
    return village_rulebook(village) or create_rulebook(
        village, name or f"{village.name}积分管理办法")


def draft_from(village, version: RulebookVersion) -> RulebookVersion:
    """A new draft of ``village``'s own rulebook copied from ``version``: the village's
    version in force, or a template of its township (the village gets a rulebook of its
    own for it when it has none)."""
    if version.rulebook.region_id == village.id:
        return new_draft_from(version)
    book = own_rulebook(village, version.rulebook.name)
    if not book.source:
        book.source = version.rulebook.source
        book.points_per_yuan = version.rulebook.points_per_yuan
    return new_draft_from(version, into=book)


def import_draft(book: Rulebook, spec: RulebookSpec, params: dict | None = None
                 ) -> RulebookVersion:
    """A new draft of ``book`` holding the categories of a parsed ``spec``; its rulebook-wide
    rules are the spec's, or ``params`` when the spec has none (an Excel workbook)."""
    used = _used_codes(book) | {i.code for c in spec.categories for i in c.items if i.code}
    for cat in spec.categories:
        for item in cat.items:
            if not item.code:
                item.code = _fresh_code(used)
                used.add(item.code)
    version = add_draft_version(book, list(spec.categories))
    rules = spec.rules or {k: v for k, v in (params or {}).items() if k != ADOPTION_KEY}
    version.params = rules or None
    if spec.points_per_yuan is not None:
        book.points_per_yuan = spec.points_per_yuan
    db.session.flush()
    return version


def next_item_code(book: Rulebook) -> str:
    """A code no item of any version of ``book`` has used ("U1", "U2", ...): a new item never
    inherits the ledger history (once-only, caps) of an older item."""
    return _fresh_code(_used_codes(book))


def _used_codes(book: Rulebook) -> set:
    return set(db.session.execute(
        select(RuleItem.code).join(Category).join(RulebookVersion)
        .where(RulebookVersion.rulebook_id == book.id)).scalars())


def _fresh_code(used: set) -> str:
    n = 1
    while f"U{n}" in used:
        n += 1
    return f"U{n}"


def _unique_name(version: RulebookVersion, name: str, cat: Category | None = None) -> None:
    """Refuse a category name the draft already has: boards, caps and the roll-ups' totals
    by category know a category by its name, so two would be counted as one."""
    if any(other.name == name and other is not cat for other in version.categories):
        raise Refusal("duplicate_category", N_("本版细则已有名为“%(name)s”的类别"), name=name)


def add_category(version: RulebookVersion, name: str, cap_points=None,
                 cap_period=None) -> Category:
    """Append a category to a draft ``version``. Raises Refusal("duplicate_category")
    when the draft has a category of that name."""
    _draft_only(version)
    _unique_name(version, name)
    position = 1 + max((c.position for c in version.categories), default=-1)
    cat = Category(version=version, name=name, position=position,
                   cap_points=cap_points, cap_period=cap_period if cap_points is not None
                   else None)
    db.session.add(cat)
    db.session.flush()
    return cat


def update_category(cat: Category, *, name: str, cap_points=None, cap_period=None) -> None:
    """Rename a draft's category and set or clear its cap. Raises
    Refusal("duplicate_category") when another category of the draft has that name."""
    _draft_only(cat.version)
    _unique_name(cat.version, name, cat)
    cat.name = name
    cat.cap_points = cap_points
    cat.cap_period = cap_period if cap_points is not None else None
    db.session.flush()


def delete_draft(version: RulebookVersion) -> None:
    """Remove a draft with its categories and items (flushed). A draft never judged an
    entry, so nothing else refers to it. Raises AdoptedVersionError for an adopted
    version (the ledger's history refers to it)."""
    _draft_only(version)
    book = version.rulebook
    db.session.delete(version)
    db.session.flush()
    db.session.expire(book, ["versions"])   # read again without it


def delete_category(cat: Category) -> None:
    """Remove a category (and its items) from a draft."""
    version = cat.version
    _draft_only(version)
    version.categories.remove(cat)
    for pos, other in enumerate(version.categories):
        other.position = pos
    db.session.flush()


ITEM_FIELDS = ("name", "kind", "points", "min_points", "max_points", "once_only",
               "needs_review", "veto", "params", "note")


def add_item(cat: Category, **fields) -> RuleItem:
    """Append an item to a draft's category; ``fields`` are RuleItem columns (ITEM_FIELDS)."""
    _draft_only(cat.version)
    position = 1 + max((i.position for i in cat.items), default=-1)
    item = RuleItem(code=next_item_code(cat.version.rulebook), position=position,
                    **{k: fields.get(k) for k in ITEM_FIELDS if k in fields})
    cat.items.append(item)
    db.session.flush()
    return item


def update_item(item: RuleItem, **fields) -> None:
    """Change a draft's item; ``fields`` are RuleItem columns (ITEM_FIELDS). The code stays,
    so the ledger history of the item (once-only, caps) carries over to the new version."""
    _draft_only(item.category.version)
    for key in ITEM_FIELDS:
        if key in fields:
            setattr(item, key, fields[key])
    db.session.flush()


def delete_item(item: RuleItem) -> None:
    """Remove an item from a draft."""
    cat = item.category
    _draft_only(cat.version)
    cat.items.remove(item)
    for pos, other in enumerate(cat.items):
        other.position = pos
    db.session.flush()


def set_book_rules(version: RulebookVersion, params: dict | None) -> None:
    """Replace a draft's rulebook-wide rules (``RulebookVersion.params``; the numbers as
    exact strings, as ``rules.queries.book_rule`` reads them)."""
    _draft_only(version)
    version.params = params or None
    db.session.flush()
