"""The flow engine: approvals, automations, timers and notifications, as a kernel plugin."""
