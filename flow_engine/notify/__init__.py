"""The notification centre: in-app notifications per user, e-mail through SMTP, and the group
robots of DingTalk, WeCom and Feishu, each delivered by a durable job. See docs/notifications.md.
"""

from flow_engine.notify.center import EMAIL_JOB, ROBOT_JOB, notify
from flow_engine.notify.channels import SECTION as CHANNELS_SECTION
from flow_engine.notify.email import SmtpSettings
from flow_engine.notify.plugin import NotifyPlugin
from flow_engine.notify.robots import ROBOTS, dingtalk_sign, feishu_sign, robot_request

__all__ = [
    "CHANNELS_SECTION",
    "EMAIL_JOB",
    "ROBOTS",
    "ROBOT_JOB",
    "NotifyPlugin",
    "SmtpSettings",
    "dingtalk_sign",
    "feishu_sign",
    "notify",
    "robot_request",
]
