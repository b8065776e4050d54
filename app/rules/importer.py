"""Load a rulebook written in the shared structured format (data/rulebooks/*.yaml).

Format, as in the public rulebooks: ``categories: [{name, items: [{name, points, per,
fail_points?}]}]`` where ``points`` is a number or a range ``"5..10"``, ``per`` is
``occurrence``, ``inspection`` or ``once``, and ``fail_points`` turns one check into a
pass/fail pair. Numbers are read as exact decimals (YAML floats never become floats here).
"""
from dataclasses import dataclass, field
from decimal import Decimal

import yaml

from app.rules.engine import Refusal, to_points


class _DecimalLoader(yaml.SafeLoader):
    """A SafeLoader that reads YAML floats as Decimal, so 0.5 stays exactly 0.5."""


_DecimalLoader.add_constructor(
    "tag:yaml.org,2002:float", lambda loader, node: Decimal(loader.construct_scalar(node))
)


class RulebookFormatError(ValueError):
    """The file is not a rulebook in the shared format; the message says where (Chinese)."""


@dataclass
class ItemSpec:
    code: str
    name: str
    kind: str
    points: Decimal | None = None
    min_points: Decimal | None = None
    max_points: Decimal | None = None
    once_only: bool = False
    note: str | None = None


@dataclass
class CategorySpec:
    name: str
    items: list = field(default_factory=list)


@dataclass
class RulebookSpec:
    """A parsed rulebook: ``id``, ``place``, ``sources``, ``categories`` (CategorySpec list)."""

    id: str
    place: str
    sources: list
    categories: list
    points_per_yuan: Decimal | None = None


def _parse_points(raw, where: str):
    """Return (kind, points, min, max) for a points cell: a number or "a..b"."""
    try:
        if isinstance(raw, str) and ".." in raw:
            low, high = (to_points(part) for part in raw.split("..", 1))
            if low > high:
                raise RulebookFormatError(f"{where}：范围下限大于上限")
            return "range", None, low, high
        return "fixed", to_points(raw), None, None
    except Refusal as exc:
        raise RulebookFormatError(f"{where}：{exc.message}") from None


def parse_rulebook(text: str, code_prefix: str = "") -> RulebookSpec:
    """Parse YAML ``text`` into a RulebookSpec. Items get codes ``<prefix>C<cat>-<item>``.

    Raises RulebookFormatError naming the category and item at fault.
    """
    try:
        data = yaml.load(text, Loader=_DecimalLoader)
    except yaml.YAMLError as exc:
        raise RulebookFormatError(f"不是有效的 YAML：{exc}") from None
    if not isinstance(data, dict):
        raise RulebookFormatError("文件内容不是积分细则")
    categories = []
    for ci, cat in enumerate(data.get("categories") or [], start=1):
        if not isinstance(cat, dict) or not cat.get("name"):
            raise RulebookFormatError(f"第 {ci} 个类别缺少名称")
        spec = CategorySpec(name=str(cat["name"]))
        n = 0
        for ii, item in enumerate(cat.get("items") or [], start=1):
            where = f"类别“{spec.name}”第 {ii} 项"
            if not isinstance(item, dict) or not item.get("name") or "points" not in item:
                raise RulebookFormatError(f"{where}：缺少名称或分值")
            kind, pts, low, high = _parse_points(item["points"], where)
            once = item.get("per") == "once"
            name = str(item["name"])
            if "fail_points" in item:
                _, fail, _, _ = _parse_points(item["fail_points"], where)
                for suffix, value in (("（合格）", pts), ("（不合格）", fail)):
                    n += 1
                    spec.items.append(ItemSpec(code=f"{code_prefix}C{ci}-{n}", name=name + suffix,
                                               kind="fixed", points=value))
                continue
            n += 1
            spec.items.append(ItemSpec(code=f"{code_prefix}C{ci}-{n}", name=name, kind=kind,
                                       points=pts, min_points=low, max_points=high,
                                       once_only=once, note=item.get("note")))
        categories.append(spec)
    redemption = data.get("redemption") or {}
    ppy = redemption.get("points_per_yuan") if isinstance(redemption, dict) else None
    return RulebookSpec(id=str(data.get("id", "")), place=str(data.get("place", "")),
                        sources=list(data.get("sources") or []), categories=categories,
                        points_per_yuan=to_points(ppy) if ppy is not None else None)
