from __future__ import annotations

import uuid

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from frontline.kit.repository import TenantRepository, TenantScope
from frontline.models import Contact, ContactAttribute, ContactIdentity, ContactMerge


class ContactRepository(TenantRepository[Contact]):
    model = Contact

    async def fill_details(self, contact_id: uuid.UUID, values: dict[str, object]) -> None:
        await self.session.execute(
            update(Contact)
            .where(Contact.tenant_id == self.scope.tenant_id, Contact.id == contact_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


class IdentityRepository(TenantRepository[ContactIdentity]):
    model = ContactIdentity

    async def find(
        self, channel_id: uuid.UUID, external_id: str
    ) -> tuple[ContactIdentity, Contact] | None:
        stmt = (
            self.select(ContactIdentity, Contact)
            .join(Contact, Contact.id == ContactIdentity.contact_id)
            .where(
                ContactIdentity.channel_id == channel_id, ContactIdentity.external_id == external_id
            )
        )
        row = (await self.session.execute(stmt)).first()
        return (row[0], row[1]) if row else None

    async def for_contact(self, contact_id: uuid.UUID) -> list[ContactIdentity]:
        stmt = self.select().where(ContactIdentity.contact_id == contact_id)
        return list((await self.session.execute(stmt)).scalars())

    async def for_contact_on_channel(
        self, contact_id: uuid.UUID, channel_id: uuid.UUID
    ) -> ContactIdentity | None:
        stmt = self.select().where(
            ContactIdentity.contact_id == contact_id, ContactIdentity.channel_id == channel_id
        )
        return await self.one_or_none(stmt)


class AttributeRepository(TenantRepository[ContactAttribute]):
    model = ContactAttribute

    async def all(self) -> list[ContactAttribute]:
        stmt = self.select().order_by(ContactAttribute.key)
        return list((await self.session.execute(stmt)).scalars())


class MergeRepository(TenantRepository[ContactMerge]):
    model = ContactMerge

    async def for_contact(self, contact_id: uuid.UUID) -> list[ContactMerge]:
        stmt = (
            self.select()
            .where(ContactMerge.target_contact_id == contact_id)
            .order_by(ContactMerge.created_at)
        )
        return list((await self.session.execute(stmt)).scalars())


async def move_identities(
    session: AsyncSession, scope: TenantScope, source: uuid.UUID, target: uuid.UUID
) -> None:
    await session.execute(
        update(ContactIdentity)
        .where(ContactIdentity.tenant_id == scope.tenant_id, ContactIdentity.contact_id == source)
        .values(contact_id=target)
        .execution_options(synchronize_session=False)
    )


async def delete_identity(
    session: AsyncSession, scope: TenantScope, channel_id: uuid.UUID, external_id: str
) -> None:
    await session.execute(
        delete(ContactIdentity)
        .where(
            ContactIdentity.tenant_id == scope.tenant_id,
            ContactIdentity.channel_id == channel_id,
            ContactIdentity.external_id == external_id,
        )
        .execution_options(synchronize_session=False)
    )
