"""The kernel's write steps, one module per field-type concern, in the order they run."""

from engine.steps.auto_numbers import AutoNumbers
from engine.steps.duplicates import DuplicateRecord, Duplicates, DuplicateWarning
from engine.steps.files import Files
from engine.steps.links import Links
from engine.steps.rollups import Rollups
from engine.steps.sub_tables import SubTables
from engine.write_steps import WriteStep

__all__ = [
    "AutoNumbers",
    "DuplicateRecord",
    "DuplicateWarning",
    "Duplicates",
    "Files",
    "Links",
    "Rollups",
    "SubTables",
    "default_steps",
]


def default_steps() -> list[WriteStep]:
    """Auto-numbers first (duplicate rules may read them), then duplicates, links, children,
    and roll-ups last so they see every child row of the write."""
    return [AutoNumbers(), Files(), Duplicates(), Links(), SubTables(), Rollups()]
