"""Forms for scoring and reversal. Each carries an idempotency key made when it is shown."""
import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, RadioField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.evidence.forms import photo_field
from app.fields import DayField, WholeNumberField


def _new_key():
    return uuid.uuid4().hex


class ScoreForm(FlaskForm):
    # validate_choice=False: the service refuses an item outside the rulebook in force
    # (item_not_in_force, shown at this field), so a POST need not load every item
    item_id = RadioField(_l("评分项"), coerce=int, validate_choice=False,
                         validators=[InputRequired(_l("请选择一个评分项"))])
    deed_date = DayField(_l("发生日期"), validators=[DataRequired(_l("请填写日期"))])
    quantity = WholeNumberField(_l("次数"), default=1, validators=[
        InputRequired(_l("请填写次数")), NumberRange(1, 100, _l("次数必须在 1 到 100 之间"))])
    points = StringField(_l("分值（仅限范围项）"), validators=[Optional(), Length(max=12)])
    problems = WholeNumberField(_l("发现的问题数"), validators=[
        Optional(), NumberRange(0, 1000, _l("问题数必须是 0 到 1000 的整数"))])
    units = StringField(_l("数量（如小时数）"), validators=[Optional(), Length(max=12)])
    tier = StringField(_l("级别"), validators=[Optional(), Length(max=32)])
    bonus = StringField(_l("奖励分（可不填）"), validators=[Optional(), Length(max=12)])
    reference = StringField(_l("参照细则中的哪一项"), validators=[Optional(), Length(max=128)])
    member = StringField(_l("家庭成员"), validators=[Optional(), Length(max=64)])
    ratings = StringField(_l("互评分（每人一个分数，用顿号分隔）"),
                          validators=[Optional(), Length(max=500)])
    self_rating = StringField(_l("本户自评分"), validators=[Optional(), Length(max=12)])
    note = TextAreaField(_l("备注（不公开）"), validators=[Optional(), Length(max=500)])
    photo = photo_field()
    idempotency_key = HiddenField(default=_new_key)


class ReverseForm(FlaskForm):
    reason = TextAreaField(_l("冲正原因"), validators=[
        DataRequired(_l("请填写冲正原因")), Length(max=500)])
    idempotency_key = HiddenField(default=_new_key)
