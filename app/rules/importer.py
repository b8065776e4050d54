"""Load a rulebook written in the shared structured format (data/rulebooks/*.yaml).

Format, as in the public rulebooks: ``categories: [{name, items: [{name, points, per,
fail_points?}]}]`` where ``points`` is a number or a range ``"5..10"``, ``per`` is
``occurrence``, ``inspection`` or ``once``, and ``fail_points`` turns one check into a
pass/fail pair. Numbers are read as exact decimals (YAML floats never become floats here).
"""
import re
from dataclasses import dataclass, field
from decimal import Decimal

import yaml

from app.rules.engine import PERIODS, ROUNDINGS, Refusal, to_points
from app.rules.rules_check import RulesError, check_names, check_rules, item_options


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
    params: dict = field(default_factory=dict)
    veto: bool = False
    needs_review: bool = False


@dataclass
class CategorySpec:
    name: str
    items: list = field(default_factory=list)
    cap: dict | None = None


@dataclass
class RulebookSpec:
    """A parsed rulebook: ``id``, ``place``, ``sources``, ``categories`` (CategorySpec list).
    ``absent`` names the optional columns a workbook did not have (headers, Chinese): their
    item options were not read, so they are kept from the version in force
    (``excel.keep_absent_options``)."""

    id: str
    place: str
    sources: list
    categories: list
    points_per_yuan: Decimal | None = None
    rules: dict = field(default_factory=dict)
    absent: list = field(default_factory=list)


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
    categories, codes = [], set()
    for ci, cat in enumerate(data.get("categories") or [], start=1):
        if not isinstance(cat, dict) or not cat.get("name"):
            raise RulebookFormatError(f"第 {ci} 个类别缺少名称")
        spec = CategorySpec(name=str(cat["name"]))
        n = 0
        for ii, item in enumerate(cat.get("items") or [], start=1):
            where = f"类别“{spec.name}”第 {ii} 项"
            if not isinstance(item, dict) or not item.get("name"):
                raise RulebookFormatError(f"{where}：缺少名称")
            given = _given_code(item, where, codes)
            if item.get("kind") in ("scorecard", "rate", "tiered"):
                n += 1
                spec.items.append(_special_item(item, given or f"{code_prefix}C{ci}-{n}",
                                                where))
                continue
            if "points" not in item:
                raise RulebookFormatError(f"{where}：缺少分值")
            kind, pts, low, high = _parse_points(item["points"], where)
            if item.get("kind") == "analogy":
                if kind != "range":
                    raise RulebookFormatError(f"{where}：参照评分项的分值须是范围，如 1..10")
                kind = "analogy"
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
            common = _common(item, where)
            try:
                common["params"].update(item_options(item, kind, where))
            except (RulesError, Refusal) as exc:
                raise RulebookFormatError(getattr(exc, "message", str(exc))) from None
            spec.items.append(ItemSpec(code=given or f"{code_prefix}C{ci}-{n}", name=name,
                                       kind=kind,
                                       points=pts, min_points=low, max_points=high,
                                       once_only=once, note=item.get("note"), **common))
        if cat.get("cap"):
            spec.cap = _cap_spec(cat["cap"], f"类别“{spec.name}”")
        categories.append(spec)
    generated = [i.code for c in categories for i in c.items if i.code not in codes]
    clash = codes.intersection(generated)
    if clash:
        raise RulebookFormatError(f"评分项编号 {sorted(clash)[0]} 重复，请给每项写不同的 code")
    redemption = data.get("redemption") or {}
    ppy = redemption.get("points_per_yuan") if isinstance(redemption, dict) else None
    try:
        rules = _book_rules(data)
        if isinstance(redemption, dict) and "cash_top_up" in redemption:  # row 25
            rules["cash_top_up"] = redemption["cash_top_up"]
        rules = check_rules(rules, [c.name for c in categories])
    except RulesError as exc:
        raise RulebookFormatError(str(exc)) from None
    return RulebookSpec(id=str(data.get("id", "")), place=str(data.get("place", "")),
                        sources=list(data.get("sources") or []), categories=categories,
                        points_per_yuan=to_points(ppy) if ppy is not None else None,
                        rules=rules)


def _given_code(item, where, codes) -> str | None:
    """The item's own ``code`` (kept across versions, so the ledger history of a once-only
    or capped item carries over), or None; a code given twice is an error."""
    code = item.get("code")
    if code in (None, ""):
        return None
    code = str(code).strip()
    if len(code) > 32 or code in codes:
        raise RulebookFormatError(f"{where}：编号 {code} 重复或超过 32 个字符")
    codes.add(code)
    return code


def _num(value, where) -> str:
    """A number of the file as an exact decimal string (for JSON params)."""
    try:
        return format(to_points(value), "f")
    except Refusal as exc:
        raise RulebookFormatError(f"{where}：{exc.message}") from None


def _cap_spec(raw, where) -> dict:
    if not isinstance(raw, dict) or "points" not in raw:
        raise RulebookFormatError(f"{where}：上限须写成 {{points: 分数, period: year}}")
    period = raw.get("period", "year")
    if period not in PERIODS:
        raise RulebookFormatError(f"{where}：上限周期只能是 month、quarter 或 year")
    return {"points": _num(raw["points"], where), "period": period}


def _common(item, where) -> dict:
    """Options any item may carry: bonus_max, cap, per_person, veto, review."""
    params = {}
    if item.get("checks") not in (None, "", []) and item.get("kind") != "scorecard":
        raise RulebookFormatError(f"{where}：只有检查评分卡（kind: scorecard）可以写 checks")
    if "bonus_max" in item:
        params["bonus_max"] = _num(item["bonus_max"], where)
    if "cap" in item:
        params["cap"] = _cap_spec(item["cap"], where)
    if item.get("per_person"):
        params["per_person"] = True
    from app.rules.uses import item_use_options  # rows 22 and 26: channels, sanctions
    try:
        params.update(item_use_options(item, where))
    except RulesError as exc:
        raise RulebookFormatError(str(exc)) from None
    return {"params": params, "veto": bool(item.get("veto")),
            "needs_review": bool(item.get("review"))}


def _special_item(item, code, where) -> ItemSpec:
    """A scorecard, rate or tiered item of the project format."""
    kind, common = item["kind"], _common(item, where)
    params = common.pop("params")
    max_points = None
    if kind == "scorecard":
        if "max" not in item or "per_problem" not in item:
            raise RulebookFormatError(f"{where}：检查评分卡须写明 max 和 per_problem")
        max_points = to_points(_num(item["max"], where))
        params["per_problem"] = _num(item["per_problem"], where)
        if item.get("checks") not in (None, "", []):  # the inspection grid's columns
            try:
                params["checks"] = check_names(item["checks"], where)
            except RulesError as exc:
                raise RulebookFormatError(str(exc)) from None
    elif kind == "rate":
        if "units_per_point" not in item:
            raise RulebookFormatError(f"{where}：折算项须写明 units_per_point")
        params["units_per_point"] = _num(item["units_per_point"], where)
        params["rounding"] = item.get("rounding", "floor")
        if params["rounding"] not in ROUNDINGS:
            raise RulebookFormatError(f"{where}：取整方式只能是 floor、half_up 或 ceiling")
        if "step" in item:
            params["step"] = _num(item["step"], where)
    else:
        tiers = item.get("tiers")
        if not isinstance(tiers, dict) or not tiers:
            raise RulebookFormatError(f"{where}：分级项须写明 tiers，如 {{国家: 50, 省: 30}}")
        params["tiers"] = {str(k): _num(v, where) for k, v in tiers.items()}
    return ItemSpec(code=code, name=str(item["name"]), kind=kind, max_points=max_points,
                    once_only=item.get("per") == "once", note=item.get("note"), params=params,
                    **common)


_THRESHOLD = re.compile(r"^\s*balance\s*<\s*(\d+(?:\.\d+)?)\s*$")


def _book_rules(data) -> dict:
    """Rulebook-wide rules (RulebookVersion.params) from the project's ``rules:`` block, or
    from the shared format's keys: base_score, caps.per_household_per_year, thresholds
    ("balance < N": suspended), eligibility (any text: only enrolled households earn)."""
    rules = dict(data.get("rules") or {})
    base = data.get("base_score")
    if base and "base" not in rules:
        rules["base"] = {"points": _num(base["points"], "base_score"),
                         "per": base.get("per", "once"),
                         "spendable": bool(base.get("spendable", True))}
    caps = data.get("caps") or {}
    if "per_household_per_year" in caps and "household_cap" not in rules:
        rules["household_cap"] = {"points": _num(caps["per_household_per_year"], "caps"),
                                  "period": "year"}
    if data.get("eligibility") and "eligibility" not in rules:
        rules["eligibility"] = "enrolled"
    if data.get("thresholds") and "thresholds" not in rules:
        found = []
        for t in data["thresholds"]:
            m = _THRESHOLD.match(str(t.get("when", "")))
            if m:
                found.append({"below": m.group(1), "flag": "suspended"})
        rules["thresholds"] = found
    if rules.get("household_cap"):
        rules["household_cap"] = _cap_spec(rules["household_cap"], "rules.household_cap")
    return _json_safe(rules)


def _json_safe(value):
    """Numbers as exact decimal strings, recursively, so the rules can be stored as JSON."""
    if isinstance(value, dict):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (Decimal, int)) and not isinstance(value, bool):
        return format(Decimal(value), "f")
    return value
