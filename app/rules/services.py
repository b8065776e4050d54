"""Writes to rulebooks. Services flush; the caller commits."""
from datetime import date
from decimal import Decimal

from app.extensions import db
from app.rules.importer import RulebookSpec
from app.rules.models import Category, RuleItem, Rulebook, RulebookVersion


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
        cat = Category(version=version, name=spec.name, position=len(version.categories),
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
                  decision: str) -> RulebookVersion:
    """Adopt a draft ``version``: from ``effective_from`` (a local date) it judges deeds.

    ``decision`` records the meeting and vote (四议两公开). Raises ValueError when the
    version is not a draft.
    """
    if version.status != "draft":
        raise ValueError("only a draft can be adopted")
    version.status = "adopted"
    version.adopted_on = adopted_on
    version.effective_from = effective_from
    version.decision = decision
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


def new_draft_from(version: RulebookVersion) -> RulebookVersion:
    """A new draft of ``version``'s rulebook holding a copy of its categories, items and
    rulebook-wide rules: editing an adopted rulebook never changes the adopted version
    (entries keep being judged by the version in force on their deed date)."""
    book = version.rulebook
    with db.session.no_autoflush:
        draft = RulebookVersion(rulebook=book, status="draft", params=version.params,
                                number=1 + max(v.number for v in book.versions))
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
