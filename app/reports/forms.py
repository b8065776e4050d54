"""The period chooser of the roll-up page (a GET form, no CSRF token: it changes nothing)."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms.validators import Optional


class PeriodForm(FlaskForm):
    """A custom range of local dates, first and last day inclusive (quick links name a
    year, a quarter or a month with ``period``)."""

    class Meta:
        csrf = False

    start = DateField(_l("自"), validators=[Optional()])
    end = DateField(_l("止（含）"), validators=[Optional()])
