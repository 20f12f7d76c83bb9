"""The kernel's write steps, one module per field-type concern, in the order they run."""

from engine.records.steps.auto_numbers import AutoNumbers
from engine.records.steps.base import WriteStep
from engine.records.steps.duplicates import DuplicateRecord, Duplicates, DuplicateWarning
from engine.records.steps.files import Files
from engine.records.steps.links import Links
from engine.records.steps.rollups import Rollups
from engine.records.steps.search_keys import SearchKeys
from engine.records.steps.sub_tables import SubTables

__all__ = [
    "AutoNumbers",
    "DuplicateRecord",
    "DuplicateWarning",
    "Duplicates",
    "Files",
    "Links",
    "Rollups",
    "SearchKeys",
    "SubTables",
    "WriteStep",
    "default_steps",
]


def default_steps() -> list[WriteStep]:
    """Auto-numbers first (duplicate rules and search tokens may read them), then duplicates,
    search tokens, links, children, and roll-ups last so they see every child row of the write."""
    return [AutoNumbers(), Files(), Duplicates(), SearchKeys(), Links(), SubTables(), Rollups()]
