"""Forms of the points supermarket. Forms that write carry an idempotency key made when shown."""
import uuid

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms.fields.choices import SelectChoice
from wtforms import (BooleanField, HiddenField, PasswordField, RadioField,
                     StringField, TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from app.evidence.forms import photo_field
from app.fields import WholeNumberField


def _new_key():
    return uuid.uuid4().hex


class RewardForm(FlaskForm):
    name = StringField(_l("名称"), validators=[DataRequired(_l("请填写名称")), Length(max=64)])
    points_price = StringField(_l("兑换所需积分（每单位）"), validators=[
        DataRequired(_l("请填写兑换所需积分")), Length(max=12)])
    unit = StringField(_l("单位（如 袋、瓶、次）"), validators=[Optional(), Length(max=16)])
    category = StringField(_l("类别（如 粮油、日用品、服务）"),
                           validators=[Optional(), Length(max=32)])
    kind = RadioField(_l("类型"), choices=[SelectChoice("goods", _l("实物（有库存）")),
                                           SelectChoice("service", _l("服务或荣誉（无库存）"))],
                      default="goods")
    low_stock_at = WholeNumberField(_l("库存预警（不多于此数时提醒）"), default=5, validators=[
        InputRequired(_l("请填写库存预警数")), NumberRange(0, 100000)])
    yuan_value = StringField(_l("每单位价值（元，用于结算和统计；可不填）"),
                             validators=[Optional(), Length(max=14)])
    active = BooleanField(_l("上架（可兑换）"), default=True)
    photo = photo_field()


class StockInForm(FlaskForm):
    quantity = WholeNumberField(_l("入库数量"), validators=[
        InputRequired(_l("请填写数量")), NumberRange(1, 100000, _l("数量必须在 1 到 100000 之间"))])
    supplier = StringField(_l("供货方"), validators=[Optional(), Length(max=128)])
    cost_yuan = StringField(_l("进货金额（元）"), validators=[Optional(), Length(max=14)])


class AdjustForm(FlaskForm):
    delta = WholeNumberField(_l("调整数量（减少填负数）"), validators=[
        InputRequired(_l("请填写数量")), NumberRange(-100000, 100000)])
    reason = StringField(_l("调整原因（如 损坏、盘点）"), validators=[
        DataRequired(_l("请填写调整原因")), Length(max=500)])


class RedeemForm(FlaskForm):
    """The basket: one ``q<reward id>`` quantity per item, read from the request by the view."""
    idempotency_key = HiddenField(default=_new_key)


class CancelForm(FlaskForm):
    reason = TextAreaField(_l("退还原因"), validators=[
        DataRequired(_l("请填写退还原因")), Length(max=500)])
    idempotency_key = HiddenField(default=_new_key)


class SettingsForm(FlaskForm):
    open_days = StringField(_l("每月开放日（如 10 或 10,25；留空为每天开放）"),
                            validators=[Optional(), Length(max=100)])


class MerchantForm(FlaskForm):
    """A partner merchant and, optionally, its counter login."""
    name = StringField(_l("商户名称"), validators=[DataRequired(_l("请填写商户名称")),
                                               Length(max=64)])
    contact = StringField(_l("联系人"), validators=[Optional(), Length(max=64)])
    phone = StringField(_l("联系电话"), validators=[Optional(), Length(max=32)])
    address = StringField(_l("地址"), validators=[Optional(), Length(max=128)])
    clerk_username = StringField(_l("收银员登录用户名（可不填）"),
                                 validators=[Optional(), Length(max=64)])
    clerk_password = PasswordField(_l("收银员初始密码"), validators=[Optional(), Length(max=128)])


class SettlementForm(FlaskForm):
    """The month of a settlement statement (a GET form)."""

    class Meta:
        csrf = False

    month = StringField(_l("月份（如 2026-11）"), validators=[Optional(), Length(max=7)])
