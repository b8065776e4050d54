"""Validation of the rulebook-wide rules of rows 4, 12, 14, 18 and 19 of RULE-FEATURES.md
(the ``rules:`` block of docs/rulebook-format.md) and of the item options of rows 14 and 23.

Used by the YAML importer; every message is Chinese and names the key at fault.
"""
import re
import unicodedata
from decimal import Decimal

from flask_babel import gettext as _

from app.rules.engine import MAX_CHECKS, PERIODS, Refusal, to_points
from app.rules.periodic import CADENCE_PERIODS, CADENCES


class RulesError(ValueError):
    """A rulebook-wide rule or item option is wrong; the message says which (Chinese)."""


#: The longest name of one check of an inspection scorecard (a column title of the grid).
CHECK_NAME_LENGTH = 20
#: What separates checks written in one cell or string: 、，,;；/ and any white space.
CHECK_SEPARATORS = re.compile(r"[、，,;；/／\s]+")


def check_names(raw, where: str = "") -> list:
    """The named checks of an inspection scorecard (its ``checks`` param, the tablet grid's
    column titles, RULE-FEATURES row 8) from a list of names or one text with names
    separated by CHECK_SEPARATORS: a list of 0..MAX_CHECKS distinct names of at most
    CHECK_NAME_LENGTH characters, none holding a separator (so that the workbook's one cell
    reads back the same names). Raises RulesError (Chinese, prefixed by ``where``)."""
    def refuse(message):
        raise RulesError(f"{where}：{message}" if where else message)
    if isinstance(raw, str):
        names = [n for n in map(_visible, CHECK_SEPARATORS.split(raw)) if n]
    elif isinstance(raw, list):
        names = []
        for value in raw:
            if isinstance(value, bool) or not isinstance(value, (str, int)):
                refuse(_("检查项目里的 %(value)s 不是文字", value=value))
            name = _visible(str(value)).strip()
            if CHECK_SEPARATORS.search(name):
                refuse(_("检查项目“%(name)s”里不能有顿号、逗号、分号、斜杠或空格"
                         "（它们用来分隔各项）", name=name))
            if name:
                names.append(name)
    else:
        refuse(_("检查项目须是一列文字，如 [院落整洁, 厕所干净]"))
    long = [n for n in names if len(n) > CHECK_NAME_LENGTH]
    twice = sorted({n for n in names if names.count(n) > 1}, key=names.index)
    if len(names) > MAX_CHECKS:
        refuse(_("检查项目最多 %(n)s 项，这里有 %(count)s 项", n=MAX_CHECKS, count=len(names)))
    if long:
        refuse(_("检查项目“%(name)s”太长，每项最多 %(n)s 个字", name=long[0],
                 n=CHECK_NAME_LENGTH))
    if twice:
        refuse(_("检查项目“%(name)s”重复", name=twice[0]))
    return names


def _visible(text: str) -> str:
    """``text`` without invisible format characters (zero-width space, soft hyphen...): two
    checks that look the same are the same."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def _num(value, where, positive=False) -> str:
    try:
        d = to_points(value)
    except Refusal as exc:
        raise RulesError(f"{where}：{exc.message}") from None
    if positive and d <= 0:
        raise RulesError(f"{where}：必须大于 0")
    return format(d, "f")


def _period(value, where, allowed=PERIODS) -> str:
    if value not in allowed:
        raise RulesError(f"{where}：周期只能是 {'、'.join(allowed)}")
    return value


def check_rules(rules: dict, category_names: list) -> dict:
    """``rules`` with the keys scale, components, per_capita, exhaustion, cadences, expiry,
    privileges and cash_top_up (row 25, from ``redemption:``; kept only when true) checked
    and their numbers as exact strings. Raises RulesError."""
    out = dict(rules)
    if "components" in rules:
        comps = []
        for i, c in enumerate(rules["components"] or [], start=1):
            where = f"rules.components 第 {i} 项"
            if not isinstance(c, dict) or c.get("category") not in category_names:
                raise RulesError(f"{where}：category 须是细则中的类别名称")
            comps.append({"category": c["category"], "max": _num(c.get("max"), where, True),
                          "period": _period(c.get("period", "year"), where),
                          "floor": bool(c.get("floor"))})
        out["components"] = comps
    if "scale" in rules:
        out["scale"] = _num(rules["scale"], "rules.scale", True)
        total = sum((Decimal(c["max"]) for c in out.get("components") or ()), Decimal(0))
        if total != Decimal(out["scale"]):
            raise RulesError(f"rules.scale：各组成部分满分之和为 {format(total, 'f')}，"
                             f"与总分 {out['scale']} 不符")
    if "per_capita" in rules:
        out["per_capita"] = [{"min": _num(b.get("min"), "rules.per_capita"),
                              "label": str(b.get("label") or "").strip()}
                             for b in rules["per_capita"] or []]
        if any(not b["label"] for b in out["per_capita"]):
            raise RulesError("rules.per_capita：每一级都要写 label")
    if "exhaustion" in rules and rules["exhaustion"] not in ("leave",):
        raise RulesError("rules.exhaustion：只能是 leave（基础分用完即退出积分制）")
    if "cadences" in rules:
        cad = dict(rules["cadences"] or {})
        days = cad.pop("redemption_open_days", None)
        for key, value in cad.items():
            if key not in CADENCES:
                raise RulesError(f"rules.cadences：{key} 不是 scoring、notice、redemption 或 "
                                 "honours")
            _period(value, f"rules.cadences.{key}", CADENCE_PERIODS)
        if days is not None:
            if not str(days).isdigit() or not 1 <= int(days) <= 366:
                raise RulesError("rules.cadences.redemption_open_days：须是 1 到 366 的整数")
            cad["redemption_open_days"] = int(days)
        out["cadences"] = cad
    if "expiry" in rules:
        exp = rules["expiry"] or {}
        carry = exp.get("carry_over", "none")
        if str(carry) not in ("all", "none"):
            carry = _num(carry, "rules.expiry.carry_over")
        out["expiry"] = {"every": _period(exp.get("every", "year"), "rules.expiry.every"),
                         "carry_over": str(carry)}
    if "cash_top_up" in rules:  # row 25: stored only when true (false is the default)
        if not isinstance(rules["cash_top_up"], bool):
            raise RulesError("redemption.cash_top_up：只能是 true（允许现金补差）或 false")
        if not rules["cash_top_up"]:
            out.pop("cash_top_up")
    if "privileges" in rules:  # row 26
        from app.rules.uses import check_privileges
        out["privileges"] = check_privileges(rules)
    return out


def item_options(item: dict, kind: str, where: str) -> dict:
    """Item params of rows 14 and 23: ``zeroes: true`` (a deduction that zeroes the score)
    and ``assessment: {self_weight, min_raters}`` (range items only). Raises RulesError."""
    params = {}
    if item.get("zeroes"):
        params["zeroes"] = True
    spec = item.get("assessment")
    if spec is not None:
        if kind != "range" or not isinstance(spec, dict):
            raise RulesError(f"{where}：互评自评项须是范围分，写成 assessment: "
                             "{self_weight: 0.3, min_raters: 3}")
        try:
            weight = to_points(spec.get("self_weight", 0))
        except Refusal:
            weight = Decimal(-1)
        if not 0 <= weight <= 1:
            raise RulesError(f"{where}：self_weight 须在 0 到 1 之间")
        raters = spec.get("min_raters", 1)
        if not isinstance(raters, int) or not 1 <= raters <= 100:
            raise RulesError(f"{where}：min_raters 须是 1 到 100 的整数")
        params["assessment"] = {"self_weight": format(weight, "f"), "min_raters": raters}
    return params
