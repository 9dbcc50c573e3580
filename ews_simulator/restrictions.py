"""FindItem restrictions and sort orders, evaluated against stored items.

Values compare by the property's type: datetimes as instants, numbers numerically, booleans as
booleans and strings case-insensitively, as Exchange compares them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from ews_simulator.paths import EXTENDED, INDEXED, Path, is_path, parse_path
from ews_simulator.soap import EwsError
from ews_simulator.store import Item
from ews_simulator.xml import Element, find_t, format_datetime, local, parse_bool, parse_datetime
from ews_simulator.xsd_tables import BOOLEAN_ELEMENTS, DATETIME_ELEMENTS

Predicate = Callable[[Item], bool]
COMPUTED_VALUES: dict[str, Callable[[Item], str]] = {
    "ItemId": lambda item: item.id,
    "DateTimeCreated": lambda item: format_datetime(item.created),
    "LastModifiedTime": lambda item: format_datetime(item.last_modified),
    "HasAttachments": lambda item: "true" if item.attachments else "false",
    "ItemClass": lambda item: {
        "Message": "IPM.Note",
        "CalendarItem": "IPM.Appointment",
        "Contact": "IPM.Contact",
        "Task": "IPM.Task",
    }[item.kind],
}
NUMERIC_EXTENDED_TYPES = frozenset({"Integer", "Long", "Double", "Float", "Short", "Currency"})


def values(item: Item, path: Path) -> list[str]:
    """The property's values on the item: one, several (multi-valued), or none if unset."""
    if path.kind == EXTENDED:
        prop = item.extended.get(path.name)
        if prop is None:
            return []
        single = find_t(prop, "Value")
        if single is not None:
            return [single.text or ""]
        many = find_t(prop, "Values")
        return [v.text or "" for v in many] if many is not None else []
    el = item.fields.get(path.name)
    if el is None:
        computed = COMPUTED_VALUES.get(path.name)
        return [computed(item)] if computed else []
    if path.kind == INDEXED:
        for entry in el:
            if entry.get("Key") == path.index:
                if path.part:
                    part = find_t(entry, path.part)
                    return [part.text or ""] if part is not None else []
                return [entry.text or ""]
        return []
    if len(el) == 0:
        return [el.text or ""]
    # Complex properties (recipients, categories) match on any of their leaf values.
    return [leaf.text for leaf in el.iter() if len(leaf) == 0 and leaf.text]


def _typed(path: Path, value: str) -> Any:
    kind = path.property_type if path.kind == EXTENDED else None
    try:
        if path.name in DATETIME_ELEMENTS or kind == "SystemTime":
            return parse_datetime(value)
        if path.name in BOOLEAN_ELEMENTS or kind == "Boolean":
            return parse_bool(value)
        if kind in NUMERIC_EXTENDED_TYPES or path.name in ("PercentComplete", "Size"):
            return float(value)
    except ValueError as e:
        raise EwsError("ErrorInvalidValueForProperty", f"Bad value {value!r}") from e
    return value.lower()


COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "IsEqualTo": lambda a, b: a == b,
    "IsNotEqualTo": lambda a, b: a != b,
    "IsGreaterThan": lambda a, b: a > b,
    "IsGreaterThanOrEqualTo": lambda a, b: a >= b,
    "IsLessThan": lambda a, b: a < b,
    "IsLessThanOrEqualTo": lambda a, b: a <= b,
}


def compile_restriction(el: Element) -> Predicate:
    kind = local(el)
    if kind == "Restriction":
        if len(el) != 1:
            raise EwsError("ErrorInvalidRestriction", "A restriction needs one expression.")
        return compile_restriction(el[0])
    if kind in ("And", "Or"):
        parts = [compile_restriction(child) for child in el]
        if kind == "And":
            return lambda item: all(p(item) for p in parts)
        return lambda item: any(p(item) for p in parts)
    if kind == "Not":
        inner = compile_restriction(el[0])
        return lambda item: not inner(item)
    if kind == "Exists":
        path = parse_path(el[0])
        return lambda item: bool(values(item, path))
    if kind == "Contains":
        return _contains(el)
    if kind in COMPARISONS:
        return _comparison(el, COMPARISONS[kind], kind == "IsNotEqualTo")
    raise EwsError("ErrorUnsupportedQueryFilter", f"Unsupported restriction {kind}.")


def _comparison(el: Element, compare: Callable[[Any, Any], bool], negated: bool) -> Predicate:
    path = parse_path(el[0])
    operand = find_t(el, "FieldURIOrConstant")
    if operand is None or len(operand) != 1:
        raise EwsError("ErrorInvalidRestriction", "A comparison needs FieldURIOrConstant.")
    target = operand[0]
    if is_path(target):
        other = parse_path(target)

        def against_property(item: Item) -> bool:
            left, right = values(item, path), values(item, other)
            return any(compare(_typed(path, a), _typed(other, b)) for a in left for b in right)

        return against_property
    constant = _typed(path, target.get("Value") or "")

    def against_constant(item: Item) -> bool:
        found = values(item, path)
        if not found:
            # A missing property is unequal to everything and comparable to nothing.
            return negated
        typed = [_typed(path, v) for v in found]
        if negated:
            return all(compare(v, constant) for v in typed)
        return any(compare(v, constant) for v in typed)

    return against_constant


def _contains(el: Element) -> Predicate:
    path = parse_path(el[0])
    constant_el = find_t(el, "Constant")
    needle = (constant_el.get("Value") or "") if constant_el is not None else ""
    mode = el.get("ContainmentMode") or "Substring"
    comparison = el.get("ContainmentComparison") or "Exact"
    fold = comparison != "Exact"
    if fold:
        needle = needle.lower()

    def match(value: str) -> bool:
        hay = value.lower() if fold else value
        if mode == "FullString":
            return hay == needle
        if mode == "Prefixed":
            return hay.startswith(needle)
        if mode == "PrefixOnWords":
            return any(word.startswith(needle) for word in hay.split())
        if mode == "ExactPhrase":
            return needle in hay
        return needle in hay

    return lambda item: any(match(v) for v in values(item, path))


def sort_items(items: list[Item], sort_order: Element | None) -> list[Item]:
    if sort_order is None:
        return items
    # Stable sorts applied from the least to the most significant key.
    for field_order in reversed(list(sort_order)):
        path = parse_path(field_order[0])
        descending = field_order.get("Order") == "Descending"
        present = [i for i in items if values(i, path)]
        missing = [i for i in items if not values(i, path)]
        present.sort(key=_sort_key(path), reverse=descending)
        # Exchange sorts items lacking the property before the rest in ascending order.
        items = present + missing if descending else missing + present
    return items


def _sort_key(path: Path) -> Callable[[Item], Any]:
    def key(item: Item) -> Any:
        return _typed(path, values(item, path)[0])

    return key


def window(start: str | None, end: str | None) -> tuple[datetime, datetime]:
    if not start or not end:
        raise EwsError("ErrorInvalidRequest", "CalendarView needs StartDate and EndDate.")
    try:
        return parse_datetime(start), parse_datetime(end)
    except ValueError as e:
        raise EwsError("ErrorInvalidRequest", "Bad CalendarView dates.") from e
