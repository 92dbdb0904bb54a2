"""ORM models. Importing this package registers every table on ``Base.metadata``."""

from frontline.models.ai import AiCall, AiSettings
from frontline.models.analytics import (
    AnalyticsConversation,
    AnalyticsHourly,
    ConversationFacts,
    UsageDaily,
)
from frontline.models.attachments import Attachment, AttachmentStatus
from frontline.models.base import Base
from frontline.models.bookings import (
    Availability,
    BlockedPeriod,
    Booking,
    BookingStatus,
    ConditionTemplate,
    Departure,
    Resource,
    ResourceKind,
)
from frontline.models.canned import CannedReply
from frontline.models.channels import Channel, ChannelState
from frontline.models.contacts import Contact, ContactAttribute, ContactIdentity, ContactMerge
from frontline.models.conversations import (
    Category,
    Conversation,
    ConversationStatus,
    ConversationTag,
    DeliveryStatus,
    Message,
    Priority,
    SenderType,
    Tag,
    not_held,
)
from frontline.models.jobs import Job, JobStatus
from frontline.models.knowledge import (
    DocumentStatus,
    KnowledgeChunk,
    KnowledgeDocument,
    KnowledgeState,
)
from frontline.models.tenants import (
    ROLE_RANK,
    ApiKey,
    AuditEntry,
    Membership,
    RefreshToken,
    Role,
    Tenant,
    User,
)

__all__ = [
    "ROLE_RANK",
    "AiCall",
    "AiSettings",
    "AnalyticsConversation",
    "AnalyticsHourly",
    "ApiKey",
    "Attachment",
    "AttachmentStatus",
    "AuditEntry",
    "Availability",
    "Base",
    "BlockedPeriod",
    "Booking",
    "BookingStatus",
    "CannedReply",
    "Category",
    "Channel",
    "ChannelState",
    "ConditionTemplate",
    "Contact",
    "ContactAttribute",
    "ContactIdentity",
    "ContactMerge",
    "Conversation",
    "ConversationFacts",
    "ConversationStatus",
    "ConversationTag",
    "DeliveryStatus",
    "Departure",
    "DocumentStatus",
    "Job",
    "JobStatus",
    "KnowledgeChunk",
    "KnowledgeDocument",
    "KnowledgeState",
    "Membership",
    "Message",
    "Priority",
    "RefreshToken",
    "Resource",
    "ResourceKind",
    "Role",
    "SenderType",
    "Tag",
    "Tenant",
    "UsageDaily",
    "User",
    "not_held",
]
