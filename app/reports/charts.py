"""Chart specs for the static ECharts loader (static/js/charts.js): plain dicts put in a
``data-chart`` attribute, never inline script. Values are decimal strings; the page's table
beside each chart carries the same figures exactly."""
from flask_babel import gettext as _


def _num(value) -> str:
    return "0" if value is None else format(value, "f")


def trend_chart(r) -> dict:
    """Points awarded and deducted by month (a line chart)."""
    return {"kind": "line", "labels": [m for m, _a, _d in r.trend],
            "series": [{"name": _("加分"), "values": [_num(a) for _m, a, _d in r.trend]},
                       {"name": _("扣分"), "values": [_num(d) for _m, _a, d in r.trend]}]}


def category_chart(r) -> dict:
    """Points awarded and deducted by category (a bar chart)."""
    cats = r.categories
    return {"kind": "bar", "labels": cats,
            "series": [{"name": _("加分"), "values": [_num(r.total.awarded.get(c)) for c in cats]},
                       {"name": _("扣分"),
                        "values": [_num(r.total.deducted.get(c)) for c in cats]}]}


def ranking_chart(r, limit: int = 30) -> dict:
    """Villages ranked by participation rate, best first (horizontal bars, top ``limit``)."""
    rows = r.ranking[:limit]
    return {"kind": "hbar", "labels": [row.key.name for row in rows], "unit": "%",
            "series": [{"name": _("参与率(%)"), "values": [_num(row.rate) for row in rows]}]}


def quota_chart(quotas: list) -> dict:
    """Pilot quota against designated villages per county (a bar chart)."""
    return {"kind": "bar", "labels": [q.county.name for q in quotas],
            "series": [{"name": _("名额"), "values": [str(q.quota or 0) for q in quotas]},
                       {"name": _("已确定"), "values": [str(q.designated) for q in quotas]}]}
