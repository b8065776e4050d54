"""Forms of the reports pages: the period chooser (a GET form without CSRF token: it
changes nothing), the pilot registry and the three evaluation steps."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms.fields.choices import SelectChoice
from wtforms import (RadioField, SelectField, SelectMultipleField,
                     StringField, TextAreaField)
from wtforms.validators import (DataRequired, InputRequired, Length, NumberRange, Optional,
                                ValidationError)
from wtforms.widgets import CheckboxInput, ListWidget

from app.fields import DayField, WholeNumberField


class PeriodForm(FlaskForm):
    """A custom range of local dates, first and last day inclusive (quick links name a
    year, a quarter or a month with ``period``)."""

    class Meta:
        csrf = False

    start = DayField(_l("自"), validators=[Optional()])
    end = DayField(_l("止（含）"), validators=[Optional()])


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as checkboxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class PilotForm(FlaskForm):
    """A pilot village's round, content areas (two or three of six) and pilot plan."""

    round_id = SelectField(_l("试点轮次"), coerce=int)
    areas = MultiCheckboxField(_l("试点示范内容（选 2 到 3 项）"))
    plan = FileField(_l("试点示范方案（文件）"))
    filed_on = DayField(_l("方案备案日期"), validators=[Optional()])

    def validate_filed_on(self, field):
        """The plan cannot have been filed after today (the local date)."""
        from app.scoring.periods import local_today
        if field.data is not None and field.data > local_today():
            raise ValidationError(_l("备案日期不能晚于今天"))


class AssessmentForm(FlaskForm):
    """The township's self-assessment of a pilot village."""

    work_done = TextAreaField(_l("主要做法"), validators=[DataRequired(), Length(max=5000)])
    results = TextAreaField(_l("取得成效"), validators=[DataRequired(), Length(max=5000)])
    problems = TextAreaField(_l("存在问题"), validators=[DataRequired(), Length(max=5000)])
    next_steps = TextAreaField(_l("下一步打算"), validators=[DataRequired(), Length(max=5000)])
    self_score = StringField(_l("自评分（0-100）"), validators=[DataRequired()])
    attachment = FileField(_l("附件（可不传）"))
    correction_reason = TextAreaField(_l("修改原因（修改已提交的自评时必填）"),
                                      validators=[Optional(), Length(max=2000)])


class ReviewForm(FlaskForm):
    """The county's review of the latest self-assessment."""

    decision = RadioField(_l("复核结论"), choices=[SelectChoice("accepted", _l("通过")),
                                                  SelectChoice("returned", _l("退回乡镇"))],
                          validators=[DataRequired()])
    score = StringField(_l("复核得分（通过时填写，0-100）"), validators=[Optional()])
    comments = TextAreaField(_l("复核意见或退回理由"), validators=[DataRequired(),
                                                               Length(max=5000)])
    correction_reason = TextAreaField(_l("修改原因（修改已提交的复核时必填）"),
                                      validators=[Optional(), Length(max=2000)])


class DrawForm(FlaskForm):
    """The city's random draw: how many villages, how many entries in each, and the seed
    (blank: a fresh random one, recorded)."""

    village_count = WholeNumberField(_l("抽查村数"), default=3, validators=[
        InputRequired(_l("请填写抽查村数")), NumberRange(1, 100, _l("须是 1 到 100 之间的整数"))])
    entry_count = WholeNumberField(_l("每村抽查记录数"), default=10, validators=[
        InputRequired(_l("请填写每村抽查记录数")),
        NumberRange(1, 100, _l("须是 1 到 100 之间的整数"))])
    seed = StringField(_l("随机种子（可不填）"), validators=[Optional(), Length(max=64)])


class FindingForm(FlaskForm):
    """A finding on a drawn village or entry."""

    target = SelectField(_l("对象"))
    verdict = RadioField(_l("结论"), choices=[SelectChoice("ok", _l("属实")),
                                          SelectChoice("problem", _l("有问题"))],
                         validators=[DataRequired()])
    text = TextAreaField(_l("抽查情况"), validators=[DataRequired(), Length(max=5000)])
    supersedes = WholeNumberField(_l("更正第几条结果（编号，可不填）"), validators=[Optional()])
    correction_reason = TextAreaField(_l("更正原因"), validators=[Optional(), Length(max=2000)])


class RoundForm(FlaskForm):
    """A pilot round: name, first and last day, the plan's due date and the three steps'
    due dates (month-day, each year)."""

    name = StringField(_l("轮次名称（如 2023-2024）"), validators=[Length(max=64)])
    starts_on = DayField(_l("开始日期"), validators=[Optional()])
    ends_on = DayField(_l("结束日期（含）"), validators=[Optional()])
    plan_due = DayField(_l("方案备案截止日期（可不填：第一年 5 月 15 日）"),
                        validators=[Optional()])
    assessment_due = StringField(_l("乡镇自评截止（每年，月-日）"), default="11-30",
                                 validators=[Length(max=10)])
    review_due = StringField(_l("县级复核截止（每年，月-日）"), default="11-30",
                             validators=[Length(max=10)])
    spot_check_due = StringField(_l("市级抽查截止（每年，月-日）"), default="11-30",
                                 validators=[Length(max=10)])
