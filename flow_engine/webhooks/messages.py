"""What the notification centre and the webhooks say to people, in Chinese and English."""

from __future__ import annotations

from engine import Conflict, InvalidInput, NotFound

MESSAGES: dict[str, dict[str, str]] = {
    "notification_not_found": {"zh": "没有编号为 {id} 的通知", "en": "no notification with id {id}"},
    "app_unknown": {"zh": "没有名为 {app} 的应用", "en": "no app named {app}"},
    "channel_unknown": {
        "zh": "应用 {app} 没有名为 {channel} 的通知渠道（notify_channels）",
        "en": "app {app} has no notification channel {channel} (notify_channels)",
    },
    "email_invalid": {"zh": "{email} 不是有效的电子邮件地址", "en": "{email} is not an e-mail address"},
    "webhook_secret_missing": {
        "zh": "应用 {app} 尚未生成 Webhook 签名密钥",
        "en": "app {app} has no webhook signing secret yet",
    },
    "channel_secret_missing": {
        "zh": "通知渠道 {channel} 尚未配置 Webhook 地址",
        "en": "notification channel {channel} has no webhook address yet",
    },
    "robot_refused": {
        "zh": "{robot} 机器人拒绝了消息：{code} {detail}",
        "en": "the {robot} robot refused the message: {code} {detail}",
    },
    "smtp_missing": {
        "zh": "未配置 SMTP（TANGRAM_SMTP_HOST）",
        "en": "SMTP is not configured (TANGRAM_SMTP_HOST)",
    },
}


class NotifyInputError(InvalidInput):
    catalogue = MESSAGES


class NotifyNotFound(NotFound):
    catalogue = MESSAGES


class DeliveryFailed(Conflict):
    """A delivery the other side refused; the job runner retries it and keeps its message."""

    catalogue = MESSAGES
