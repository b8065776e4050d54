"""Labels of ledger statuses and entry kinds for the audit pages and exports."""
from flask_babel import lazy_gettext as _l

STATUS_LABELS = {
    "awaiting_review": _l("待审核"),
    "under_notice": _l("公示中"),
    "held": _l("异议暂停"),
    "confirmed": _l("已生效"),
    "declined": _l("审核未通过"),
    "cancelled": _l("已作废"),
}
KIND_LABELS = {"score": _l("记分"), "reversal": _l("冲正"), "spend": _l("兑换")}
DIRECTION_LABELS = {"award": _l("加分"), "deduction": _l("扣分"), "spend": _l("兑换")}
OBJECTION_OUTCOMES = {"entry_upheld": _l("维持原记录"), "adjusted": _l("调整分值"),
                      "reversed": _l("撤销记录")}


def label(table: dict, key) -> str:
    """``table[key]`` as text in the current locale, else ``key`` itself."""
    return str(table[key]) if key in table else (key or "")
