"""Password rules, for every place a password is chosen (create, reset, change).

At least 8 characters, at most 128, not all digits (a birthday or a phone number), not the
username. The messages say which rule failed, in the current locale (Chinese by default).
"""
from flask_babel import lazy_gettext as _l
from wtforms.validators import ValidationError

MIN_LENGTH = 8
MAX_LENGTH = 128


def password_problems(password: str, username: str = "") -> list:
    """The rules ``password`` breaks (a list of messages; empty when it is acceptable)."""
    password = password or ""
    problems = []
    if len(password) < MIN_LENGTH:
        problems.append(_l("密码至少要有 %(n)s 位", n=MIN_LENGTH))
    elif len(password) > MAX_LENGTH:
        problems.append(_l("密码不能超过 %(n)s 位", n=MAX_LENGTH))
    if password and password.isdigit():
        problems.append(_l("密码不能全是数字"))
    if username and password.strip().casefold() == username.strip().casefold():
        problems.append(_l("密码不能和用户名相同"))
    return problems


class PasswordRules:
    """WTForms validator applying ``password_problems``. The username comes from the form's
    ``username_field`` when given, else from ``username`` (a callable: the user whose password
    is being set)."""

    def __init__(self, username_field: str | None = None, username=None):
        self.username_field = username_field
        self.username = username

    def __call__(self, form, field):
        if self.username_field:
            username = getattr(form, self.username_field).data or ""
        else:
            username = self.username(form) if self.username else ""
        problems = [str(p) for p in password_problems(field.data, username)]
        if problems:
            field.errors.extend(problems[:-1])
            raise ValidationError(problems[-1])
