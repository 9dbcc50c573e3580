"""Graph JSON held against Microsoft's Graph v1.0 metadata (CSDL): names, types, enum members.

The metadata is tests/fixtures/graph-schema/graph-v1.0-csdl.xml (MIT, see its LICENSE). For an
object of a given type, every property must be declared on the type or a base type (structural
or navigation), every value must have the declared type (Edm primitives by their JSON form,
complex and entity types recursively, collections as arrays), enum values must be members,
and null is accepted only where the property is nullable. OData annotations (`@odata.*`,
`@removed`) are not properties and are skipped; `@odata.type` selects a derived type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

CSDL = Path(__file__).resolve().parents[1] / "fixtures" / "graph-schema" / "graph-v1.0-csdl.xml"
EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
NAMESPACE = "microsoft.graph"
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,7})?(Z|[+-]\d{2}:\d{2})$")
_TIME = re.compile(r"^\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?$")


@dataclass
class Property:
    type: str
    nullable: bool


@dataclass
class StructuredType:
    name: str
    base: str | None
    properties: dict[str, Property] = field(default_factory=dict)
    open: bool = False


@dataclass
class Schema:
    types: dict[str, StructuredType]
    enums: dict[str, tuple[frozenset[str], bool]]

    def properties(self, type_name: str) -> dict[str, Property]:
        found: dict[str, Property] = {}
        current: str | None = type_name
        while current is not None:
            declared = self.types[current]
            found = {**declared.properties, **found}
            current = declared.base
        return found

    def derives_from(self, derived: str, base: str) -> bool:
        current: str | None = derived
        while current is not None:
            if current == base:
                return True
            current = self.types[current].base
        return False


def _local(qualified: str) -> str:
    for prefix in ("graph.", f"{NAMESPACE}."):
        if qualified.startswith(prefix):
            return qualified[len(prefix) :]
    return qualified


@cache
def schema() -> Schema:
    root = etree.parse(str(CSDL)).getroot()
    types: dict[str, StructuredType] = {}
    enums: dict[str, tuple[frozenset[str], bool]] = {}
    for element in root.iter(f"{EDM}EntityType", f"{EDM}ComplexType"):
        if element.getparent().get("Namespace") != NAMESPACE:
            continue
        declared = StructuredType(
            element.get("Name"),
            _local(element.get("BaseType")) if element.get("BaseType") else None,
            open=element.get("OpenType") == "true",
        )
        for prop in element:
            if prop.tag in (f"{EDM}Property", f"{EDM}NavigationProperty"):
                nullable = prop.get("Nullable") != "false"
                declared.properties[prop.get("Name")] = Property(prop.get("Type"), nullable)
        types[declared.name] = declared
    for element in root.iter(f"{EDM}EnumType"):
        members = frozenset(m.get("Name") for m in element.iter(f"{EDM}Member"))
        enums[element.get("Name")] = (members, element.get("IsFlags") == "true")
    return Schema(types, enums)


def validate(value: Any, type_name: str) -> list[str]:
    """The problems of a JSON value as an instance of a Graph type (e.g. 'contact')."""
    problems: list[str] = []
    _check_object(value, type_name, type_name, problems)
    return problems


def _check_object(value: Any, type_name: str, where: str, problems: list[str]) -> None:
    model = schema()
    if not isinstance(value, dict):
        problems.append(f"{where}: expected a {type_name} object, got {type(value).__name__}")
        return
    declared_type = value.get("@odata.type")
    if isinstance(declared_type, str):
        derived = _local(declared_type.lstrip("#"))
        if derived not in model.types or not model.derives_from(derived, type_name):
            problems.append(f"{where}: @odata.type {declared_type} is not a {type_name}")
            return
        type_name = derived
    properties = model.properties(type_name)
    for name, item in value.items():
        if name.startswith("@") or "@" in name:
            continue
        prop = properties.get(name)
        if prop is None:
            problems.append(f"{where}: {type_name} has no property {name!r}")
            continue
        _check_value(item, prop, f"{where}.{name}", problems)


def _check_value(value: Any, prop: Property, where: str, problems: list[str]) -> None:
    if value is None:
        if not prop.nullable:
            problems.append(f"{where}: null where {prop.type} is not nullable")
        return
    collection = re.fullmatch(r"Collection\((.+)\)", prop.type)
    if collection:
        if not isinstance(value, list):
            problems.append(f"{where}: expected an array of {collection.group(1)}")
            return
        for n, element in enumerate(value):
            _check_value(element, Property(collection.group(1), False), f"{where}[{n}]", problems)
        return
    _check_single(value, prop.type, where, problems)


def _check_single(value: Any, type_name: str, where: str, problems: list[str]) -> None:
    model = schema()
    if type_name.startswith("Edm."):
        problem = _primitive_problem(value, type_name)
        if problem:
            problems.append(f"{where}: {problem}")
        return
    local = _local(type_name)
    if local in model.enums:
        members, flags = model.enums[local]
        values = value.split(",") if flags and isinstance(value, str) else [value]
        if not all(isinstance(v, str) and v.strip() in members for v in values):
            problems.append(f"{where}: {value!r} is not a member of {local}")
        return
    if local in model.types:
        _check_object(value, local, where, problems)
        return
    problems.append(f"{where}: unknown type {type_name}")


def _primitive_problem(value: Any, type_name: str) -> str | None:
    checks = {
        "Edm.String": lambda v: isinstance(v, str),
        "Edm.Boolean": lambda v: isinstance(v, bool),
        "Edm.Int32": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "Edm.Int64": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "Edm.Int16": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "Edm.Byte": lambda v: isinstance(v, int) and 0 <= v < 256,
        "Edm.Double": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "Edm.Single": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "Edm.Decimal": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "Edm.Guid": lambda v: isinstance(v, str) and len(v) == 36,
        "Edm.Binary": lambda v: isinstance(v, str),
        "Edm.Stream": lambda v: isinstance(v, str),
        "Edm.Duration": lambda v: isinstance(v, str) and v.startswith(("P", "-P")),
        "Edm.DateTimeOffset": lambda v: isinstance(v, str) and bool(_DATETIME.match(v)),
        "Edm.Date": lambda v: isinstance(v, str) and _is_date(v),
        "Edm.TimeOfDay": lambda v: isinstance(v, str) and bool(_TIME.match(v)),
    }
    check = checks.get(type_name)
    if check is None:
        return f"unsupported primitive {type_name}"
    return None if check(value) else f"{value!r} is not an {type_name}"


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return True


def assert_valid(value: Any, type_name: str) -> None:
    problems = validate(value, type_name)
    assert not problems, "\n".join(problems)
