"""The flow engine: approvals, automations, timers and SLAs as flows — JSON graphs in the app
package, run as durable instances. A kernel plugin (entry point ``tangram.plugins``:
``flow_engine.plugin``); it reaches the kernel only through ``engine``'s public face.
"""

from flow_engine.calendar import Calendar, Duration
from flow_engine.definitions import Flow
from flow_engine.jobs import handlers as job_handlers
from flow_engine.messages import MESSAGES, FlowConflict, FlowForbidden, FlowInputError, FlowNotFound
from flow_engine.registry import runner_of
from flow_engine.runtime import Run, Runner
from flow_engine.service import FlowService

__all__ = [
    "MESSAGES",
    "Calendar",
    "Duration",
    "Flow",
    "FlowConflict",
    "FlowForbidden",
    "FlowInputError",
    "FlowNotFound",
    "FlowService",
    "Run",
    "Runner",
    "job_handlers",
    "runner_of",
]
