"""Form fields shared by every form.

``DayField`` is WTForms' DateField for a local date: text that is not a date ("2026-13-40")
gets one message saying so (not "please fill in the date"), and a date outside the years
2000-2099 (``scoring.periods.FIRST_DATE``..``LAST_DATE``) is refused at the field.

``WholeNumberField`` is WTForms' IntegerField with one clear error per field: text that is
not a whole number ("1.5", "三", "1e3") or past the database's integer range is refused with a
Chinese message, and the field's other validators (a NumberRange would add "must be between
1 and 100" for the same input) do not run on it.
"""
from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField
from wtforms.validators import StopValidation

from app.ids import MAX_ID
from app.scoring.periods import FIRST_DATE, LAST_DATE

NOT_WHOLE = _l("请填写整数，例如 1、2、3")
TOO_BIG = _l("数字太大")
BAD_DATE = _l("日期不对，请按“年-月-日”填写，例如 2026-11-30。")
OUT_OF_RANGE_DATE = _l("日期须在 2000 年到 2099 年之间")


def read_date(text: str | None) -> tuple:
    """``(date, None)`` for an ISO date ``YYYY-MM-DD`` within the years 2000-2099,
    ``(None, message)`` for any other text (malformed, or out of those years), ``(None, None)``
    for blank text."""
    text = (text or "").strip()
    if not text:
        return None, None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None, BAD_DATE
    return (day, None) if FIRST_DATE <= day <= LAST_DATE else (None, OUT_OF_RANGE_DATE)


class _OneParseError:
    """Stop a field's validation when its text did not parse: its one error is already in
    ``errors``, and a DataRequired would replace it with "please fill in"."""

    def pre_validate(self, form):
        if self.process_errors:
            raise StopValidation()


class DayField(_OneParseError, DateField):
    """A DateField (``data`` a date or None) with one message at the field for text that is
    not a date or a date outside the years 2000-2099 (``read_date``). Blank input is left to
    the field's DataRequired or Optional."""

    def process_formdata(self, valuelist):
        text = valuelist[0] if valuelist and isinstance(valuelist[0], str) else ""
        self.data, message = read_date(text)
        if message:
            raise ValueError(message)


class WholeNumberField(_OneParseError, IntegerField):
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

    def post_validate(self, form, validation_stopped):
        if not self.errors and self.data is not None and not -MAX_ID - 1 <= self.data <= MAX_ID:
            self.errors.append(TOO_BIG)
