"""Forms of the evidence channels (RULE-FEATURES row 22): a villager's declaration about
another household (by house number) and a volunteer recorder's record."""
import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from app.evidence.forms import photo_field
from app.fields import DayField


class _DeedFields(FlaskForm):
    # validate_choice=False: an item outside the list is refused by the service, in Chinese,
    # naming the channels the rulebook accepts for it
    item_id = SelectField(_l("哪一项"), coerce=int, validate_choice=False,
                          validators=[InputRequired(_l("请选择一项"))])
    deed_date = DayField(_l("哪一天"), validators=[DataRequired(_l("请填写日期"))])
    description = TextAreaField(_l("简单说明"), validators=[
        DataRequired(_l("请简单写明是什么事")), Length(max=500, message=_l("不能超过 500 字"))])
    photo = photo_field()
    idempotency_key = HiddenField(default=lambda: uuid.uuid4().hex)


class DeclarationForm(_DeedFields):
    """From a door plate's page: the other household by its house number."""

    house_number = StringField(_l("对方的门牌号"), validators=[
        DataRequired(_l("请填写对方的门牌号")), Length(max=32, message=_l("门牌号太长"))])


class VolunteerForm(_DeedFields):
    """A volunteer recorder's record: the household chosen from the village's list."""

    household_id = SelectField(_l("哪一户"), coerce=int,
                               validators=[InputRequired(_l("请选择一户"))])
