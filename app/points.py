"""Points for people: exact decimals formatted without trailing zeros (pure, no Flask)."""
from decimal import Decimal


def fmt_points(value, sign: bool = True) -> str:
    """Format a Decimal of points: ``+5``, ``-2``, ``+0.5``, ``0``; ``sign=False`` drops "+"."""
    if value is None:
        return ""
    d = Decimal(value)
    text = format(d.normalize(), "f") if d != 0 else "0"
    if sign and d > 0:
        text = "+" + text
    return text
