"""Forms of the board pages."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, HiddenField, SelectField,
                     StringField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.fields import DayField, WholeNumberField

_COUNT = [Optional(), NumberRange(1, 500, _l("须是 1 到 500 之间的整数"))]


class DefinitionForm(FlaskForm):
    name = StringField(_l("榜单名称"), validators=[DataRequired(_l("请填写榜单名称")),
                                                   Length(max=64)])
    period_kind = SelectField(_l("周期"), choices=[
        SelectChoice("month", _l("每月")), SelectChoice("quarter", _l("每季度")),
        SelectChoice("half", _l("每半年")), SelectChoice("year", _l("每年"))])
    group_id = SelectField(_l("范围"), coerce=int)
    red_top_n = WholeNumberField(_l("红榜：前几名（不填表示不限）"), validators=_COUNT)
    red_threshold = StringField(_l("红榜：本期积分达到多少分（不填表示不限）"),
                                validators=[Optional(), Length(max=12)])
    black_items = StringField(
        _l("黑榜：只看这些评分项的扣分（填编号，用逗号隔开；不填表示所有扣分）"),
        validators=[Optional(), Length(max=255)])
    black_categories = StringField(_l("黑榜：只看这些类别的扣分（填类别名，用逗号隔开）"),
                                   validators=[Optional(), Length(max=255)])
    black_threshold = StringField(_l("黑榜：本期扣分达到多少分（不填表示有扣分即上榜）"),
                                  validators=[Optional(), Length(max=12)])
    black_bottom_n = WholeNumberField(_l("黑榜：最多几户（扣分最多的几户；不填表示不限）"),
                                      validators=_COUNT)
    red_item_code = SelectField(_l("上红榜另记的评分项（可不选）"))
    red_points = StringField(_l("其分值（仅范围项填写）"), validators=[Optional(), Length(max=12)])
    black_item_code = SelectField(_l("上黑榜另记的评分项（可不选）"))
    black_points = StringField(_l("其分值（仅范围项填写）"),
                               validators=[Optional(), Length(max=12)])
    notice_days = WholeNumberField(_l("榜单公示天数（不填按本村记分公示天数）"), validators=[
        Optional(), NumberRange(0, 30, _l("公示天数须在 0 到 30 之间"))])


class PrivacyForm(FlaskForm):
    mask_names = BooleanField(_l("榜单上的户主姓名打码（如 张*三）"))
    black_public = BooleanField(_l("黑榜对外公开（不勾选：只有本村村民扫门牌码才能看到）"))


class DraftForm(FlaskForm):
    period = StringField(_l("周期"), validators=[DataRequired(_l("请填写周期")),
                                                 Length(max=8)])


class CorrectForm(FlaskForm):
    note = TextAreaField(_l("更正原因（会公布）"), validators=[
        DataRequired(_l("请写明更正的原因")), Length(max=500)])


class BlackCorrectionForm(FlaskForm):
    household_id = HiddenField(validators=[InputRequired()])
    corrected_on = DayField(_l("整改日期"), validators=[DataRequired(_l("请填写日期"))])
    note = StringField(_l("整改情况"), validators=[DataRequired(_l("请填写整改情况")),
                                                 Length(max=500)])


class TemplateForm(FlaskForm):
    template_id = HiddenField(validators=[InputRequired(_l("请选择模板"))])
