"""Marketing automation: dynamic segments (saved rules that may quantify over related records),
nurture journeys (flows sending tracked e-mails, branching on opens and clicks, tagging by
interest) and the platform's own tracking pixel and link routes. A kernel plugin (entry point
``tangram.plugins``: ``flow_engine.marketing.plugin:PLUGIN``).
"""

from flow_engine.marketing.enrolment import enrol
from flow_engine.marketing.journeys import EMAIL_JOB, Journeys
from flow_engine.marketing.messages import MESSAGES, MarketingInputError, MarketingNotFound
from flow_engine.marketing.plugin import MarketingPlugin
from flow_engine.marketing.segments import member_ids, members, segment
from flow_engine.marketing.settings import MarketingSettings
from flow_engine.marketing.tracking import PIXEL

__all__ = [
    "EMAIL_JOB",
    "MESSAGES",
    "PIXEL",
    "Journeys",
    "MarketingInputError",
    "MarketingNotFound",
    "MarketingPlugin",
    "MarketingSettings",
    "enrol",
    "member_ids",
    "members",
    "segment",
]
