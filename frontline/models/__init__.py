"""ORM models. Importing this package registers every table on ``Base.metadata``."""

from frontline.models.ai import AiCall, AiSettings
from frontline.models.attachments import Attachment, AttachmentStatus
from frontline.models.base import Base
from frontline.models.channels import Channel, ChannelState
from frontline.models.contacts import Contact, ContactAttribute, ContactIdentity, ContactMerge
from frontline.models.conversations import (
    Category,
    Conversation,
    ConversationStatus,
    DeliveryStatus,
    Message,
    Priority,
    SenderType,
)
from frontline.models.jobs import Job, JobStatus
from frontline.models.knowledge import (
    DocumentStatus,
    KnowledgeChunk,
    KnowledgeDocument,
    KnowledgeState,
)
from frontline.models.tenants import ROLE_RANK, ApiKey, Membership, RefreshToken, Role, Tenant, User

__all__ = [
    "ROLE_RANK",
    "AiCall",
    "AiSettings",
    "ApiKey",
    "Attachment",
    "AttachmentStatus",
    "Base",
    "Category",
    "Channel",
    "ChannelState",
    "Contact",
    "ContactAttribute",
    "ContactIdentity",
    "ContactMerge",
    "Conversation",
    "ConversationStatus",
    "DeliveryStatus",
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
    "Role",
    "SenderType",
    "Tenant",
    "User",
]
