"""Forms of honours and star conferments."""
import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from app.fields import DayField, WholeNumberField


class NominateForm(FlaskForm):
    """A cadre's nomination: house number (or the household chosen from its page)."""
    house_number = StringField(_l("门牌号"), validators=[
        DataRequired(_l("请填写门牌号")), Length(max=32)])
    title = SelectField(_l("称号"), validators=[InputRequired(_l("请选择称号"))])
    year = WholeNumberField(_l("年度"), validators=[InputRequired(_l("请填写年度"))])
    reason = TextAreaField(_l("推荐理由（事迹）"), validators=[
        DataRequired(_l("请写明推荐理由（事迹）")), Length(max=500, message=_l("不能超过 500 字"))])
    idempotency_key = HiddenField(default=lambda: uuid.uuid4().hex)


class PublicNominateForm(FlaskForm):
    """A villager's nomination from a door-plate page."""
    house_number = StringField(_l("被推荐户的门牌号"), validators=[
        DataRequired(_l("请填写门牌号")), Length(max=32)])
    title = SelectField(_l("推荐的称号"), validators=[InputRequired(_l("请选择称号"))])
    reason = TextAreaField(_l("推荐理由（好人好事）"), validators=[
        DataRequired(_l("请写明推荐理由")), Length(max=500, message=_l("不能超过 500 字"))])
    idempotency_key = HiddenField(default=lambda: uuid.uuid4().hex)


class NoticeForm(FlaskForm):
    days = WholeNumberField(_l("公示天数"), default=5, validators=[
        InputRequired(_l("请填写公示天数")), NumberRange(0, 30, _l("公示天数须在 0 到 30 之间"))])


class DecisionForm(FlaskForm):
    """The award decision: 四议两公开 record (date of the meeting and what it decided)."""
    decision_date = DayField(_l("决定日期"), validators=[DataRequired(_l("请填写决定日期"))])
    note = TextAreaField(_l("决定记录（会议、到会人数、表决结果）"), validators=[
        DataRequired(_l("请填写决定记录")), Length(max=1000)])


class DeclineForm(FlaskForm):
    reason = TextAreaField(_l("不授予的原因"), validators=[
        DataRequired(_l("请填写不授予的原因")), Length(max=500)])


class ObjectionForm(FlaskForm):
    text = TextAreaField(_l("异议理由"), validators=[
        DataRequired(_l("请写明异议的理由")), Length(max=500, message=_l("不能超过 500 字"))])
    idempotency_key = HiddenField(default=lambda: uuid.uuid4().hex)


class TitleForm(FlaskForm):
    name = StringField(_l("新称号名称"), validators=[
        DataRequired(_l("请填写称号名称")), Length(max=20, message=_l("不能超过 20 个字"))])
