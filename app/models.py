"""Imports every model so the metadata (and Alembic) sees all tables."""
from app.accounts.login_state import LoginState  # noqa: F401
from app.accounts.models import User  # noqa: F401
from app.audit.models import AuditLog  # noqa: F401
from app.households.models import Household, HouseholdMember, HouseholdStatusChange  # noqa: F401
from app.regions.models import Region  # noqa: F401
from app.rules.models import Category, RuleItem, Rulebook, RulebookVersion  # noqa: F401
from app.evidence.models import Evidence  # noqa: F401
from app.review.models import Objection, SelfReport  # noqa: F401
from app.scoring.models import (EntryTransition, HouseholdBalance, LedgerChain,  # noqa: F401
                                LedgerEntry, VillageSettings)
from app.rewards.models import (Redemption, RedemptionLine, Reward, RewardSettings,  # noqa: F401
                                StockMovement)
from app.rewards.models import Merchant, MerchantStaff, RewardStock  # noqa: F401
from app.reports.models import (CountyReview, PilotRound, PilotVillage,  # noqa: F401
                                SelfAssessment, SpotCheck, SpotCheckFinding)
from app.boards.models import (BlackCorrection, BoardChange, BoardDefinition,  # noqa: F401
                               BoardLine, BoardPrivacy, BoardPublication)
from app.honours.models import (Honour, HonourObjection, HonourTitle,  # noqa: F401
                                StarConferment, StarRating)
from app.api.models import ApiPosting, ApiToken  # noqa: F401
