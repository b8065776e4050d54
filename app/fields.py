"""Form fields shared by every form.

``WholeNumberField`` is WTForms' IntegerField with one clear error per field: text that is
not a whole number ("1.5", "三", "1e3") or past the database's integer range is refused with a
Chinese message, and the field's other validators (a NumberRange would add "must be between
1 and 100" for the same input) do not run on it.
"""
from flask_babel import lazy_gettext as _l
from wtforms import IntegerField
from wtforms.validators import StopValidation

from app.ids import MAX_ID

NOT_WHOLE = _l("请填写整数，例如 1、2、3")
TOO_BIG = _l("数字太大")


class WholeNumberField(IntegerField):
    """An IntegerField (``data`` an int or None) refusing non-integers with a single message
    at the field, and numbers outside -MAX_ID - 1 .. MAX_ID (which no column holds) when its
    own validators (a NumberRange) have not already refused them."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("invalid_value_message", NOT_WHOLE)
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        if valuelist and isinstance(valuelist[0], str):
            if not valuelist[0].strip():   # blank: InputRequired or Optional decides
                self.data = None
                return
            valuelist = [valuelist[0].strip()]
        super().process_formdata(valuelist)

    def pre_validate(self, form):
        """Stop here when the text did not parse: its one error is already in ``errors``."""
        if self.process_errors:
            raise StopValidation()

    def post_validate(self, form, validation_stopped):
        if not self.errors and self.data is not None and not -MAX_ID - 1 <= self.data <= MAX_ID:
            self.errors.append(TOO_BIG)
