"""Records: the write unit, reads, write steps, references, history, events, merge, sharing.

``WriteUnit`` is the one door for record changes; ``RecordService`` is what callers use for a
single change or a read; ``WriteStep`` is what a plugin implements to act inside every write.
"""

from engine.records import after_commit
from engine.records.events import (
    EventBus,
    RecordCreated,
    RecordDeleted,
    RecordEvent,
    RecordPurged,
    RecordRestored,
    RecordUpdated,
)
from engine.records.file_store import FileStore
from engine.records.job_queue import RetryPolicy, enqueue_job
from engine.records.loader import related_reader
from engine.records.service import Page, RecordService
from engine.records.steps import default_steps
from engine.records.steps.base import Batch, WriteOp, WriteStep
from engine.records.writer import WriteOptions, Writer, WriteUnit

__all__ = [
    "Batch",
    "EventBus",
    "FileStore",
    "Page",
    "RecordCreated",
    "RecordDeleted",
    "RecordEvent",
    "RecordPurged",
    "RecordRestored",
    "RecordService",
    "RecordUpdated",
    "RetryPolicy",
    "WriteOp",
    "WriteOptions",
    "WriteStep",
    "WriteUnit",
    "Writer",
    "after_commit",
    "default_steps",
    "enqueue_job",
    "related_reader",
]
