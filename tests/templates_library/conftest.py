"""The templates' fixtures: the kernel's platform on each database, and one with every engine the
CRM's flows use."""

from collections.abc import Iterator

import pytest

from engine import Platform, Settings
from flow_engine import plugin as flow_plugin
from flow_engine.marketing import MarketingPlugin, MarketingSettings
from flow_engine.notify import NotifyPlugin, SmtpSettings
from flow_engine.webhooks import WebhookPlugin
from tests.engine.conftest import (  # noqa: F401 - fixtures
    anon,
    client,
    platform,
    postgres_system_ddl,
    settings,
    sqlite_system_template,
    system_database_url,
)
from tests.flow_engine.notify.conftest import Mailbox, mailbox  # noqa: F401 - fixture

#: Where the CRM's e-mails say the server is (links and tracking pixels point at it).
PUBLIC_URL = "https://crm.example.cn"


@pytest.fixture
def crm_smtp(mailbox: tuple[Mailbox, int]) -> SmtpSettings:  # noqa: F811 - the fixture above
    return SmtpSettings(host="127.0.0.1", port=mailbox[1], sender="crm@example.cn", sender_name="客户系统")


def crm_plugins(smtp: SmtpSettings) -> list[object]:
    """Every engine the CRM's flows use: flows, notifications and marketing (e-mail through
    ``smtp``), and webhooks."""
    return [
        flow_plugin,
        NotifyPlugin(smtp),
        WebhookPlugin(),
        MarketingPlugin(MarketingSettings(public_url=PUBLIC_URL), smtp),
    ]


@pytest.fixture
def crm_platform(
    database_url: str,
    settings: Settings,  # noqa: F811 - the fixture imported above
    crm_smtp: SmtpSettings,
) -> Iterator[Platform]:
    """A platform on the per-test database (both backends) with every engine the CRM's flows
    use: flows, notifications and marketing (e-mail through the test's own SMTP server)."""
    running = Platform(settings, plugins=crm_plugins(crm_smtp), load_entry_points=False)
    running.init_database()
    try:
        yield running
    finally:
        running.close()
