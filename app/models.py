"""Imports every model so the metadata (and Alembic) sees all tables."""
from app.accounts.models import User  # noqa: F401
from app.households.models import Household, HouseholdMember  # noqa: F401
from app.regions.models import Region  # noqa: F401
from app.rules.models import Category, RuleItem, Rulebook, RulebookVersion  # noqa: F401
from app.scoring.models import HouseholdBalance, LedgerEntry  # noqa: F401
