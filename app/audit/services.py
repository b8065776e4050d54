"""Writes of the audit package: ``log_action`` records an administrative action. It flushes,
never commits: the caller's request commits it together with the action it describes, so an
action that is rolled back leaves no log row, and a logged action cannot be lost.
"""
import dataclasses
import enum
from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l

from app.audit.models import AuditLog
from app.extensions import db

#: Labels of the known action codes (others are shown as their code). Add a code here when
#: you log a new kind of action.
ACTION_LABELS = {
    "roster.import": _l("导入花名册"),
    "household.archive": _l("农户归档"),
    "household.token_reissue": _l("重新生成门牌二维码"),
    "user.create": _l("新建账号"),
    "user.update": _l("修改账号"),
    "user.password_reset": _l("重置密码"),
    "user.deactivate": _l("停用账号"),
    "user.activate": _l("启用账号"),
    "entry.approve": _l("审核通过"),
    "entry.decline": _l("审核不通过"),
    "objection.resolve": _l("处理异议"),
    "self_report.accept": _l("采纳申报"),
    "self_report.decline": _l("不采纳申报"),
    "village.settings": _l("修改村积分设置"),
    "self_report.volunteer": _l("志愿者代为申报"),
    "board.define": _l("保存榜单定义"),
    "board.copy": _l("套用乡镇榜单模板"),
    "board.privacy": _l("修改榜单隐私设置"),
    "board.draft": _l("生成榜单草稿"),
    "board.reviewed": _l("审核榜单"),
    "board.under_notice": _l("榜单公示"),
    "board.published": _l("发布榜单"),
    "board.correct": _l("更正榜单"),
    "board.black_corrected": _l("登记黑榜整改"),
    "honour.nominate": _l("提名荣誉"),
    "honour.notice": _l("荣誉公示"),
    "honour.award": _l("授予荣誉"),
    "honour.decline": _l("不授予荣誉"),
    "honour.object": _l("对荣誉提出异议"),
    "honour_title.create": _l("新增荣誉称号"),
    "rulebook.adopt": _l("表决通过积分细则"),
    "redemption.cancel": _l("退还兑换"),
    "stars.confer": _l("评定星级文明户"),
    "api_token.create": _l("创建 API 令牌"),
    "api_token.revoke": _l("吊销 API 令牌"),
    "round.save": _l("保存试点轮次"),
}

#: Labels of the object types (``target_type``, a table name) and of common keys of
#: ``before``/``after``, for the log page; others are shown as they are.
TARGET_LABELS = {
    "region": _l("地区"), "household": _l("农户"), "user_account": _l("账号"),
    "ledger_entry": _l("积分记录"), "objection": _l("异议"), "self_report": _l("申报"),
    "village_settings": _l("村积分设置"),
    "board_definition": _l("榜单定义"), "board_privacy": _l("榜单隐私设置"),
    "board_publication": _l("榜单"), "black_correction": _l("黑榜整改"),
    "honour": _l("荣誉"), "honour_title": _l("荣誉称号"), "star_conferment": _l("星级评定"),
    "api_token": _l("API 令牌"),
    "rulebook_version": _l("积分细则版本"), "redemption": _l("兑换"),
    "pilot_round": _l("试点轮次"),
}
FIELD_LABELS = {
    "created": _l("新建户数"), "updated": _l("更新户数"), "unchanged": _l("未变户数"),
    "new_groups": _l("新建村民小组"), "house_numbers": _l("门牌号"), "file": _l("文件"),
    "changes": _l("修改的内容"),
    "status": _l("状态"), "reason": _l("原因"), "outcome": _l("处理结果"),
    "points": _l("分值"), "username": _l("用户名"), "display_name": _l("姓名"),
    "role": _l("角色"), "region": _l("地区"), "is_active": _l("启用"), "phone": _l("联系电话"),
    "adjusted_points": _l("调整后的分值"), "entry_id": _l("积分记录编号"),
    "region_id": _l("地区编号"), "household_id": _l("农户编号"), "household": _l("农户编号"),
    "item_id": _l("评分项编号"), "objection_id": _l("异议编号"),
    "by_household_id": _l("提出异议的农户编号"), "supersedes": _l("更正的榜单编号"),
    "note": _l("说明"), "on": _l("日期"), "period": _l("周期"), "prefix": _l("编号前缀"),
    "name": _l("名称"), "title": _l("称号"), "year": _l("年度"), "stars": _l("星级"),
    "decision_date": _l("决定日期"), "decision_note": _l("决定记录"),
    "decline_reason": _l("不授予的原因"), "notice_until": _l("公示截止"),
    "notice_days": _l("公示天数"), "review_above": _l("超过多少分须审核"),
    "mask_names": _l("榜上姓名打码"), "black_public": _l("黑榜对外公开"),
    # a board definition (boards.services.DEFINITION_FIELDS)
    "period_kind": _l("榜单周期"), "group_id": _l("范围（村民小组编号）"),
    "red_top_n": _l("红榜前几名"), "red_threshold": _l("红榜分数线"),
    "black_items": _l("黑榜评分项"), "black_categories": _l("黑榜类别"),
    "black_threshold": _l("黑榜扣分线"), "black_bottom_n": _l("黑榜最多几户"),
    "red_item_code": _l("红榜另记评分项"), "red_points": _l("红榜另记分值"),
    "black_item_code": _l("黑榜另记评分项"), "black_points": _l("黑榜另记分值"),
    # a rulebook adoption and a redemption's refund
    "number": _l("版本号"), "adopted_on": _l("表决日期"), "effective_from": _l("施行日期"),
    "decision": _l("表决情况"), "cash_yuan": _l("现金补差（元）"),
    # a pilot round (reports.rounds)
    "starts_on": _l("开始日期"), "ends_on": _l("结束日期"), "plan_due": _l("方案备案截止"),
    "assessment_due": _l("乡镇自评截止"), "review_due": _l("县级复核截止"),
    "spot_check_due": _l("市级抽查截止"),
}
#: Labels of logged code values ("status": "awaiting_review"...), by key; others as they are.
VALUE_LABELS = {
    "status": {"awaiting_review": _l("待审核"), "under_notice": _l("公示中"),
               "held": _l("异议暂停"), "confirmed": _l("已生效"), "declined": _l("未通过"),
               "cancelled": _l("已作废"), "active": _l("在册"), "moved": _l("迁出"),
               "merged": _l("合户"), "open": _l("待处理"), "resolved": _l("已处理"),
               "pending": _l("待审核"), "accepted": _l("已采纳"),
               # honours and boards
               "nominated": _l("已提名"), "awarded": _l("已授予"), "draft": _l("草稿"),
               "reviewed": _l("已审核"), "published": _l("已发布"),
               "superseded": _l("已更正"), "adopted": _l("已通过"), "done": _l("已兑换"),
               "refunded": _l("已退还")},
    "period_kind": {"month": _l("每月"), "quarter": _l("每季度"), "half": _l("每半年"),
                    "year": _l("每年")},
    "mask_names": {True: _l("是"), False: _l("否")},
    "black_public": {True: _l("是"), False: _l("否")},
    "outcome": {"entry_upheld": _l("维持原记录"), "adjusted": _l("调整分值"),
                "reversed": _l("撤销记录")},
    "role": {"village_scorer": _l("村评分员"), "village_admin": _l("村管理员"),
             "township_auditor": _l("乡镇审核员"), "county_official": _l("县级干部"),
             "city_official": _l("市级干部"), "system_admin": _l("系统管理员"),
             "merchant_clerk": _l("商户收银员"), "village_volunteer": _l("志愿记录员")},
    "is_active": {True: _l("是"), False: _l("否")},
}

#: Keys never written to the log, whatever a caller passes (their values become "***").
SECRET_KEYS = frozenset({"password", "password_hash", "token", "qr_token", "qr_nonce",
                         "qr_token_hash", "secret", "session_token"})


def jsonable(value):
    """``value`` made JSON-serialisable for the log: Decimal -> str (exact, e.g. "2.50"),
    date/datetime -> ISO 8601 text, dataclass -> dict, set/tuple -> list, enum -> value, a
    model instance -> {"id": ...}; dict keys become str and the values of secret keys
    (``SECRET_KEYS``) become "***". Other objects become ``str(value)``."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return jsonable(value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    if isinstance(value, dict):
        return {str(k): ("***" if str(k) in SECRET_KEYS else jsonable(v))
                for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value, key=str) if isinstance(value, (set, frozenset)) else value
        return [jsonable(v) for v in items]
    if isinstance(value, db.Model):
        return {"id": getattr(value, "id", None)}
    return str(value)


def _target(target):
    """(target_type, target_id) of ``target``: a model instance (its table name and id), a
    (type, id) pair, or None."""
    if target is None:
        return None, None
    if isinstance(target, tuple):
        kind, ident = target
        return str(kind), (int(ident) if ident is not None else None)
    return target.__tablename__, target.id


def log_action(actor, action: str, *, region, target=None, before=None,
               after=None) -> AuditLog:
    """Record an administrative action in the audit log (flushed, not committed).

    - ``actor``: the User who acted (``current_user`` in a view), or None (command line).
    - ``action``: a short code, ``<object>.<verb>``, e.g. ``"roster.import"``,
      ``"entry.approve"``, ``"objection.resolve"``, ``"user.create"``,
      ``"household.archive"``; known codes have labels in ``ACTION_LABELS``.
    - ``region``: the Region the action concerns (a Region or its id), normally the village
      of the object; the log is readable by users whose scope contains it.
    - ``target``: the object acted on: a model instance with an ``id`` (its table name is
      stored as the type), or a ``(type, id)`` pair; None when there is none.
    - ``before`` / ``after``: the state before and after, as anything ``jsonable`` accepts
      (dicts, dataclasses, Decimals, dates...); None when not applicable (``before`` of a
      creation). Never pass passwords or tokens: keys in ``SECRET_KEYS`` are masked anyway.

    Call it in the same transaction as the action, after the action's service (so ids
    exist); the view's one commit stores both. Returns the AuditLog row. Raises ValueError
    when ``action`` is blank or ``region`` is missing.
    """
    action = (action or "").strip()
    if not action:
        raise ValueError("an action code is required")
    region_id = getattr(region, "id", region)
    if region_id is None:
        raise ValueError("the region the action concerns is required")
    target_type, target_id = _target(target)
    actor_id = getattr(actor, "id", None) if actor is not None else None
    if actor is not None and not getattr(actor, "is_authenticated", True):
        actor_id = None
    row = AuditLog(actor_id=actor_id, region_id=int(region_id), action=action,
                   target_type=target_type, target_id=target_id,
                   before=jsonable(before), after=jsonable(after))
    db.session.add(row)
    db.session.flush()
    return row


def account_state(user) -> dict:
    """What the log keeps of an account (never its password or tokens): username, display
    name, role, region (name and id), active, and the linked household id."""
    return {"username": user.username, "display_name": user.display_name, "role": user.role,
            "region": user.region.name if user.region else None,
            "region_id": user.region_id, "is_active": bool(user.is_active_flag),
            "household_id": user.household_id}


def roster_import_summary(result, rows, filename: str | None = None, changes=()) -> dict:
    """What the log keeps of a roster import: the counts of ``result``
    (households.roster.ImportResult: created, updated, unchanged, new_groups), the house
    numbers of the imported ``rows`` (RosterRow list, in file order), the file name, and
    what it changed in existing households (``changes``: households.roster.Change list),
    as "12 号 户主：胡秀春 → 张三" lines. A phone number's change is noted without the numbers
    (the log is read by townships, which do not see villagers' phones)."""
    summary = jsonable(result)
    summary["house_numbers"] = [r.house_number for r in rows]
    if filename:
        summary["file"] = filename
    if changes:
        summary["changes"] = [
            f"{c.house_number} 号 {c.field}：已修改" if c.field == "联系电话" else
            f"{c.house_number} 号 {c.field}：{c.before or '（空）'} → {c.after or '（空）'}"
            for c in changes]
    return summary
