"""Load a declarative YAML schema file into an immutable `GraphSchema`.

The loader walks yaml's composed node tree rather than the constructed dicts: every node keeps
its line and column, duplicate mapping keys are visible (plain `safe_load` silently keeps the
last one), and one pass can collect every issue instead of stopping at the first.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml

from graph_schema.errors import SchemaError, SchemaErrorCode, SchemaIssue
from graph_schema.model import (
    IDENTIFIER,
    RESERVED_PREFIX,
    Attribute,
    AttrType,
    Cardinality,
    Entity,
    GraphSchema,
    Relationship,
)

Code = SchemaErrorCode
Node = yaml.Node
Fields = dict[str, tuple[Node, Node]]  # field name -> (key node, value node)

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_BOOL_TAG = "tag:yaml.org,2002:bool"
_NULL_TAG = "tag:yaml.org,2002:null"
_KEY_TYPES = (AttrType.STRING, AttrType.INTEGER)

TOP_FIELDS = ("name", "description", "entities", "relationships")
ENTITY_FIELDS = ("label", "key", "profile", "csv", "description", "attributes")
ATTRIBUTE_FIELDS = ("type", "indexed", "pii", "description")
RELATIONSHIP_FIELDS = (
    "from", "to", "cardinality", "csv", "from_column", "to_column", "attributes", "description",
)  # fmt: skip


class _Reader:
    """Collects issues while the walk goes on; positions come from the node's start mark."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.issues: list[SchemaIssue] = []

    def add(self, code: SchemaErrorCode, node: Node | None, message: str) -> None:
        line, column = (node.start_mark.line + 1, node.start_mark.column + 1) if node else (1, 1)
        self.issues.append(SchemaIssue(code, message, self.file, line, column))

    def fields(self, node: Node, allowed: tuple[str, ...], what: str) -> Fields | None:
        """A mapping's fields by name; unknown and repeated keys are reported, not returned."""
        if not isinstance(node, yaml.MappingNode):
            self.add(Code.INVALID_STRUCTURE, node, f"{what} must be a mapping")
            return None
        found: Fields = {}
        for key, value in node.value:
            name = str(key.value)
            if name not in allowed:
                hint = _did_you_mean(name, allowed)
                self.add(Code.UNKNOWN_FIELD, key, f"unknown field {name!r} in {what}{hint}")
            elif name in found:
                self.add(Code.DUPLICATE_NAME, key, f"field {name!r} repeated in {what}")
            else:
                found[name] = (key, value)
        return found

    def named_entries(self, node: Node, what: str) -> Iterator[tuple[str, Node, Node]]:
        """A `name: spec` mapping; names must be identifiers, not reserved, unique ignoring case."""
        if not isinstance(node, yaml.MappingNode):
            self.add(Code.INVALID_STRUCTURE, node, f"{what}s must be a mapping of name to spec")
            return
        seen: dict[str, str] = {}
        for key, value in node.value:
            name = str(key.value)
            if not self.identifier(key, name, what):
                continue
            if name.casefold() in seen:
                first = seen[name.casefold()]
                self.add(Code.DUPLICATE_NAME, key, f"{what} {name!r} clashes with {first!r}")
                continue
            seen[name.casefold()] = name
            yield name, key, value

    def identifier(self, node: Node, name: str, what: str) -> bool:
        if not IDENTIFIER.match(name):
            self.add(
                Code.INVALID_IDENTIFIER, node,
                f"{what} name {name!r} must match {IDENTIFIER.pattern}",
            )  # fmt: skip
            return False
        if name.startswith(RESERVED_PREFIX):
            self.add(
                Code.RESERVED_NAME, node,
                f"{what} name {name!r}: names starting with {RESERVED_PREFIX!r} are the engine's",
            )  # fmt: skip
            return False
        return True

    def text(self, node: Node, what: str) -> str | None:
        if not isinstance(node, yaml.ScalarNode) or node.tag == _NULL_TAG:
            self.add(Code.INVALID_STRUCTURE, node, f"{what} must be a non-empty text value")
            return None
        return str(node.value)

    def flag(self, node: Node, what: str) -> bool:
        if isinstance(node, yaml.ScalarNode) and node.tag == _BOOL_TAG:
            return str(node.value).lower() in ("true", "yes", "on", "y")
        self.add(Code.INVALID_VALUE, node, f"{what} must be true or false")
        return False

    def csv_name(self, node: Node) -> str | None:
        name = self.text(node, "csv")
        if name is None:
            return None
        if any(c in name for c in "/\\\x00") or name in (".", "..") or not name.strip():
            self.add(Code.INVALID_VALUE, node, f"csv {name!r} must be a plain file name")
            return None
        return name


def _did_you_mean(word: str, choices: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _attr_type(r: _Reader, node: Node) -> AttrType | None:
    name = r.text(node, "type")
    if name is None:
        return None
    try:
        return AttrType(name.lower())
    except ValueError:
        choices = [t.value for t in AttrType]
        hint = _did_you_mean(name.lower(), choices) or f" (one of {', '.join(choices)})"
        r.add(Code.UNKNOWN_TYPE, node, f"unknown type {name!r}{hint}")
        return None


def _attribute(r: _Reader, name: str, node: Node) -> Attribute | None:
    if isinstance(node, yaml.ScalarNode):  # shorthand `email: string`
        return Attribute(name=name, type=_attr_type(r, node) or AttrType.STRING)
    f = r.fields(node, ATTRIBUTE_FIELDS, f"attribute {name!r}")
    if f is None:
        return None
    if "type" not in f:
        r.add(Code.MISSING_FIELD, node, f"attribute {name!r} needs a type")
        return None
    kind = _attr_type(r, f["type"][1])
    indexed = r.flag(f["indexed"][1], "indexed") if "indexed" in f else False
    pii = r.flag(f["pii"][1], "pii") if "pii" in f else False
    description = (r.text(f["description"][1], "description") or "") if "description" in f else ""
    # An unknown type is already reported; a placeholder keeps the key check from cascading.
    kind = kind or AttrType.STRING
    return Attribute(name=name, type=kind, indexed=indexed, pii=pii, description=description)


def _attributes(r: _Reader, f: Fields, owner: str) -> tuple[Attribute, ...]:
    if "attributes" not in f:
        return ()
    found = (_attribute(r, n, v) for n, _, v in r.named_entries(f["attributes"][1], "attribute"))
    return tuple(a for a in found if a is not None)


def _key(r: _Reader, f: Fields, attrs: tuple[Attribute, ...], name: str, node: Node) -> str | None:
    if "key" not in f:
        r.add(Code.MISSING_KEY, node, f"entity {name!r} needs a key attribute (`key: <attribute>`)")
        return None
    key_node = f["key"][1]
    key = r.text(key_node, "key")
    attr = next((a for a in attrs if key and a.name.casefold() == key.casefold()), None)
    if key is not None and attr is None:
        hint = _did_you_mean(key, [a.name for a in attrs])
        r.add(Code.MISSING_KEY, key_node, f"key {key!r} is not an attribute of {name!r}{hint}")
    elif attr is not None and attr.type not in _KEY_TYPES:
        r.add(Code.INVALID_VALUE, key_node, f"key {key!r} must be a string or integer attribute")
        return None
    return attr.name if attr else None


def _entity(r: _Reader, name: str, node: Node) -> Entity | None:
    f = r.fields(node, ENTITY_FIELDS, f"entity {name!r}")
    if f is None:
        return None
    if "attributes" not in f:
        r.add(Code.MISSING_FIELD, node, f"entity {name!r} needs attributes")
    label, label_ok = name, True
    if "label" in f:
        label = r.text(f["label"][1], "label") or name
        label_ok = r.identifier(f["label"][1], label, "label")
    attrs = _attributes(r, f, name)
    key = _key(r, f, attrs, name, node)
    profile = r.flag(f["profile"][1], "profile") if "profile" in f else False
    csv = r.csv_name(f["csv"][1]) if "csv" in f else None
    description = (r.text(f["description"][1], "description") or "") if "description" in f else ""
    if key is None or not label_ok:
        return None
    return Entity(
        name=name, label=label, key=key, attributes=attrs, profile=profile, csv=csv,
        description=description,
    )  # fmt: skip


def _endpoint(r: _Reader, f: Fields, end: str, names: dict[str, str], rel: str) -> str | None:
    if end not in f:
        return None
    node = f[end][1]
    name = r.text(node, end)
    if name is None:
        return None
    if name.casefold() not in names:
        hint = _did_you_mean(name, list(names.values()))
        r.add(Code.DANGLING_RELATIONSHIP, node, f"{rel}: {end} {name!r} is not an entity{hint}")
        return None
    return names[name.casefold()]


def _cardinality(r: _Reader, f: Fields) -> Cardinality:
    if "cardinality" not in f:
        return Cardinality.MANY_TO_MANY
    node = f["cardinality"][1]
    text = (r.text(node, "cardinality") or "").lower().replace("-", "_")
    try:
        return Cardinality(text)
    except ValueError:
        choices = ", ".join(c.value for c in Cardinality)
        r.add(Code.INVALID_VALUE, node, f"cardinality must be one of {choices}")
        return Cardinality.MANY_TO_MANY


def _relationship(
    r: _Reader, rel_type: str, node: Node, names: dict[str, str], keys: dict[str, str]
) -> Relationship | None:
    f = r.fields(node, RELATIONSHIP_FIELDS, f"relationship {rel_type!r}")
    if f is None:
        return None
    for end in ("from", "to"):
        if end not in f:
            r.add(Code.MISSING_FIELD, node, f"relationship {rel_type!r} needs `{end}`")
    source = _endpoint(r, f, "from", names, rel_type)
    target = _endpoint(r, f, "to", names, rel_type)
    cardinality = _cardinality(r, f)
    attrs = _attributes(r, f, rel_type)
    csv = r.csv_name(f["csv"][1]) if "csv" in f else None
    columns = {c: r.text(f[c][1], c) for c in ("from_column", "to_column") if c in f}
    if columns and "csv" not in f:
        r.add(Code.MISSING_FIELD, node, f"relationship {rel_type!r}: join columns need `csv`")
    description = (r.text(f["description"][1], "description") or "") if "description" in f else ""
    if source is None or target is None:
        return None
    # Join columns default to the entities' key names: `customerId` in orders.csv joins Customer.
    return Relationship(
        type=rel_type, source=source, target=target, cardinality=cardinality, attributes=attrs,
        csv=csv,
        source_column=(columns.get("from_column") or keys.get(source)) if csv else None,
        target_column=(columns.get("to_column") or keys.get(target)) if csv else None,
        description=description,
    )  # fmt: skip


def _has_field(node: Node, name: str) -> bool:
    return isinstance(node, yaml.MappingNode) and any(k.value == name for k, _ in node.value)


def _check_labels(r: _Reader, entities: list[tuple[Entity, Node]]) -> None:
    seen: dict[str, str] = {}
    for entity, node in entities:
        folded = entity.label.casefold()
        if folded in seen and seen[folded] != entity.name:
            r.add(Code.DUPLICATE_NAME, node, f"label {entity.label!r} is used by {seen[folded]!r}")
        seen.setdefault(folded, entity.name)


def _schema(r: _Reader, root: Node | None, default_name: str) -> GraphSchema | None:
    if root is None:
        r.add(Code.INVALID_STRUCTURE, None, "the schema file is empty")
        return None
    f = r.fields(root, TOP_FIELDS, "the schema")
    if f is None:
        return None
    if "entities" not in f:
        r.add(Code.MISSING_FIELD, root, "the schema needs `entities`")
        return None
    name = (r.text(f["name"][1], "name") or default_name) if "name" in f else default_name
    entity_entries = list(r.named_entries(f["entities"][1], "entity"))
    names = {n.casefold(): n for n, _, _ in entity_entries}
    built = [(_entity(r, n, v), k) for n, k, v in entity_entries]
    entities = [(e, k) for e, k in built if e is not None]
    _check_labels(r, entities)
    # A declared but broken `profile:` is reported on its own; NO_PROFILE would only cascade.
    declared = any(_has_field(v, "profile") for _, _, v in entity_entries)
    if entity_entries and not declared and not any(e.profile for e, _ in entities):
        r.add(Code.NO_PROFILE, f["entities"][0], "no entity is a profile (`profile: true`)")
    keys = {e.name: e.key for e, _ in entities}
    rels: list[Relationship] = []
    if "relationships" in f:
        for t, _, v in r.named_entries(f["relationships"][1], "relationship"):
            rel = _relationship(r, t, v, names, keys)
            rels += [rel] if rel else []
    return GraphSchema(entities=tuple(e for e, _ in entities), relationships=tuple(rels), name=name)


def parse_schema(text: str, source_name: str = "<schema>") -> GraphSchema:
    """Parse and validate schema YAML text; `source_name` is the file name used in positions.

    Raises SchemaError holding every issue found (code, file, line, column, message).
    """
    r = _Reader(source_name)
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        issue = SchemaIssue(Code.YAML_SYNTAX, exc.problem or str(exc), source_name, line, column)
        raise SchemaError((issue,)) from exc
    except yaml.YAMLError as exc:
        raise SchemaError((SchemaIssue(Code.YAML_SYNTAX, str(exc), source_name, 1, 1),)) from exc
    schema = _schema(r, root, Path(source_name).stem or "schema")
    if r.issues or schema is None:
        raise SchemaError(tuple(sorted(r.issues, key=lambda i: (i.line, i.column))))
    return schema


def load_schema(path: str | Path) -> GraphSchema:
    """Read and validate a schema file. Raises SchemaError, or OSError if it cannot be read."""
    p = Path(path)
    return parse_schema(p.read_text(encoding="utf-8"), str(p))


@lru_cache(maxsize=1)
def default_schema() -> GraphSchema:
    """The bundled default schema (customers, B2B accounts, orders, cases, engagement, leads)."""
    text = resources.files("graph_schema").joinpath("default.yaml").read_text(encoding="utf-8")
    return parse_schema(text, "default.yaml")
