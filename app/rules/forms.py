"""Forms of the rulebook pages: a draft's categories and items, adoption, import, preview.

Messages are Chinese at the field; a refused form keeps what was typed. Points are read with
``rules.engine.to_points`` (exact decimals, never floats).
"""
from decimal import Decimal

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (BooleanField, HiddenField, SelectField,
                     StringField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.fields import DayField, WholeNumberField
from app.i18n import refusal_text
from app.rules.engine import PERIODS, ROUNDINGS, Refusal, to_points
from app.rules.rules_check import RulesError, check_names

KIND_CHOICES = [SelectChoice("fixed", _l("固定分（每次加或扣固定分值）")),
                SelectChoice("range", _l("范围分（评议小组在范围内评定）")),
                SelectChoice("scorecard", _l("检查评分（满分，每处问题扣分，最低 0 分）")),
                SelectChoice("rate", _l("折算（如 4 小时记 1 分）")),
                SelectChoice("tiered", _l("分级（如 国家 50、省 30）")),
                SelectChoice("analogy", _l("参照评分（细则未列明的事项，参照相近项）"))]
PERIOD_CHOICES = [SelectChoice("month", _l("每月")), SelectChoice("quarter", _l("每季度")),
                  SelectChoice("year", _l("每年"))]
ROUNDING_CHOICES = [SelectChoice("floor", _l("去尾")), SelectChoice("half_up", _l("四舍五入")),
                    SelectChoice("ceiling", _l("进一"))]
MEETING_CHOICES = [SelectChoice("村民代表会议", _l("村民代表会议")),
                   SelectChoice("村民会议", _l("村民会议"))]


def _points(field, required=False, positive=False, label=None):
    """The field's value as Decimal points, or None; errors go on the field."""
    raw = (field.data or "").strip()
    if not raw:
        if required:
            field.errors.append(_("请填写%(what)s", what=label or field.label.text))
        return None
    try:
        value = to_points(raw)
    except Refusal as exc:
        field.errors.append(refusal_text(exc))
        return None
    if positive and value <= 0:
        field.errors.append(_("必须大于 0"))
        return None
    return value


def _num(field, **kw):
    value = _points(field, **kw)
    return None if value is None else format(value, "f")


def parse_tiers(text: str) -> dict:
    """Tiers typed one per line or separated by 、 , ; as "级别=分值" (or "级别：分值",
    "级别 分值"): {label: "points"}. Raises ValueError naming the part at fault."""
    tiers = {}
    for line in text.replace("，", "\n").replace(",", "\n").replace("、", "\n") \
            .replace(";", "\n").replace("；", "\n").splitlines():
        line = line.strip()
        if not line:
            continue
        for sep in ("=", "：", ":", " "):
            if sep in line:
                label, value = line.rsplit(sep, 1) if sep == " " else line.split(sep, 1)
                break
        else:
            raise ValueError(line)
        label = label.strip()
        try:
            if not label or len(label) > 32:
                raise ValueError(line)
            tiers[label] = format(to_points(value.strip()), "f")
        except Refusal:
            raise ValueError(line) from None
    return tiers


def tiers_text(tiers: dict) -> str:
    """Tiers as the form shows them, one "级别=分值" per line."""
    from app.points import fmt_points
    return "\n".join(f"{k}={fmt_points(Decimal(str(v)), sign=False)}"
                     for k, v in (tiers or {}).items())


class CategoryForm(FlaskForm):
    """A draft's category: its name and an optional cap per period."""

    name = StringField(_l("类别名称"), validators=[
        DataRequired(_l("请填写类别名称，如 孝老爱亲")), Length(max=64, message=_l("类别名称不能超过 64 个字"))])
    cap_points = StringField(_l("本类每户上限分（可不填）"), validators=[Optional(), Length(max=12)])
    cap_period = SelectField(_l("上限周期"), choices=PERIOD_CHOICES, default="year")

    def cleaned(self):
        """(name, cap_points, cap_period) or None when a field is wrong (errors set)."""
        cap = _points(self.cap_points, positive=True)
        if self.cap_points.errors:
            return None
        return self.name.data.strip(), cap, self.cap_period.data if cap is not None else None


class ItemForm(FlaskForm):
    """A draft's rule item with every parameter of its kind (rules.engine.ItemRule)."""

    name = StringField(_l("评分项名称"), validators=[
        DataRequired(_l("请填写评分项名称")), Length(max=128, message=_l("名称不能超过 128 个字"))])
    kind = SelectField(_l("类型"), choices=KIND_CHOICES, default="fixed")
    points = StringField(_l("分值（加分为正，扣分为负，如 5、-2、0.5）"),
                         validators=[Optional(), Length(max=12)])
    min_points = StringField(_l("最低分"), validators=[Optional(), Length(max=12)])
    max_points = StringField(_l("最高分"), validators=[Optional(), Length(max=12)])
    full_marks = StringField(_l("满分"), validators=[Optional(), Length(max=12)])
    per_problem = StringField(_l("每处问题扣分"), validators=[Optional(), Length(max=12)])
    checks = StringField(_l("检查项目（平板上逐户打勾，用顿号分隔，如 院落整洁、厕所干净；可不填）"),
                         validators=[Optional(), Length(max=400)])
    units_per_point = StringField(_l("每几个单位记 1 分（如 4 小时记 1 分填 4）"),
                                  validators=[Optional(), Length(max=12)])
    rounding = SelectField(_l("取整方式"), choices=ROUNDING_CHOICES, default="floor")
    step = StringField(_l("取整到（如 0.5，不填为 1）"), validators=[Optional(), Length(max=12)])
    tiers = TextAreaField(_l("各级分值（每行一级，如 国家=50）"),
                          validators=[Optional(), Length(max=1000)])
    bonus_max = StringField(_l("奖励分上限（可不填）"), validators=[Optional(), Length(max=12)])
    cap_points = StringField(_l("本项每户上限分（可不填）"), validators=[Optional(), Length(max=12)])
    cap_period = SelectField(_l("上限周期"), choices=PERIOD_CHOICES, default="year")
    once_only = BooleanField(_l("每户限一次"))
    needs_review = BooleanField(_l("需另一人审核"))
    veto = BooleanField(_l("一票否决（当期不能上红榜、评星、评先）"))
    per_person = BooleanField(_l("按人记（写明家庭成员，计入本户）"))
    note = TextAreaField(_l("说明（可不填）"), validators=[Optional(), Length(max=500)])

    def fill(self, item) -> None:
        """Show ``item``'s values (GET of the edit page)."""
        from app.points import fmt_points
        p = item.params or {}

        def num(v):
            return fmt_points(Decimal(str(v)), sign=False) if v not in (None, "") else ""
        self.name.data, self.kind.data, self.note.data = item.name, item.kind, item.note
        self.points.data = num(item.points) if item.kind == "fixed" else ""
        if item.kind in ("range", "analogy"):
            self.min_points.data = num(item.min_points)
            self.max_points.data = num(item.max_points)
        if item.kind == "scorecard":
            self.full_marks.data = num(item.max_points)
            self.per_problem.data = num(p.get("per_problem"))
            self.checks.data = "、".join(p.get("checks") or [])
        self.units_per_point.data = num(p.get("units_per_point"))
        self.rounding.data = p.get("rounding", "floor")
        self.step.data = num(p.get("step"))
        self.tiers.data = tiers_text(p.get("tiers"))
        self.bonus_max.data = num(p.get("bonus_max"))
        cap = p.get("cap") or {}
        self.cap_points.data = num(cap.get("points"))
        self.cap_period.data = cap.get("period", "year")
        self.once_only.data, self.needs_review.data = item.once_only, item.needs_review
        self.veto.data, self.per_person.data = item.veto, bool(p.get("per_person"))

    def cleaned(self) -> dict | None:
        """The RuleItem columns (services.ITEM_FIELDS) from the form, or None when a field is
        wrong (each error set on its field)."""
        kind = self.kind.data
        fields = {"name": self.name.data.strip(), "kind": kind, "points": None,
                  "min_points": None, "max_points": None, "once_only": bool(self.once_only.data),
                  "needs_review": bool(self.needs_review.data), "veto": bool(self.veto.data),
                  "note": (self.note.data or "").strip() or None}
        params = {}
        if kind == "fixed":
            fields["points"] = _points(self.points, required=True, label=_("分值"))
            if fields["points"] == 0:
                self.points.errors.append(_("分值不能为 0"))
        elif kind in ("range", "analogy"):
            low = _points(self.min_points, required=True, label=_("最低分"))
            high = _points(self.max_points, required=True, label=_("最高分"))
            if low is not None and high is not None and low > high:
                self.max_points.errors.append(_("最高分不能小于最低分"))
            fields["min_points"], fields["max_points"] = low, high
        elif kind == "scorecard":
            fields["max_points"] = _points(self.full_marks, required=True, positive=True,
                                           label=_("满分"))
            params["per_problem"] = _num(self.per_problem, required=True, positive=True,
                                         label=_("每处问题扣分"))
            try:
                params["checks"] = check_names(self.checks.data or "") or None
            except RulesError as exc:
                self.checks.errors.append(str(exc))
        elif kind == "rate":
            params["units_per_point"] = _num(self.units_per_point, required=True,
                                             positive=True, label=_("每几个单位记 1 分"))
            params["rounding"] = self.rounding.data if self.rounding.data in ROUNDINGS \
                else "floor"
            step = _num(self.step, positive=True)
            if step:
                params["step"] = step
        elif kind == "tiered":
            try:
                tiers = parse_tiers(self.tiers.data or "")
            except ValueError as exc:
                self.tiers.errors.append(_("“%(part)s”应写成 级别=分值，如 省=30",
                                           part=str(exc)))
                tiers = None
            else:
                if not tiers:
                    self.tiers.errors.append(_("请至少填写一级，如 国家=50"))
            params["tiers"] = tiers
        bonus = _num(self.bonus_max, positive=True)
        if bonus:
            params["bonus_max"] = bonus
        cap = _num(self.cap_points, positive=True)
        if cap:
            period = self.cap_period.data if self.cap_period.data in PERIODS else "year"
            params["cap"] = {"points": cap, "period": period}
        if self.per_person.data:
            params["per_person"] = True
        if kind == "fixed" and self.once_only.data and cap:
            self.cap_points.errors.append(_("限一次的项不需要再设上限"))
        if any(f.errors for f in self):
            return None
        fields["params"] = {k: v for k, v in params.items() if v not in (None, "")} or None
        return fields


class ConfirmForm(FlaskForm):
    """A button that changes something: only its CSRF token."""


class NewDraftForm(FlaskForm):
    """Start a new draft from a version (the one in force, or a township template)."""

    source = HiddenField()


class AdoptForm(FlaskForm):
    """The decision adopting a draft, following 四议两公开, and the date it takes effect."""

    meeting = SelectField(_l("表决会议"), choices=MEETING_CHOICES, default="村民代表会议")
    meeting_date = DayField(_l("会议日期"), validators=[DataRequired(_l("请填写会议日期"))])
    votes_for = WholeNumberField(_l("赞成票"), validators=[
        InputRequired(_l("请填写赞成票数")), NumberRange(0, 100000, _l("票数必须是 0 或以上的整数"))])
    votes_against = WholeNumberField(_l("反对票"), validators=[
        InputRequired(_l("请填写反对票数（没有填 0）")),
        NumberRange(0, 100000, _l("票数必须是 0 或以上的整数"))])
    votes_abstain = WholeNumberField(_l("弃权票"), validators=[
        InputRequired(_l("请填写弃权票数（没有填 0）")),
        NumberRange(0, 100000, _l("票数必须是 0 或以上的整数"))])
    proposed = BooleanField(_l("村党组织提议"))
    discussed = BooleanField(_l("村“两委”会议商议"))
    reviewed = BooleanField(_l("党员大会审议"))
    effective_from = DayField(_l("施行日期（从这一天起按新版本记分）"),
                              validators=[DataRequired(_l("请填写施行日期"))])
    note = TextAreaField(_l("决议公开情况等补充说明（可不填）"),
                         validators=[Optional(), Length(max=500)])

    def validate(self, extra_validators=None):
        """The steps of 四议两公开 before the vote, a majority of the votes cast, and an
        effective date not before the meeting."""
        ok = super().validate(extra_validators)
        for f in (self.proposed, self.discussed, self.reviewed):
            if not f.data:
                f.errors = list(f.errors) + [_("表决前须完成这一步（四议两公开）")]
                ok = False
        if ok and self.votes_for.data <= self.votes_against.data + self.votes_abstain.data:
            self.votes_for.errors = list(self.votes_for.errors) + [
                _("赞成票须超过到会人数的一半，本次未通过")]
            ok = False
        if (self.meeting_date.data and self.effective_from.data
                and self.effective_from.data < self.meeting_date.data):
            self.effective_from.errors = list(self.effective_from.errors) + [
                _("施行日期不能早于会议日期")]
            ok = False
        return ok

    def decision_text(self) -> str:
        """The decision as recorded on the version (Chinese, like the rulebooks print it)."""
        text = _("%(date)s %(meeting)s表决通过（四议两公开：党组织提议、两委商议、党员大会审议、"
                 "%(meeting)s决议），赞成 %(yes)s 票，反对 %(no)s 票，弃权 %(abst)s 票",
                 date=self.meeting_date.data.isoformat(), meeting=self.meeting.data,
                 yes=self.votes_for.data, no=self.votes_against.data,
                 abst=self.votes_abstain.data)
        if (self.note.data or "").strip():
            text += "；" + self.note.data.strip()
        return text

    def record(self) -> dict:
        """The decision's parts, kept in the version's params (``adoption``)."""
        return {"meeting": self.meeting.data, "date": self.meeting_date.data.isoformat(),
                "votes_for": self.votes_for.data, "votes_against": self.votes_against.data,
                "votes_abstain": self.votes_abstain.data,
                "steps": ["proposed", "discussed", "reviewed", "resolved"],
                "note": (self.note.data or "").strip() or None}


class ImportForm(FlaskForm):
    """A rulebook file: YAML (docs/rulebook-format.md) or the Excel workbook."""

    file = FileField(_l("积分细则文件（.yaml 或 .xlsx）"), validators=[
        FileRequired(_l("请选择要导入的文件"))])


class PreviewForm(FlaskForm):
    """A deed to try against a version (GET; nothing is written)."""

    class Meta:
        csrf = False

    household = SelectField(_l("农户"), coerce=int, validators=[
        InputRequired(_l("请选择一户"))])
    item = SelectField(_l("评分项"), coerce=int, validators=[InputRequired(_l("请选择评分项"))])
    deed_date = DayField(_l("发生日期"), validators=[Optional()])
    quantity = WholeNumberField(_l("次数"), default=1, validators=[
        Optional(), NumberRange(1, 100, _l("次数必须在 1 到 100 之间"))])
    points = StringField(_l("分值（范围分、参照评分）"), validators=[Optional(), Length(max=12)])
    problems = WholeNumberField(_l("发现的问题数（检查评分）"), validators=[
        Optional(), NumberRange(0, 1000, _l("问题数必须是 0 到 1000 的整数"))])
    units = StringField(_l("数量（折算项，如小时数）"), validators=[Optional(), Length(max=12)])
    tier = StringField(_l("级别（分级项）"), validators=[Optional(), Length(max=32)])
    bonus = StringField(_l("奖励分（可不填）"), validators=[Optional(), Length(max=12)])
    reference = StringField(_l("参照细则中的哪一项（参照评分）"),
                            validators=[Optional(), Length(max=128)])
    member = StringField(_l("家庭成员（按人记的项）"), validators=[Optional(), Length(max=64)])
    ratings = StringField(_l("互评分（互评自评项，每人一个分数，用顿号分隔）"),
                          validators=[Optional(), Length(max=500)])
    self_rating = StringField(_l("本户自评分（互评自评项）"),
                              validators=[Optional(), Length(max=12)])


BASE_PER_CHOICES = [SelectChoice("once", _l("一次")), SelectChoice("month", _l("每月")),
                    SelectChoice("quarter", _l("每季度")), SelectChoice("year", _l("每年"))]


class BookRulesForm(FlaskForm):
    """The rulebook-wide rules of a draft (rules.engine.BookRule): base score, household cap,
    eligibility gate, thresholds and star bands."""

    base_points = StringField(_l("基础分（可不填）"), validators=[Optional(), Length(max=12)])
    base_per = SelectField(_l("基础分发放"), choices=BASE_PER_CHOICES, default="once")
    base_spendable = BooleanField(_l("基础分可用于兑换"))
    household_cap = StringField(_l("每户加分上限（可不填）"), validators=[Optional(), Length(max=12)])
    household_cap_period = SelectField(_l("上限周期"), choices=PERIOD_CHOICES, default="year")
    enrolled_only = BooleanField(_l("只有参加本积分制的农户记分"))
    thresholds = TextAreaField(_l("暂停线（每行一个分数：低于它暂停享受相关待遇）"),
                               validators=[Optional(), Length(max=500)])
    star_bands = TextAreaField(_l("星级（每行一级，如 金=10，表示 10 分及以上为金）"),
                               validators=[Optional(), Length(max=1000)])

    def fill(self, params: dict) -> None:
        """Show a version's params."""
        from app.points import fmt_points
        p = params or {}

        def num(v):
            return fmt_points(Decimal(str(v)), sign=False)
        base = p.get("base") or {}
        if base:
            self.base_points.data = num(base["points"])
            self.base_per.data = base.get("per", "once")
            self.base_spendable.data = bool(base.get("spendable", True))
        cap = p.get("household_cap") or {}
        if cap:
            self.household_cap.data = num(cap["points"])
            self.household_cap_period.data = cap.get("period", "year")
        self.enrolled_only.data = p.get("eligibility") == "enrolled"
        self.thresholds.data = "\n".join(num(t["below"]) for t in p.get("thresholds") or ())
        self.star_bands.data = "\n".join(f"{b['label']}={num(b['min'])}"
                                         for b in p.get("star_bands") or ())

    def cleaned(self, params: dict) -> dict | None:
        """``params`` with the rulebook-wide rules of the form (other keys, such as a
        threshold's own flag, kept; None when there are none). A wrong field gets its error
        (check the fields' errors)."""
        out = {k: v for k, v in (params or {}).items()
               if k not in ("base", "household_cap", "eligibility", "thresholds",
                            "star_bands")}
        base = _num(self.base_points, positive=True)
        if base:
            out["base"] = {"points": base, "per": self.base_per.data,
                           "spendable": bool(self.base_spendable.data)}
        cap = _num(self.household_cap, positive=True)
        if cap:
            out["household_cap"] = {"points": cap, "period": self.household_cap_period.data}
        if self.enrolled_only.data:
            out["eligibility"] = "enrolled"
        flags = {t.get("below"): t.get("flag") for t in (params or {}).get("thresholds") or ()}
        thresholds = []
        for line in (self.thresholds.data or "").split():
            try:
                below = format(to_points(line), "f")
            except Refusal:
                self.thresholds.errors.append(_("“%(part)s”不是分数", part=line))
                continue
            thresholds.append({"below": below, "flag": flags.get(below, "suspended")})
        if thresholds:
            out["thresholds"] = thresholds
        try:
            bands = parse_tiers(self.star_bands.data or "")
        except ValueError as exc:
            self.star_bands.errors.append(_("“%(part)s”应写成 级别=最低分，如 金=10",
                                            part=str(exc)))
            bands = {}
        if bands:
            out["star_bands"] = [{"min": v, "label": k}
                                 for k, v in sorted(bands.items(), key=lambda kv: Decimal(kv[1]))]
        return out or None
