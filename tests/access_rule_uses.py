"""Access matrix rows of RULE-FEATURES rows 22 and 26: the beneficiary and peer channels
from a door plate's page are public (the token is the capability); the volunteer recorder's
page needs ``declare``; the dividend page and its export are ``view`` (read-only)."""
from flask import url_for

ROUTES = {
    "channels.declare": ("public", lambda i: url_for("channels.declare", token=i["token"],
                                                     channel="beneficiary")),
    "channels.volunteer": ("scoped+declare", lambda i: url_for("channels.volunteer",
                                                               village_id=i["village_id"])),
    "uses.dividend": ("scoped+view", lambda i: url_for("uses.dividend",
                                                       village_id=i["village_id"],
                                                       year=2026, pool="100")),
    "uses.dividend_xlsx": ("scoped+view", lambda i: url_for("uses.dividend_xlsx",
                                                            village_id=i["village_id"],
                                                            year=2026, pool="100")),
}
