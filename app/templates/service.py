"""Details templates: the text crmsync adds to the body of appointments and tasks it sends.

Templates are sandboxed Jinja2 rendered as plain text (no autoescaping: the body is not HTML).
Undefined names are errors rather than silent blanks, so a typo is refused when the template is
saved; None renders as empty text. A template is saved only if it renders against sample
contexts covering every linked record present, absent, and present with empty fields.
"""

from __future__ import annotations

import logging
import operator
from collections.abc import Callable
from functools import lru_cache
from types import TracebackType
from typing import Any

from jinja2 import StrictUndefined, Template, TemplateSyntaxError
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment
from sqlalchemy.orm import Session

from app.kit.errors import InvalidInput, NotFound
from app.kit.sync_terms import SyncEntity
from app.models.config import DetailsTemplate
from app.templates import repository
from app.templates.schemas import (
    CaseDetails,
    CompanyDetails,
    DetailsContext,
    OpportunityDetails,
    PersonDetails,
    TemplateRead,
    TemplateWrite,
    UserDetails,
)

logger = logging.getLogger("crmsync.templates")

TEMPLATED_ENTITIES = (SyncEntity.APPOINTMENTS, SyncEntity.TASKS)
OUTPUT_LIMIT = 4096
# Bounds on the cheap ways to make a template burn CPU or memory without printing anything.
_RANGE_LIMIT = 1000
_EXPONENT_LIMIT = 64

DEFAULT_TEMPLATE = """\
{%- if company and company.name %}
Company: {{ company.name }}{% if company.phone %} ({{ company.phone }}){% endif %}
{%- endif %}
{%- if person and (person.first_name or person.last_name) %}
Contact: {{ [person.salutation, person.first_name, person.last_name] | select | join(" ") }}
{%- set reach = [person.phone, person.email] | select | join(", ") %}
{%- if reach %} ({{ reach }}){% endif %}
{%- endif %}
{%- if opportunity and opportunity.description %}
Opportunity: {{ opportunity.description }}
{%- if opportunity.stage %} ({{ opportunity.stage }}){% endif %}
{%- endif %}
{%- if case and case.description %}
Case: {{ case.description }}{% if case.status %} ({{ case.status }}){% endif %}
{%- endif %}
"""


class _DetailsEnvironment(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Context, operator_name: str, left: Any, right: Any) -> Any:
        if operator_name == "**":
            if isinstance(right, int) and right > _EXPONENT_LIMIT:
                raise SecurityError(f"exponents above {_EXPONENT_LIMIT} are not allowed")
            return operator.pow(left, right)
        for sequence, times in ((left, right), (right, left)):
            repeats = isinstance(sequence, str | list | tuple) and isinstance(times, int)
            if repeats and len(sequence) * times > OUTPUT_LIMIT:
                raise SecurityError(f"repetition beyond {OUTPUT_LIMIT} items")
        return operator.mul(left, right)


def _bounded_range(*args: int) -> range:
    numbers = range(*args)
    if len(numbers) > _RANGE_LIMIT:
        raise SecurityError(f"range() is limited to {_RANGE_LIMIT} numbers in templates")
    return numbers


def _none_as_empty(value: Any) -> Any:
    return "" if value is None else value


@lru_cache(maxsize=1)
def _environment() -> _DetailsEnvironment:
    environment = _DetailsEnvironment(
        autoescape=False, undefined=StrictUndefined, finalize=_none_as_empty
    )
    environment.globals["range"] = _bounded_range
    return environment


@lru_cache(maxsize=32)
def _compile(source: str) -> Template:
    # Cached by source, so the engine's per-item rendering parses each template once.
    return _environment().from_string(source)


def _render(template: Template, context: DetailsContext) -> str:
    """The text, cut off just past OUTPUT_LIMIT so that a runaway template stops early."""
    parts: list[str] = []
    size = 0
    for chunk in template.generate(context.model_dump()):
        parts.append(chunk)
        size += len(chunk)
        if size > OUTPUT_LIMIT:
            break
    # Trailing spaces (an empty value at a line's end) are noise in a plain-text body.
    lines = "".join(parts).splitlines()
    return "\n".join(line.rstrip() for line in lines).strip("\n")


_FULL = DetailsContext(
    company=CompanyDetails(name="Acme Ltd", phone="+44 20 7946 0000", website="acme.example"),
    person=PersonDetails(
        salutation="Ms",
        first_name="Jane",
        last_name="Doe",
        email="jane.doe@acme.example",
        phone="+44 20 7946 0001",
    ),
    opportunity=OpportunityDetails(
        description="Renewal 2025", stage="Proposal", status="In Progress"
    ),
    case=CaseDetails(description="Printer jams", status="Pending"),
    user=UserDetails(logon="jdoe", name="John Doe"),
)
_RECORDS = tuple(DetailsContext.model_fields)

SAMPLE_CONTEXTS: tuple[tuple[str, DetailsContext], ...] = (
    ("with every linked record filled in", _FULL),
    ("with no linked records", DetailsContext()),
    (
        "with linked records whose fields are all empty",
        DetailsContext.model_validate({name: {} for name in _RECORDS}),
    ),
    *(
        (f"with only a {name} linked", DetailsContext.model_validate({name: getattr(_FULL, name)}))
        for name in _RECORDS
    ),
)


def _template_line(traceback: TracebackType | None) -> int | None:
    """The template line of a render error: Jinja rewrites tracebacks to point into it."""
    line = None
    while traceback is not None:
        if traceback.tb_frame.f_code.co_filename == "<template>":
            line = traceback.tb_lineno
        traceback = traceback.tb_next
    return line


def check_template(source: str) -> None:
    """Refuses a template that does not parse, fails to render, or renders too much."""
    try:
        template = _compile(source)
    except TemplateSyntaxError as exc:
        raise InvalidInput(f"body.template: line {exc.lineno}: {exc.message}") from None
    for description, context in SAMPLE_CONTEXTS:
        try:
            text = _render(template, context)
        # Any error a template can raise (undefined names, sandbox refusals, a division by
        # zero …) makes it unusable, and is reported to the administrator who wrote it.
        except Exception as exc:  # noqa: BLE001
            line = _template_line(exc.__traceback__)
            where = f"line {line}: " if line else ""
            raise InvalidInput(
                f"body.template: {where}does not render {description}: {exc}"
            ) from None
        if len(text) > OUTPUT_LIMIT:
            raise InvalidInput(
                f"body.template: renders more than {OUTPUT_LIMIT} characters {description}"
            )


def _templated(entity: SyncEntity) -> SyncEntity:
    if entity not in TEMPLATED_ENTITIES:
        raise NotFound(f"{entity} have no details template; appointments and tasks do")
    return entity


def _to_read(entity: SyncEntity, stored: DetailsTemplate | None) -> TemplateRead:
    if stored is None:
        return TemplateRead(entity=entity, template=DEFAULT_TEMPLATE, is_default=True)
    return TemplateRead(entity=entity, template=stored.template, is_default=False)


def read_template(db: Session, entity: SyncEntity) -> TemplateRead:
    return _to_read(entity, repository.get_template(db, _templated(entity).value))


def replace_template(db: Session, entity: SyncEntity, body: TemplateWrite) -> TemplateRead:
    _templated(entity)
    check_template(body.template)
    stored = repository.get_template(db, entity.value)
    if stored is None:
        stored = DetailsTemplate(entity=entity.value, template=body.template)
        db.add(stored)
    else:
        stored.template = body.template
    db.flush()
    return _to_read(entity, stored)


def reset_template(db: Session, entity: SyncEntity) -> TemplateRead:
    repository.delete_template(db, _templated(entity).value)
    return _to_read(entity, None)


def render_details(db: Session, entity: SyncEntity, context: DetailsContext) -> str:
    """The details text for an item sent to Outlook, at most OUTPUT_LIMIT characters."""
    return details_renderer(db, entity)(context)


def details_renderer(db: Session, entity: SyncEntity) -> Callable[[DetailsContext], str]:
    """render_details for many items: the template is read once.

    A saved template that fails on an item's data (a case the sample contexts missed) falls
    back to the default template, so the item still synchronizes; the failure is logged.
    """
    stored = repository.get_template(db, _templated(entity).value)
    source = stored.template if stored is not None else None

    def render(context: DetailsContext) -> str:
        if source is not None:
            try:
                return _render(_compile(source), context)[:OUTPUT_LIMIT]
            except Exception:  # the same policy as check_template
                logger.warning(
                    "the %s details template failed; using the default", entity, exc_info=True
                )
        return _render(_compile(DEFAULT_TEMPLATE), context)[:OUTPUT_LIMIT]

    return render
