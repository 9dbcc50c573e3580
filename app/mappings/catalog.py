"""What can be mapped: the CRM paths and Outlook fields the engine knows, and the defaults.

A CRM path is a column of the entity's own table (`pers_*`, `comm_*`) or a path into a related
record the engine resolves (`company.comp_name`, `email.Business`, `address.street` …).
"""

from __future__ import annotations

from dataclasses import dataclass

from app.kit.sync_terms import SyncEntity


@dataclass(frozen=True)
class EntityFields:
    crm_paths: tuple[str, ...]
    outlook_fields: tuple[str, ...]
    # (crm path, outlook field) pairs of the default mapping, all in both directions.
    default: tuple[tuple[str, str], ...]
    # Outlook fields the engine cannot do without: all of `required`, one of `required_any`.
    required: tuple[str, ...] = ()
    required_any: tuple[str, ...] = ()
    # The entity's own CRM table: besides its paths, a field in `movable` may name any text
    # column of it, custom ones included (as Sage's plugin lets an administrator do); the other
    # fields keep their default column, because their values convert (times, flags, series).
    table: str | None = None
    movable: tuple[str, ...] = ()


CONTACTS = EntityFields(
    crm_paths=(
        "pers_salutation",
        "pers_firstname",
        "pers_middlename",
        "pers_lastname",
        "pers_suffix",
        "pers_title",
        "pers_department",
        "pers_website",
        "pers_status",
        "company.comp_name",
        "company.comp_website",
        "email.Business",
        "email.Private",
        "phone.Business",
        "phone.Home",
        "phone.Mobile",
        "phone.Fax",
        "address.street",  # addr_address1..4 joined by new lines
        "address.addr_city",
        "address.addr_state",
        "address.addr_postcode",
        "address.addr_country",
    ),
    outlook_fields=(
        "title",
        "first_name",
        "middle_name",
        "last_name",
        "suffix",
        "job_title",
        "department",
        "web_page",
        "company",
        "email1",
        "email2",
        "email3",
        "business_phone",
        "home_phone",
        "mobile_phone",
        "business_fax",
        "other_phone",
        "business_street",
        "business_city",
        "business_state",
        "business_postcode",
        "business_country",
        "home_street",
        "home_city",
        "home_state",
        "home_postcode",
        "home_country",
        "nickname",
        "office",
        "profession",
        "manager",
        "assistant_name",
    ),
    default=(
        ("pers_salutation", "title"),
        ("pers_firstname", "first_name"),
        ("pers_middlename", "middle_name"),
        ("pers_lastname", "last_name"),
        ("pers_suffix", "suffix"),
        ("pers_title", "job_title"),
        ("pers_department", "department"),
        ("pers_website", "web_page"),
        ("company.comp_name", "company"),
        ("email.Business", "email1"),
        ("email.Private", "email2"),
        ("phone.Business", "business_phone"),
        ("phone.Home", "home_phone"),
        ("phone.Mobile", "mobile_phone"),
        ("phone.Fax", "business_fax"),
        ("address.street", "business_street"),
        ("address.addr_city", "business_city"),
        ("address.addr_state", "business_state"),
        ("address.addr_postcode", "business_postcode"),
        ("address.addr_country", "business_country"),
    ),
    required_any=("first_name", "last_name", "email1"),
)

APPOINTMENTS = EntityFields(
    crm_paths=(
        "comm_subject",
        "comm_location",
        "comm_datetime",
        "comm_todatetime",
        "comm_isalldayevent",
        "comm_note",
        "comm_notifytime",
        "comm_private",
        "comm_organizer",
        "comm_priority",
        "comm_status",
        "attendees",
        "comm_recurrencerule",
    ),
    outlook_fields=(
        "subject",
        "location",
        "start",
        "end",
        "is_all_day",
        "body",
        "reminder",
        "private",
        "organizer",
        "importance",
        "attendees",
        "recurrence",
        "categories",
    ),
    default=(
        ("comm_subject", "subject"),
        ("comm_location", "location"),
        ("comm_datetime", "start"),
        ("comm_todatetime", "end"),
        ("comm_isalldayevent", "is_all_day"),
        ("comm_note", "body"),
        ("comm_notifytime", "reminder"),
        ("comm_private", "private"),
        ("comm_organizer", "organizer"),
        ("comm_priority", "importance"),
        ("attendees", "attendees"),
        ("comm_recurrencerule", "recurrence"),
    ),
    required=("subject", "start", "end"),
    table="communication",
    movable=("subject", "location", "body"),
)

TASKS = EntityFields(
    crm_paths=(
        "comm_subject",
        "comm_note",
        "comm_datetime",  # the due date
        "comm_todatetime",  # the start date
        "comm_notifytime",
        "comm_priority",
        "comm_status",
        "comm_percentcomplete",
        "comm_completedtime",
        "comm_private",
    ),
    outlook_fields=(
        "subject",
        "body",
        "due_date",
        "start_date",
        "reminder",
        "importance",
        "status",
        "percent_complete",
        "complete_date",
        "private",
        "categories",
    ),
    default=(
        ("comm_subject", "subject"),
        ("comm_note", "body"),
        ("comm_datetime", "due_date"),
        ("comm_todatetime", "start_date"),
        ("comm_notifytime", "reminder"),
        ("comm_priority", "importance"),
        ("comm_status", "status"),
        ("comm_percentcomplete", "percent_complete"),
        ("comm_completedtime", "complete_date"),
        ("comm_private", "private"),
    ),
    required=("subject",),
    table="communication",
    movable=("subject", "body"),
)

FIELDS = {
    SyncEntity.CONTACTS: CONTACTS,
    SyncEntity.APPOINTMENTS: APPOINTMENTS,
    SyncEntity.TASKS: TASKS,
}
