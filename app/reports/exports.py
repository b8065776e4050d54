"""Excel workbooks of the roll-up and the pilot registry (openpyxl): one sheet per table,
each the same table the page shows beside its chart. Text cells are neutralised against
formula injection (``audit.exports.neutralise``); points stay exact numeric cells."""
import io
from datetime import datetime, timezone
from decimal import Decimal

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from app.audit.exports import neutralise
from app.scoring.periods import to_local

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _sheet(wb, title: str, meta: list, header: list, rows: list):
    ws = wb.create_sheet(title)
    for row in meta:
        ws.append([neutralise(v) for v in row])
    ws.append([])
    ws.append(header)
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([neutralise(v) for v in row])
        for cell in ws[ws.max_row]:
            if isinstance(cell.value, Decimal):   # points, rates, yuan: shown with decimals
                cell.number_format = "0.0" if cell.value.as_tuple().exponent == -1 else "0.00"
    for col, _h in enumerate(header, start=1):
        ws.column_dimensions[ws.cell(row=1, column=col).column_letter].width = 14
    return ws


def _meta(title: str, region, period_label: str | None, as_of=None) -> list:
    made = to_local(datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M")
    rows = [[title], [_("地区"), region.name]]
    if period_label:
        rows.append([_("期间"), period_label])
    if as_of is not None:   # figures of a roll-up snapshot (reports.snapshots)
        rows.append([_("数据截至"), to_local(as_of).strftime("%Y-%m-%d %H:%M")])
    rows.append([_("导出时间"), made])
    return rows


def _save(wb) -> bytes:
    del wb[wb.sheetnames[0]]
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def rollup_header() -> list:
    """Column titles of the roll-up's main table (page and workbook alike)."""
    return [_("单位"), _("户数"), _("参与户数"), _("参与率(%)"), _("加分"), _("扣分"), _("净积分"),
            _("户均积分"), _("积分中位数"), _("异议"), _("异议成立"), _("兑换次数"), _("兑换积分"),
            _("兑换金额(元，不含现金补差)"), _("上红榜户次"), _("上黑榜户次"), _("获荣誉"),
            _("星级户次")]


def rollup_cells(row, name: str) -> list:
    """One roll-up row as cells in the order of ``rollup_header``."""
    return [name, row.households, row.participating, row.rate, row.awarded_total,
            row.deducted_total, row.net, row.average, row.median, row.objections, row.upheld,
            row.redemptions, row.redeemed, row.redeemed_yuan, row.red_listed, row.black_listed,
            row.honours, row.stars]


def row_name(row) -> str:
    """A roll-up row's label: a region's name, or a household's house number and head."""
    key = row.key
    if hasattr(key, "head_name"):
        return f"{key.house_number} {key.head_name}"
    return key.name


def rollup_xlsx(r, as_of=None) -> bytes:
    """The roll-up ``r`` (queries.Rollup) as a workbook: summary, categories, monthly trend
    and, above village level, villages ranked by participation. ``as_of`` (UTC): when its
    figures were computed, stated in each sheet's header."""
    wb = Workbook()
    meta = _meta(_("积分制汇总"), r.region, r.period.label, as_of)
    rows = [rollup_cells(row, row_name(row)) for row in r.rows]
    rows.append(rollup_cells(r.total, _("合计")))
    _sheet(wb, _("汇总"), meta, rollup_header(), rows)
    _sheet(wb, _("类别"), meta, [_("类别"), _("加分"), _("扣分")],
           [[c, r.total.awarded.get(c, Decimal("0.00")), r.total.deducted.get(c, Decimal("0.00"))]
            for c in r.categories])
    _sheet(wb, _("月度趋势"), meta, [_("月份"), _("加分"), _("扣分")],
           [list(t) for t in r.trend])
    if r.ranking:
        _sheet(wb, _("参与率排名"), meta, [_("名次"), _("村"), _("户数"), _("参与户数"),
                                            _("参与率(%)")],
               [[i, row.key.name, row.households, row.participating, row.rate]
                for i, row in enumerate(r.ranking, start=1)])
    return _save(wb)


def pilots_xlsx(region, quotas: list, villages: list) -> bytes:
    """The pilot registry of ``region``: quota against designated per county, and the
    pilot villages."""
    wb = Workbook()
    meta = _meta(_("试点示范村名额与确定情况"), region, None)
    rows = [[q.county.name, q.quota, q.designated, q.gap] for q in quotas]
    if quotas:
        rows.append([_("合计"), sum(q.quota or 0 for q in quotas),
                     sum(q.designated for q in quotas),
                     sum(q.quota or 0 for q in quotas) - sum(q.designated for q in quotas)])
    _sheet(wb, _("名额与确定"), meta, [_("县（区）"), _("名额"), _("已确定"), _("差额")], rows)
    _sheet(wb, _("试点示范村"), meta, [_("代码"), _("村"), _("乡镇（街道）")],
           [[v.code, v.name, v.parent.name if v.parent else ""] for v in villages])
    return _save(wb)


def yearly_report_xlsx(report: dict) -> bytes:
    """The yearly evaluation report as a workbook, one sheet per table of the printed
    report (``services.yearly_report``)."""
    from app.reports.models import CONTENT_AREAS
    wb = Workbook()
    meta = _meta(_("%(y)s 年度乡村治理试点示范评估情况", y=report["year"]), report["region"], None)
    _sheet(wb, _("评估进度"), meta, [_("县（区）"), _("试点示范村"), _("已自评"), _("未提交"),
                                    _("复核通过"), _("退回")],
           [[r["county"].name, r["pilots"], r["assessed"], r["missing"], r["accepted"],
             r["returned"]] for r in report["status"]])
    rows = []
    for p in report["pilots"]:
        a, rv = p["assessment"], p["review"]
        rows.append([p["village"].name, p["village"].parent.name if p["village"].parent else "",
                     "、".join(str(CONTENT_AREAS[c]) for c in p["pilot"].area_codes),
                     p["pilot"].plan_filed_on, a.version if a else None,
                     a.self_score if a else None,
                     (_("通过") if rv.decision == "accepted" else _("退回乡镇")) if rv else None,
                     rv.score if rv else None, rv.comments if rv else None])
    _sheet(wb, _("试点示范村"), meta, [_("村"), _("乡镇（街道）"), _("试点示范内容"), _("方案备案日期"),
                                      _("自评版本"), _("自评分"), _("县级复核"), _("复核得分"),
                                      _("复核意见或退回理由")], rows)
    r = report["rollup"]
    body = [rollup_cells(row, row_name(row)) for row in r.rows]
    body.append(rollup_cells(r.total, _("合计")))
    _sheet(wb, _("积分制汇总"), meta, rollup_header(), body)
    _sheet(wb, _("抽查结果"), meta, [_("编号"), _("村"), _("记录"), _("结论"), _("抽查情况"),
                                    _("更正第几条"), _("更正原因")],
           [[f.id, f.village.name, f.entry_id, _("属实") if f.verdict == "ok" else _("有问题"),
             f.text, f.supersedes_id, f.correction_reason] for f in report["findings"]])
    return _save(wb)
