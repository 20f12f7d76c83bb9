"""Form layouts: trees of sections, tabs and columns that place fields by their stable id.

An entity can have several forms (a short "quick create" and a full one). Layout nodes carry
the same conditions as fields (``visible_if``, ``required_if``, ``readonly_if``, rule DSL): a
section's condition applies to every field inside it. Layout is its own tree, never fake fields.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from form_engine.labels import Label

Identifier = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", min_length=1, max_length=50)]
DSL = Annotated[str, Field(min_length=1, max_length=4000)]
#: The name of the every-field form an entity has without declaring it (a declared form may
#: take the name).
DEFAULT_FORM = "default"


class Conditions(BaseModel):
    """Rule-DSL conditions shared by fields and layout nodes; None means "always" / "never"."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    visible_if: DSL | None = None
    required_if: DSL | None = None
    readonly_if: DSL | None = None

    def condition_items(self) -> Iterator[tuple[str, str]]:
        for key in ("visible_if", "required_if", "readonly_if"):
            text = getattr(self, key)
            if text is not None:
                yield key, text


class FieldItem(Conditions):
    """One field placed on the form, by id; help and placeholder override the field's own."""

    kind: Literal["field"] = "field"
    field: Identifier
    help: Label | None = None
    placeholder: Label | None = None
    #: Columns of a 12-column grid this field spans.
    span: int = Field(default=12, ge=1, le=12)


class Section(Conditions):
    kind: Literal["section"] = "section"
    id: Identifier | None = None
    label: Label | None = None
    help: Label | None = None
    collapsed: bool = False
    children: list[LayoutNode] = Field(default_factory=list)


class Column(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    #: Share of the row on a 12-column grid.
    width: int = Field(default=6, ge=1, le=12)
    children: list[LayoutNode] = Field(default_factory=list)


class Columns(Conditions):
    kind: Literal["columns"] = "columns"
    columns: list[Column] = Field(min_length=1, max_length=4)


class Tab(Conditions):
    id: Identifier | None = None
    label: Label
    children: list[LayoutNode] = Field(default_factory=list)


class Tabs(Conditions):
    kind: Literal["tabs"] = "tabs"
    tabs: list[Tab] = Field(min_length=1)


def _node_kind(value: Any) -> str:
    """A node's kind: its ``kind``, or, when an export left the default out, its telling key."""
    if isinstance(value, dict):
        if "kind" in value:
            return str(value["kind"])
        return next((kind for kind in ("field", "columns", "tabs") if kind in value), "section")
    return str(getattr(value, "kind", "field"))


LayoutNode = Annotated[
    Annotated[FieldItem, Tag("field")]
    | Annotated[Section, Tag("section")]
    | Annotated[Columns, Tag("columns")]
    | Annotated[Tabs, Tag("tabs")],
    Discriminator(_node_kind),
]

Section.model_rebuild()
Column.model_rebuild()
Tab.model_rebuild()


class FormDef(BaseModel):
    """One named form of an entity."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Identifier
    label: Label
    layout: list[LayoutNode] = Field(default_factory=list)


def children_of(node: Any) -> Iterator[tuple[str, Any]]:
    """The child nodes of a layout node with their JSON-pointer suffix."""
    if isinstance(node, Section):
        for i, child in enumerate(node.children):
            yield f"/children/{i}", child
    elif isinstance(node, Columns):
        for i, column in enumerate(node.columns):
            for j, child in enumerate(column.children):
                yield f"/columns/{i}/children/{j}", child
    elif isinstance(node, Tabs):
        for i, tab in enumerate(node.tabs):
            for j, child in enumerate(tab.children):
                yield f"/tabs/{i}/children/{j}", child


def walk(
    nodes: list[Any], pointer: str, ancestors: tuple[Conditions, ...] = ()
) -> Iterator[tuple[str, Any, tuple[Conditions, ...]]]:
    """Every node with its pointer and the condition-bearing nodes above it (tabs included)."""
    for i, node in enumerate(nodes):
        at = f"{pointer}/{i}"
        yield at, node, ancestors
        inner = (*ancestors, node)
        if isinstance(node, Tabs):
            for t, tab in enumerate(node.tabs):
                yield f"{at}/tabs/{t}", tab, inner
                yield from walk(tab.children, f"{at}/tabs/{t}/children", (*inner, tab))
        elif isinstance(node, Columns):
            for c, column in enumerate(node.columns):
                yield from walk(column.children, f"{at}/columns/{c}/children", inner)
        elif isinstance(node, Section):
            yield from walk(node.children, f"{at}/children", inner)


def placed_fields(form: FormDef) -> Iterator[tuple[str, FieldItem, tuple[Conditions, ...]]]:
    """The field items of a form in layout order, with pointer and enclosing nodes."""
    for pointer, node, ancestors in walk(form.layout, "/layout"):
        if isinstance(node, FieldItem):
            yield pointer, node, ancestors
