"""Translation helpers for messages made outside a request (engine refusals)."""
from flask_babel import gettext


def refusal_text(exc) -> str:
    """The refusal ``exc`` (rules.engine.Refusal) in the current locale."""
    return gettext(exc.template, **exc.params)
