"""Every area's models, imported so the metadata (and Alembic's autogenerate) sees them all."""

from tillit.audit.models import AuditEntry
from tillit.consent import models as consent_models  # noqa: F401  (registers the tables)
from tillit.customers.models import Customer, Identity
from tillit.dialogues import models as dialogue_models  # noqa: F401  (registers the tables)
from tillit.events.models import Event, ImportCheckpoint, LakeWatermark, Source
from tillit.feedback.models import Feedback, FeedbackTheme, ThemeAlert, ThemeModelState
from tillit.identity.models import MatchSuggestion, Merge
from tillit.staff.models import ApiToken, SigninThrottle, StaffSession, StaffUser
from tillit.storage.base import Base
from tillit.storage.snapshots import Snapshot

metadata = Base.metadata

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Customer",
    "Event",
    "Feedback",
    "FeedbackTheme",
    "Identity",
    "ImportCheckpoint",
    "LakeWatermark",
    "MatchSuggestion",
    "Merge",
    "SigninThrottle",
    "Snapshot",
    "Source",
    "StaffSession",
    "StaffUser",
    "ThemeAlert",
    "ThemeModelState",
    "metadata",
]
