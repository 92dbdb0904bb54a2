"""What a delivery sends, read in a bounded number of rows however long the thread."""

from __future__ import annotations

import uuid

from frontline.deps import Services
from frontline.kit.repository import TenantScope
from frontline.kit.time import utcnow
from frontline.messages import delivery as delivering
from frontline.messages.repository import MessageRepository
from frontline.models import DeliveryStatus, SenderType
from tests.conftest import Factory


async def test_a_long_thread_sends_its_latest_references_and_the_customers_last_id(
    factory: Factory, services: Services
) -> None:
    t = await factory.tenant()
    inbound = await factory.inbound(t, external_id="customer-1", text="Is the room free?")
    conversation_id = int(inbound["conversation_id"])
    scope = TenantScope(t.id)
    channel_id = uuid.UUID(t.api_channel_id)

    def values(text: str, sender: SenderType, external_id: str | None) -> dict[str, object]:
        return {
            "tenant_id": t.id,
            "conversation_id": conversation_id,
            "channel_id": channel_id,
            "sender_type": sender.value,
            "author_id": None,
            "is_internal": False,
            "text": text,
            "external_id": external_id,
            "meta": {},
            "delivery_status": DeliveryStatus.SENT.value,
            "failure_reason": None,
            "created_at": utcnow(),
        }

    sent_ids = [f"<op-{n}@x>" for n in range(delivering.THREAD_REFERENCES + 10)]
    async with services.db.transaction() as s:
        repo = MessageRepository(s, scope)
        for external_id in sent_ids:  # earlier replies the channel gave ids to
            await repo.insert(values("Reply", SenderType.OPERATOR, external_id))
        reply = {**values("Yes, it is.", SenderType.OPERATOR, None)}
        reply["delivery_status"] = DeliveryStatus.QUEUED.value
        reply_id = await repo.insert(reply)
    async with services.db.reader() as s:
        delivery = await delivering._prepare(s, scope, services.secret_box, reply_id)
    assert delivery is not None
    outbound = delivery.outbound
    thread = ["customer-1", *sent_ids]
    assert outbound.references == tuple(thread[-delivering.THREAD_REFERENCES :])
    assert outbound.in_reply_to == "customer-1"  # older than the references kept
    assert (outbound.text, outbound.recipient_external_id) == ("Yes, it is.", "cust-1")
