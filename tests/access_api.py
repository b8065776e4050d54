"""Access matrix entries of the JSON API (issue 8) and of the API token page.

The matrix logs in with session cookies. The API never accepts a cookie: only an
``Authorization: Bearer`` token authenticates it, so every /api/v1 route (kind ``api``) must
answer 401 to every user of the matrix, logged in or not, before any lookup (a foreign
object's existence is not even confirmed). What a token may do, role by role and region by
region (own objects 200, foreign ones 404, an auditor's POST 403), is checked with real
tokens in tests/test_api.py, tests/test_api_entries.py and tests/test_api_openapi.py.
The OpenAPI document is public: it describes the API, not anyone's data.
"""
from flask import url_for

ROUTES = {
    "api_tokens.index": ("login", lambda i: url_for("api_tokens.index")),
    "api.openapi": ("public", lambda i: url_for("api.openapi")),
    "api.me": ("api", lambda i: url_for("api.me")),
    "api.households": ("api", lambda i: url_for("api.households",
                                                village_id=i["village_id"])),
    "api.household": ("api", lambda i: url_for("api.household",
                                               household_id=i["household_id"])),
    "api.rulebook": ("api", lambda i: url_for("api.rulebook", village_id=i["village_id"])),
    "api.entries": ("api", lambda i: url_for("api.entries", household_id=i["household_id"])),
    "api.post_entry": ("post:api", lambda i: url_for("api.post_entry",
                                                     household_id=i["household_id"])),
    "api.entry": ("api", lambda i: url_for("api.entry", entry_id=i["entry_id"])),
    "api.reverse_entry": ("post:api", lambda i: url_for("api.reverse_entry",
                                                        entry_id=i["entry_id"])),
    "api.balance": ("api", lambda i: url_for("api.balance", household_id=i["household_id"])),
    "api.balances": ("api", lambda i: url_for("api.balances", village_id=i["village_id"])),
    "api.board": ("api", lambda i: url_for("api.board", village_id=i["village_id"])),
}
