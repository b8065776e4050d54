"""Forms of the review workflow."""
import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (HiddenField, RadioField, SelectField, StringField,
                     TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.evidence.forms import photo_field
from app.fields import DayField, WholeNumberField


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("原因"), validators=[DataRequired(_l("请填写原因")),
                                                   Length(max=500)])


class ObjectionForm(FlaskForm):
    text = TextAreaField(_l("异议理由"), validators=[
        DataRequired(_l("请写明异议的理由")), Length(max=500, message=_l("不能超过 500 字"))])
    photo = photo_field()
    idempotency_key = HiddenField(default=lambda: uuid.uuid4().hex)


class ResolveForm(FlaskForm):
    outcome = RadioField(_l("处理结果"), choices=[
        SelectChoice("entry_upheld", _l("维持原记录")), SelectChoice("adjusted", _l("调整分值")),
        SelectChoice("reversed", _l("撤销原记录"))],
        validators=[InputRequired(_l("请选择处理结果"))])
    adjusted_points = StringField(_l("调整后的分值（仅“调整分值”时填写）"),
                                  validators=[Optional(), Length(max=12)])
    reason = TextAreaField(_l("处理理由（村民能看到）"), validators=[
        DataRequired(_l("请填写处理理由")), Length(max=500)])


def _item_or_none(value):
    """An item id from the select, or None for its empty first choice ("请选择…")."""
    return None if value in ("", None) else int(value)


class SelfReportForm(FlaskForm):
    item_id = SelectField(_l("做了哪一件好事"), coerce=_item_or_none,
                          validators=[InputRequired(_l("请选择一项"))])
    deed_date = DayField(_l("哪一天"), validators=[DataRequired(_l("请填写日期"))])
    description = TextAreaField(_l("简单说明"), validators=[
        DataRequired(_l("请简单写明做了什么好事")), Length(max=500, message=_l("不能超过 500 字"))])
    photo = photo_field()
    idempotency_key = HiddenField(default=lambda: uuid.uuid4().hex)


class AcceptReportForm(FlaskForm):
    points = StringField(_l("分值（仅范围项填写）"), validators=[Optional(), Length(max=12)])


class VillageSettingsForm(FlaskForm):
    notice_days = WholeNumberField(_l("公示天数（0 表示不公示，记分立即生效）"), validators=[
        InputRequired(_l("请填写公示天数")), NumberRange(0, 30, _l("公示天数须在 0 到 30 之间"))])
    review_above = StringField(_l("超过多少分须另一人审核（不填表示不按分值审核）"),
                               validators=[Optional(), Length(max=12)])
