"""A rulebook version as YAML in the project's format (docs/rulebook-format.md).

``parse_rulebook(export_yaml(version))`` gives back the same categories and items (codes
included), so a village can export, edit by hand and import a new draft. Numbers are written
from their exact decimal text; no float is ever made.
"""
from decimal import Decimal

import yaml

from app.rules.services import ADOPTION_KEY


class _Dumper(yaml.SafeDumper):
    """A SafeDumper that writes Decimal as a plain YAML number from its exact text."""


def _decimal(dumper, value: Decimal):
    text = format(value.normalize(), "f") if value != 0 else "0"
    tag = "tag:yaml.org,2002:int" if "." not in text else "tag:yaml.org,2002:float"
    return dumper.represent_scalar(tag, text)


_Dumper.add_representer(Decimal, _decimal)


def _num(value) -> Decimal:
    """A stored number (Decimal or exact string) as a Decimal."""
    return Decimal(str(value))


def _range(low, high) -> str:
    return f"{format(_num(low).normalize(), 'f')}..{format(_num(high).normalize(), 'f')}"


def _cap(spec) -> dict:
    return {"points": _num(spec["points"]), "period": spec.get("period", "year")}


def item_dict(item) -> dict:
    """One RuleItem in the file's notation (the keys the importer reads)."""
    p = item.params or {}
    out = {"code": item.code, "name": item.name}
    if item.kind == "fixed":
        out["points"] = _num(item.points)
    elif item.kind in ("range", "analogy"):
        if item.kind == "analogy":
            out["kind"] = "analogy"
        out["points"] = _range(item.min_points, item.max_points)
    elif item.kind == "scorecard":
        out.update(kind="scorecard", max=_num(item.max_points),
                   per_problem=_num(p["per_problem"]))
        if p.get("checks"):  # the inspection grid's columns (issue 8)
            out["checks"] = list(p["checks"])
    elif item.kind == "rate":
        out.update(kind="rate", units_per_point=_num(p["units_per_point"]),
                   rounding=p.get("rounding", "floor"))
        if p.get("step") not in (None, ""):
            out["step"] = _num(p["step"])
    elif item.kind == "tiered":
        out.update(kind="tiered", tiers={str(k): _num(v) for k, v in p["tiers"].items()})
    if item.once_only:
        out["per"] = "once"
    if item.needs_review:
        out["review"] = True
    if p.get("bonus_max") not in (None, ""):
        out["bonus_max"] = _num(p["bonus_max"])
    if p.get("cap"):
        out["cap"] = _cap(p["cap"])
    if p.get("per_person"):
        out["per_person"] = True
    if item.veto:
        out["veto"] = True
    if p.get("zeroes"):
        out["zeroes"] = True
    if p.get("assessment"):
        a = p["assessment"]
        out["assessment"] = {"self_weight": _num(a.get("self_weight", "0")),
                             "min_raters": int(a.get("min_raters", 1))}
    if p.get("channels"):  # row 22
        out["channels"] = list(p["channels"])
    if p.get("blocks_redemption_months"):  # row 26
        out["blocks_redemption_months"] = int(p["blocks_redemption_months"])
    if item.note:
        out["note"] = item.note
    return out


def _rules(params: dict) -> dict:
    """The rulebook-wide rules of a version (without its adoption record), numbers exact."""
    def conv(value):
        if isinstance(value, dict):
            return {k: conv(v) for k, v in value.items()}
        if isinstance(value, list):
            return [conv(v) for v in value]
        if isinstance(value, str):
            try:
                d = Decimal(value)
            except ArithmeticError:
                return value
            return d if d.is_finite() and value.strip() == value else value
        return value
    rules = {k: v for k, v in (params or {}).items() if k != ADOPTION_KEY}
    out = conv(rules)
    # labels and flags are text even when they look like numbers
    for key, field in (("star_bands", "label"), ("thresholds", "flag"),
                       ("per_capita", "label"), ("components", "category"),
                       ("privileges", "label")):
        for part, raw in zip(out.get(key) or [], rules.get(key) or [], strict=True):
            part[field] = str(raw[field])
    return out


def version_dict(version) -> dict:
    """A RulebookVersion as the file's mapping: id, place, sources, redemption, rules,
    categories."""
    book = version.rulebook
    data = {"id": f"{book.region.code}-v{version.number}", "place": book.region.name,
            "name": book.name}
    if book.source:
        data["sources"] = [line for line in book.source.splitlines() if line.strip()]
    if book.points_per_yuan is not None:
        data["redemption"] = {"points_per_yuan": _num(book.points_per_yuan)}
    rules = _rules(version.params)
    if rules.pop("cash_top_up", None) is True:  # row 25: a redemption key of the file
        data.setdefault("redemption", {})["cash_top_up"] = True
    if rules:
        data["rules"] = rules
    cats = []
    for cat in version.categories:
        c = {"name": cat.name}
        if cat.cap_points is not None:
            c["cap"] = {"points": _num(cat.cap_points), "period": cat.cap_period or "year"}
        c["items"] = [item_dict(i) for i in cat.items]
        cats.append(c)
    data["categories"] = cats
    return data


def export_yaml(version) -> str:
    """The YAML text of ``version`` (UTF-8, Chinese kept readable)."""
    header = (f"# {version.rulebook.name} 第 {version.number} 版"
              f"（{'已通过' if version.status == 'adopted' else '草稿'}）\n"
              "# 照着下面的写法修改后，可在“积分细则”页面导入为新草稿（格式说明见项目文档"
              " docs/rulebook-format.md）。\n")
    return header + yaml.dump(version_dict(version), Dumper=_Dumper, allow_unicode=True,
                              sort_keys=False, default_flow_style=False, width=100)
