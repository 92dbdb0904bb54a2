"""A polling channel's remembered state: stored per channel, tenant-scoped, replaced whole."""

from __future__ import annotations

import uuid

from frontline.channels import service as channels
from frontline.kit.repository import TenantScope
from tests.conftest import Factory


async def test_state_starts_empty_and_is_replaced(factory: Factory) -> None:
    t = await factory.tenant()
    scope, channel_id = TenantScope(t.id), uuid.UUID(t.email_channel_id)
    db = factory.services.db
    async with db.transaction() as session:
        assert await channels.load_state(session, scope, channel_id) == {}
        await channels.save_state(session, scope, channel_id, {"uidvalidity": 7, "last_uid": 3})
    async with db.transaction() as session:
        state = await channels.load_state(session, scope, channel_id, for_update=True)
        assert state == {"uidvalidity": 7, "last_uid": 3}
        await channels.save_state(session, scope, channel_id, {"uidvalidity": 7, "last_uid": 9})
    async with db.transaction() as session:
        assert await channels.load_state(session, scope, channel_id) == {
            "uidvalidity": 7,
            "last_uid": 9,
        }


async def test_state_rolls_back_with_its_transaction(factory: Factory) -> None:
    t = await factory.tenant()
    scope, channel_id = TenantScope(t.id), uuid.UUID(t.api_channel_id)
    db = factory.services.db
    try:
        async with db.transaction() as session:
            await channels.save_state(session, scope, channel_id, {"offset": 41})
            raise RuntimeError("the messages of this batch failed to store")
    except RuntimeError:
        pass
    async with db.transaction() as session:
        assert await channels.load_state(session, scope, channel_id) == {}


async def test_another_tenant_sees_no_state(factory: Factory) -> None:
    a, b = await factory.tenant(), await factory.tenant()
    db = factory.services.db
    async with db.transaction() as session:
        await channels.save_state(
            session, TenantScope(a.id), uuid.UUID(a.api_channel_id), {"offset": 5}
        )
    async with db.transaction() as session:
        assert (
            await channels.load_state(session, TenantScope(b.id), uuid.UUID(a.api_channel_id)) == {}
        )
