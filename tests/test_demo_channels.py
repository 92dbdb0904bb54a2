"""``frontline demo`` creates the WhatsApp and Avito channels configured in the
environment, once each."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from frontline import events
from frontline.channels import service as channels
from frontline.channels.base import InvalidPayload
from frontline.demo_channels import add_env_channels, webhook_urls
from frontline.deps import Services
from frontline.kit.repository import TenantScope
from frontline.models import Job
from tests.conftest import Factory

WHATSAPP = {
    "FRONTLINE_DEMO_WHATSAPP_PHONE_NUMBER_ID": "106540352242922",
    "FRONTLINE_DEMO_WHATSAPP_ACCESS_TOKEN": "EAAJB-token",
    "FRONTLINE_DEMO_WHATSAPP_APP_SECRET": "app-secret",
    "FRONTLINE_DEMO_WHATSAPP_VERIFY_TOKEN": "verify",
}
AVITO = {
    "FRONTLINE_DEMO_AVITO_CLIENT_ID": "id",
    "FRONTLINE_DEMO_AVITO_CLIENT_SECRET": "secret",
    "FRONTLINE_DEMO_AVITO_USER_ID": "94235311",
    "FRONTLINE_DEMO_AVITO_API_BASE_URL": "http://127.0.0.1:9/",
}


async def test_channels_come_from_the_environment_once(
    factory: Factory, services: Services
) -> None:
    t = await factory.tenant()
    scope = TenantScope(t.id)
    box = services.secret_box
    async with services.db.transaction() as session:
        assert await add_env_channels(session, scope, box, {}, {}) == {}
        partial = {**WHATSAPP, "FRONTLINE_DEMO_WHATSAPP_APP_SECRET": " "}
        assert await add_env_channels(session, scope, box, {}, partial) == {}
        ids = await add_env_channels(session, scope, box, {"x": 1}, {**WHATSAPP, **AVITO})
        assert set(ids) == {"x", "whatsapp_channel_id", "avito_channel_id"}
        again = await add_env_channels(session, scope, box, ids, {**WHATSAPP, **AVITO})
        assert again == ids
        rows = await channels.list_channels(session, scope)
        assert sorted(c.type for c in rows) == ["api", "avito", "email", "whatsapp"]
        avito_row = next(c for c in rows if c.type == "avito")
        avito = await channels.runtime_for(session, scope, box, avito_row.id)
        whatsapp = next(c for c in rows if c.type == "whatsapp")
        config = (await channels.runtime_for(session, scope, box, whatsapp.id)).config
        assert config["phone_number_id"] == "106540352242922"
        assert config["graph_base_url"] == "https://graph.facebook.com/"
        jobs = (await session.execute(select(Job.kind))).scalars().all()
        assert list(jobs) == [events.JOB_AVITO_SUBSCRIBE]  # its webhook is subscribed
    assert avito.type.value == "avito"
    assert avito.config["user_id"] == 94235311
    urls = webhook_urls("https://support.example.com/", ids)
    assert urls == {
        "whatsapp": f"https://support.example.com/api/v1/webhooks/whatsapp/{whatsapp.id}"
    }


async def test_an_invalid_variable_is_named(factory: Factory, services: Services) -> None:
    t = await factory.tenant()
    bad = {**AVITO, "FRONTLINE_DEMO_AVITO_USER_ID": "not-a-number"}
    async with services.db.transaction() as session:
        with pytest.raises(InvalidPayload) as caught:
            await add_env_channels(session, TenantScope(t.id), services.secret_box, {}, bad)
    assert "demo avito channel" in str(caught.value)
    assert caught.value.fields[0]["loc"] == ["user_id"]
