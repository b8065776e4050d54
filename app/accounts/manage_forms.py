"""Forms of account management and of "change my password"."""
import re

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import (DataRequired, EqualTo, InputRequired, Length, Optional, Regexp,
                                ValidationError)

from app.accounts.passwords import PasswordRules

USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,32}$")
PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


def _new_password_fields(username=None, username_field=None):
    rules = PasswordRules(username_field=username_field, username=username)
    password = PasswordField(_l("新密码"), validators=[
        DataRequired(_l("请填写新密码")), rules])
    confirm = PasswordField(_l("再输一遍新密码"), validators=[
        DataRequired(_l("请再输一遍新密码")),
        EqualTo("password", _l("两次输入的新密码不一样"))])
    return password, confirm


class NewUserForm(FlaskForm):
    """Create an account: role and region are limited to what the admin may give."""

    username = StringField(_l("用户名（登录用）"), validators=[
        DataRequired(_l("请填写用户名")),
        Regexp(USERNAME, message=_l("用户名只能用 3 到 32 个英文字母、数字、下划线、点或减号"))])
    display_name = StringField(_l("姓名或单位"), validators=[
        DataRequired(_l("请填写姓名")), Length(max=64, message=_l("姓名不能超过 64 个字"))])
    role = SelectField(_l("角色"), validators=[InputRequired(_l("请选择角色"))])
    region = SelectField(_l("所属地区"), coerce=int,
                         validators=[InputRequired(_l("请选择所属地区"))])
    phone = StringField(_l("联系电话（可不填）"), validators=[
        Optional(), Regexp(PHONE, message=_l("请填写 11 位手机号或带区号的固定电话"))])
    password, confirm = _new_password_fields(username_field="username")


class ResetPasswordForm(FlaskForm):
    """An admin sets a new password for an account (it is told to the person in person)."""

    password, confirm = _new_password_fields(
        username=lambda form: getattr(form, "target_username", ""))


class ChangePasswordForm(FlaskForm):
    """Everyone changes their own password, giving the current one first."""

    current = PasswordField(_l("现在的密码"), validators=[DataRequired(_l("请填写现在的密码"))])
    password, confirm = _new_password_fields(
        username=lambda form: getattr(form, "target_username", ""))

    def validate_password(self, field):
        """The new password must differ from the current one."""
        if field.data and field.data == self.current.data:
            raise ValidationError(_l("新密码不能和现在的密码相同"))


class ActiveForm(FlaskForm):
    """Deactivate (active=0) or reactivate (active=1) an account."""

    active = HiddenField(validators=[DataRequired(), Regexp(r"^[01]$")])
