"""Every area's models, imported so the metadata (and Alembic's autogenerate) sees them all."""

from tillit.analytics.models import Goal
from tillit.audit.models import AuditEntry
from tillit.campaigns import models as campaign_models  # noqa: F401  (registers the tables)
from tillit.consent import models as consent_models  # noqa: F401  (registers the tables)
from tillit.contact import tables as contact_tables  # noqa: F401  (registers the tables)
from tillit.customers.models import Customer, Identity
from tillit.dialogues import models as dialogue_models  # noqa: F401  (registers the tables)
from tillit.events.models import Event, ImportCheckpoint, LakeWatermark, Source
from tillit.experiments.models import Experiment, Exposure, OutsideAudience
from tillit.feedback.models import Feedback, FeedbackTheme, ThemeAlert, ThemeModelState
from tillit.identity.models import MatchSuggestion, Merge
from tillit.outbox.models import OutboxMessage
from tillit.privacy import models as privacy_models  # noqa: F401  (registers the tables)
from tillit.promises import models as promise_models  # noqa: F401  (registers the tables)
from tillit.staff.models import ApiToken, SigninThrottle, StaffSession, StaffUser
from tillit.storage.base import Base
from tillit.storage.snapshots import Snapshot

metadata = Base.metadata

__all__ = [
    "ApiToken",
    "AuditEntry",
    "Customer",
    "Event",
    "Experiment",
    "Exposure",
    "Feedback",
    "FeedbackTheme",
    "Goal",
    "Identity",
    "ImportCheckpoint",
    "LakeWatermark",
    "MatchSuggestion",
    "Merge",
    "OutboxMessage",
    "OutsideAudience",
    "SigninThrottle",
    "Snapshot",
    "Source",
    "StaffSession",
    "StaffUser",
    "ThemeAlert",
    "ThemeModelState",
    "metadata",
]
