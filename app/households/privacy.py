"""Who may see what about a household beyond its name and score.

Phone numbers are for the cadres of the household's own village (its scorers and admins):
not for township, county or city officials, nor for the system admin, who read ledgers and
roll-ups but have no need to call a villager.
"""
PHONE_ROLES = frozenset({"village_scorer", "village_admin"})


def can_see_phones(user, village) -> bool:
    """True when ``user`` may see the phone numbers of ``village``'s households."""
    return bool(getattr(user, "is_authenticated", False) and user.role in PHONE_ROLES
                and village is not None and user.region_id == village.id)
