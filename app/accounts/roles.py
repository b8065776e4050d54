"""Roles and what each may do. A role is always held over one region (its scope).

Role -> the region level it is held at, and its permissions:

- village_scorer (村评分员): scores households of its village.
- village_admin (村管理员): scores, reviews (second person, objections, self-reports),
  manages the roster and door plates of its village, and the village's scorer accounts.
- township_auditor (乡镇审核员): reads everything in its township; writes nothing.
- county_official / city_official (县级/市级): read roll-ups and ledgers below them.
- system_admin (系统管理员): everything, city-wide, including every account.
- ``reports`` (roll-ups and the pilot registry of the region): township auditors, county and
  city officials, system admins. The yearly evaluation's sign-offs: ``assess`` (township
  self-assessment) for township auditors, ``review_county`` and ``manage_pilots`` (content
  areas, pilot plan) for county officials, ``spot_check`` for city officials.
- ``redeem`` (serve the points-supermarket counter): village scorers, village admins, system
  admins. The supermarket shelf is in the village office and the cadres who score usually
  keep it on its opening days, so scorers may redeem; ``manage_rewards`` (catalogue, stock,
  opening days, cancelling a redemption) stays with village and system admins, so the person
  at the counter cannot also refund or adjust stock.
- ``edit_rules`` (draft, import and adopt the village's rulebook): village and system admins.
- ``merchant_clerk`` (商户收银员): the counter login of a partner merchant (rewards.Merchant,
  linked by rewards.MerchantStaff), held over the merchant's village or township. Only
  ``redeem``, and ``rewards.merchant_guard`` keeps it to its merchant's pages (counter,
  receipts, settlement); created with the merchant (``rewards.merchants.add_merchant``).
- ``manage_shared_rewards`` (a township's shared catalogue and township merchants): system
  admins (there is no township admin role yet).
- ``manage_rounds`` (pilot rounds and their due dates, city-wide): city officials and system
  admins (a county's edit changed every county's deadlines).
- ``declare`` (RULE-FEATURES row 22): the volunteer recorder (village_volunteer, 志愿记录员)
  of a village submits deeds of its households; they always wait in the review queue
  (``review.channels``), a volunteer never posts to the ledger (no ``score``). System admins
  hold it too.

Who may manage which accounts (create, reset password, deactivate) is in
``accounts.manage``: a system admin any account in its region, a village admin the scorers
of its own village.
"""
from flask_babel import lazy_gettext as _l

ROLES = {
    "village_scorer": {"level": "village", "perms": {"view", "score", "redeem"}},
    "village_admin": {"level": "village",
                      "perms": {"view", "score", "review", "manage_households", "manage_users",
                                "redeem", "manage_rewards", "edit_rules"}},
    "township_auditor": {"level": "township", "perms": {"view", "reports", "assess"}},
    "county_official": {"level": "county",
                        "perms": {"view", "reports", "review_county", "manage_pilots"}},
    "city_official": {"level": "city", "perms": {"view", "reports", "spot_check",
                                                 "manage_rounds"}},
    "system_admin": {"level": "city",
                     "perms": {"view", "score", "review", "manage_households", "manage_users",
                               "redeem", "manage_rewards", "admin", "reports", "edit_rules",
                               "manage_shared_rewards", "manage_rounds", "declare"}},
    "merchant_clerk": {"level": "village", "perms": {"redeem"}},
    "village_volunteer": {"level": "village", "perms": {"view", "declare"}},
}

ROLE_LABELS = {
    "village_scorer": _l("村评分员"),
    "village_admin": _l("村管理员"),
    "township_auditor": _l("乡镇审核员"),
    "county_official": _l("县级干部"),
    "city_official": _l("市级干部"),
    "system_admin": _l("系统管理员"),
    "merchant_clerk": _l("商户收银员"),
    "village_volunteer": _l("志愿记录员"),
}


def role_allows(role: str, perm: str) -> bool:
    """True when ``role`` carries permission ``perm`` (unknown roles carry nothing)."""
    return perm in ROLES.get(role, {}).get("perms", set())
