"""The CRM database, in Sage CRM's own table and column names (see docs/crm-schema.md).

Columns are named exactly as Sage CRM names them, because administrators' reports and SQL rely
on them. Flags are 'Y' or NULL; `<prefix>_deleted` = 1 marks a soft-deleted row.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
    func,
    or_,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import CrmTable

# The entity ids Sage CRM uses in emaillink / phonelink.
ENTITY_COMPANY = 5
ENTITY_PERSON = 13

FLAG_SET = "Y"


def live(model: Any) -> ColumnElement[bool]:
    """Sage's soft delete as a condition: the model's rows whose `deleted` is NULL or 0."""
    return or_(model.deleted.is_(None), model.deleted == 0)


def _text(length: int = 255) -> Mapped[str | None]:
    return mapped_column(String(length))


class User(CrmTable):
    __tablename__ = "users"
    crm_prefix = "user"

    user_userid: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_logon: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    user_firstname: Mapped[str | None] = _text(60)
    user_lastname: Mapped[str | None] = _text(60)
    user_emailaddress: Mapped[str | None] = _text()


class Company(CrmTable):
    __tablename__ = "company"
    crm_prefix = "comp"

    comp_companyid: Mapped[int] = mapped_column(Integer, primary_key=True)
    comp_name: Mapped[str | None] = mapped_column(String(255), index=True)
    comp_type: Mapped[str | None] = _text(40)
    comp_status: Mapped[str | None] = _text(40)
    comp_website: Mapped[str | None] = _text()
    comp_primaryaddressid: Mapped[int | None] = mapped_column(Integer)
    comp_primarypersonid: Mapped[int | None] = mapped_column(Integer)
    comp_primaryuserid: Mapped[int | None] = mapped_column(Integer)
    comp_librarydir: Mapped[str | None] = _text()


class Person(CrmTable):
    __tablename__ = "person"
    crm_prefix = "pers"

    pers_personid: Mapped[int] = mapped_column(Integer, primary_key=True)
    pers_companyid: Mapped[int | None] = mapped_column(Integer, index=True)
    pers_primaryaddressid: Mapped[int | None] = mapped_column(Integer)
    pers_primaryuserid: Mapped[int | None] = mapped_column(Integer)
    pers_salutation: Mapped[str | None] = _text(20)
    pers_firstname: Mapped[str | None] = _text(60)
    pers_middlename: Mapped[str | None] = _text(60)
    pers_lastname: Mapped[str | None] = mapped_column(String(60), index=True)
    pers_suffix: Mapped[str | None] = _text(20)
    pers_title: Mapped[str | None] = _text(120)
    pers_department: Mapped[str | None] = _text(120)
    pers_website: Mapped[str | None] = _text()
    pers_status: Mapped[str | None] = _text(40)
    pers_librarydir: Mapped[str | None] = _text()


class Address(CrmTable):
    __tablename__ = "address"
    crm_prefix = "addr"

    addr_addressid: Mapped[int] = mapped_column(Integer, primary_key=True)
    addr_address1: Mapped[str | None] = _text()
    addr_address2: Mapped[str | None] = _text()
    addr_address3: Mapped[str | None] = _text()
    addr_address4: Mapped[str | None] = _text()
    addr_city: Mapped[str | None] = _text(120)
    addr_state: Mapped[str | None] = _text(120)
    addr_postcode: Mapped[str | None] = _text(40)
    addr_country: Mapped[str | None] = _text(120)


class AddressLink(CrmTable):
    __tablename__ = "address_link"
    crm_prefix = "adli"

    adli_addresslinkid: Mapped[int] = mapped_column(Integer, primary_key=True)
    adli_addressid: Mapped[int | None] = mapped_column(Integer, index=True)
    adli_companyid: Mapped[int | None] = mapped_column(Integer, index=True)
    adli_personid: Mapped[int | None] = mapped_column(Integer, index=True)
    adli_type: Mapped[str | None] = _text(40)


class Email(CrmTable):
    __tablename__ = "email"
    crm_prefix = "emai"

    emai_emailid: Mapped[int] = mapped_column(Integer, primary_key=True)
    emai_emailaddress: Mapped[str | None] = mapped_column(String(255), index=True)


class EmailLink(CrmTable):
    __tablename__ = "emaillink"
    crm_prefix = "elink"

    elink_linkid: Mapped[int] = mapped_column(Integer, primary_key=True)
    elink_entityid: Mapped[int | None] = mapped_column(Integer)
    elink_recordid: Mapped[int | None] = mapped_column(Integer, index=True)
    elink_emailid: Mapped[int | None] = mapped_column(Integer, index=True)
    elink_type: Mapped[str | None] = _text(40)


class Phone(CrmTable):
    __tablename__ = "phone"
    crm_prefix = "phon"

    phon_phoneid: Mapped[int] = mapped_column(Integer, primary_key=True)
    phon_countrycode: Mapped[str | None] = _text(10)
    phon_areacode: Mapped[str | None] = _text(20)
    phon_number: Mapped[str | None] = _text(60)


class PhoneLink(CrmTable):
    __tablename__ = "phonelink"
    crm_prefix = "plink"

    plink_linkid: Mapped[int] = mapped_column(Integer, primary_key=True)
    plink_entityid: Mapped[int | None] = mapped_column(Integer)
    plink_recordid: Mapped[int | None] = mapped_column(Integer, index=True)
    plink_phoneid: Mapped[int | None] = mapped_column(Integer, index=True)
    plink_type: Mapped[str | None] = _text(40)


class UserContact(CrmTable):
    """A live row: the user has flagged the person for Outlook synchronization."""

    __tablename__ = "usercontacts"
    crm_prefix = "ucon"

    ucon_usercontactid: Mapped[int] = mapped_column(Integer, primary_key=True)
    ucon_userid: Mapped[int | None] = mapped_column(Integer, index=True)
    ucon_personid: Mapped[int | None] = mapped_column(Integer, index=True)


class Opportunity(CrmTable):
    __tablename__ = "opportunity"
    crm_prefix = "oppo"

    oppo_opportunityid: Mapped[int] = mapped_column(Integer, primary_key=True)
    oppo_description: Mapped[str | None] = _text()
    oppo_primarycompanyid: Mapped[int | None] = mapped_column(Integer, index=True)
    oppo_primarypersonid: Mapped[int | None] = mapped_column(Integer, index=True)
    oppo_assigneduserid: Mapped[int | None] = mapped_column(Integer)
    oppo_stage: Mapped[str | None] = _text(40)
    oppo_status: Mapped[str | None] = _text(40)


class Case(CrmTable):
    __tablename__ = "cases"
    crm_prefix = "case"

    case_caseid: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_description: Mapped[str | None] = _text()
    case_primarycompanyid: Mapped[int | None] = mapped_column(Integer, index=True)
    case_primarypersonid: Mapped[int | None] = mapped_column(Integer, index=True)
    case_assigneduserid: Mapped[int | None] = mapped_column(Integer)
    case_status: Mapped[str | None] = _text(40)


class Communication(CrmTable):
    """Appointments, tasks and filed emails."""

    __tablename__ = "communication"
    crm_prefix = "comm"

    comm_communicationid: Mapped[int] = mapped_column(Integer, primary_key=True)
    comm_opportunityid: Mapped[int | None] = mapped_column(Integer, index=True)
    comm_caseid: Mapped[int | None] = mapped_column(Integer, index=True)
    comm_type: Mapped[str | None] = _text(40)
    comm_action: Mapped[str | None] = _text(40)
    comm_status: Mapped[str | None] = _text(40)
    comm_priority: Mapped[str | None] = _text(40)
    comm_datetime: Mapped[datetime | None] = mapped_column(DateTime)
    comm_todatetime: Mapped[datetime | None] = mapped_column(DateTime)
    comm_subject: Mapped[str | None] = mapped_column(Text)
    comm_note: Mapped[str | None] = mapped_column(Text)
    comm_location: Mapped[str | None] = _text()
    comm_notifytime: Mapped[datetime | None] = mapped_column(DateTime)
    comm_private: Mapped[str | None] = _text(1)
    comm_crmonly: Mapped[str | None] = _text(1)
    comm_isalldayevent: Mapped[str | None] = _text(1)
    comm_organizer: Mapped[str | None] = _text()
    comm_completedtime: Mapped[datetime | None] = mapped_column(DateTime)
    comm_percentcomplete: Mapped[int | None] = mapped_column(Integer)
    comm_recurrencerule: Mapped[str | None] = mapped_column(Text)
    comm_recurrenceid: Mapped[int | None] = mapped_column(Integer, index=True)
    comm_exception: Mapped[str | None] = _text(1)
    comm_originaldatetime: Mapped[datetime | None] = mapped_column(DateTime)
    comm_from: Mapped[str | None] = mapped_column(Text)
    comm_to: Mapped[str | None] = mapped_column(Text)
    comm_cc: Mapped[str | None] = mapped_column(Text)
    comm_bcc: Mapped[str | None] = mapped_column(Text)
    comm_email: Mapped[str | None] = mapped_column(Text)
    comm_ishtml: Mapped[str | None] = _text(1)
    comm_hasattachments: Mapped[str | None] = _text(1)
    comm_messageid: Mapped[str | None] = mapped_column(String(998), index=True)


class CommLink(CrmTable):
    __tablename__ = "comm_link"
    crm_prefix = "cmli"

    cmli_commlinkid: Mapped[int] = mapped_column(Integer, primary_key=True)
    cmli_comm_communicationid: Mapped[int | None] = mapped_column(Integer, index=True)
    cmli_comm_userid: Mapped[int | None] = mapped_column(Integer, index=True)
    cmli_comm_personid: Mapped[int | None] = mapped_column(Integer, index=True)
    cmli_comm_companyid: Mapped[int | None] = mapped_column(Integer, index=True)
    cmli_isexternalattendee: Mapped[str | None] = _text(1)
    cmli_externalemail: Mapped[str | None] = _text()


class Library(CrmTable):
    """Documents and attachments; contents live in the content store, never inline."""

    __tablename__ = "library"
    crm_prefix = "libr"

    libr_libraryid: Mapped[int] = mapped_column(Integer, primary_key=True)
    libr_filepath: Mapped[str | None] = _text(1024)
    libr_filename: Mapped[str | None] = _text()
    libr_type: Mapped[str | None] = _text(40)
    libr_status: Mapped[str | None] = _text(40)
    libr_global: Mapped[str | None] = _text(1)
    libr_communicationid: Mapped[int | None] = mapped_column(Integer, index=True)
    libr_companyid: Mapped[int | None] = mapped_column(Integer, index=True)
    libr_personid: Mapped[int | None] = mapped_column(Integer, index=True)
    libr_opportunityid: Mapped[int | None] = mapped_column(Integer, index=True)
    libr_caseid: Mapped[int | None] = mapped_column(Integer, index=True)
    libr_filesize: Mapped[int | None] = mapped_column(BigInteger)
    libr_sha256: Mapped[str | None] = mapped_column(String(64), index=True)


# Matching and duplicate checks compare addresses and last names case-insensitively.
Index("ix_email_lower_emailaddress", func.lower(Email.emai_emailaddress))
Index("ix_person_lower_lastname", func.lower(func.coalesce(Person.pers_lastname, "")))

CRM_TABLES: tuple[Table, ...] = tuple(
    cast(Table, model.__table__)
    for model in (
        User,
        Company,
        Person,
        Address,
        AddressLink,
        Email,
        EmailLink,
        Phone,
        PhoneLink,
        UserContact,
        Opportunity,
        Case,
        Communication,
        CommLink,
        Library,
    )
)
