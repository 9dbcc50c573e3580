"""Persons with their company, emails, phones and (shared) addresses, read and written whole."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from app.crm.flags import flag_person, flagged_person_ids, unflag_person
from app.crm.lookups import persons_with_email
from app.crm.paths import split_street
from app.crm.people import load_people
from app.crm.phones import PhoneParts, compose_phone, split_phone
from app.crm.writer import PersonWriter
from app.models.crm import Address, AddressLink, Company, Person

FULL = {
    "pers_salutation": "Dr.",
    "pers_firstname": "Ada",
    "pers_middlename": "K.",
    "pers_lastname": "Lovelace",
    "pers_suffix": "PhD",
    "pers_title": "Engineer",
    "pers_department": "R&D",
    "pers_website": "https://ada.example.com",
    "company.comp_name": "Analytical Engines",
    "email.Business": "ada@engines.example.com",
    "email.Private": "ada@home.example.com",
    "phone.Business": "+44 (20) 7946 0958",
    "phone.Mobile": "+44 7700 900123",
    "address.street": "12 Byron Road\nFloor 2",
    "address.addr_city": "London",
    "address.addr_postcode": "N1 9GU",
    "address.addr_country": "UK",
}


def test_create_and_load_round_trip(db: Session) -> None:
    db.add(Company(comp_name="Analytical Engines"))
    db.flush()
    person = PersonWriter(db, acting_user_id=7, create_companies=False).create(FULL)
    loaded = load_people(db, [person.pers_personid])[person.pers_personid]
    for path, value in FULL.items():
        assert loaded[path] == value, path
    assert loaded["phone.Home"] is None
    assert person.created_by == 7
    assert person.updated_date is not None


def test_unknown_company_is_created_only_when_allowed(db: Session) -> None:
    values = {"pers_lastname": "Hopper", "company.comp_name": "Navy"}
    without = PersonWriter(db, 1, create_companies=False).create(values)
    assert without.pers_companyid is None
    # The name is kept aside, so that it is not lost for Outlook.
    assert (
        load_people(db, [without.pers_personid])[without.pers_personid]["company.comp_name"]
        == "Navy"
    )
    with_company = PersonWriter(db, 1, create_companies=True).create(values)
    company = db.get(Company, with_company.pers_companyid)
    assert company is not None and company.comp_name == "Navy"


def test_clearing_values_soft_deletes_links(db: Session) -> None:
    writer = PersonWriter(db, 1, create_companies=False)
    person = writer.create(FULL)
    writer.update(person, {"email.Private": None, "phone.Mobile": ""})
    loaded = load_people(db, [person.pers_personid])[person.pers_personid]
    assert loaded["email.Private"] is None
    assert loaded["phone.Mobile"] is None
    assert loaded["email.Business"] == FULL["email.Business"]


def test_shared_address_row_is_updated_for_everyone(db: Session) -> None:
    address = Address(addr_address1="1 Old Street", addr_city="Leeds")
    db.add(address)
    db.flush()
    company = Company(comp_name="Shared Ltd", comp_primaryaddressid=address.addr_addressid)
    first = Person(pers_lastname="One", pers_primaryaddressid=address.addr_addressid)
    second = Person(pers_lastname="Two", pers_primaryaddressid=address.addr_addressid)
    db.add_all([company, first, second])
    db.flush()
    for person in (first, second):
        db.add(
            AddressLink(adli_addressid=address.addr_addressid, adli_personid=person.pers_personid)
        )
    PersonWriter(db, 1, create_companies=False).update(first, {"address.addr_city": "York"})
    loaded = load_people(db, [first.pers_personid, second.pers_personid])
    assert loaded[second.pers_personid]["address.addr_city"] == "York"
    assert db.get(Address, address.addr_addressid).addr_city == "York"  # type: ignore[union-attr]


def test_flag_and_unflag(db: Session) -> None:
    person = PersonWriter(db, 1, create_companies=False).create({"pers_lastname": "Flag"})
    flag_person(db, 5, person.pers_personid)
    flag_person(db, 5, person.pers_personid)
    assert flagged_person_ids(db, 5) == {person.pers_personid}
    unflag_person(db, 5, person.pers_personid)
    assert flagged_person_ids(db, 5) == set()


def test_persons_with_email_is_case_insensitive(db: Session) -> None:
    person = PersonWriter(db, 1, create_companies=False).create(
        {"pers_lastname": "Mail", "email.Business": "Mixed@Case.example.com"}
    )
    assert persons_with_email(db, ["mixed@case.EXAMPLE.com"]) == {
        "mixed@case.example.com": [person.pers_personid]
    }


def test_street_beyond_four_lines_is_kept_in_the_fourth() -> None:
    assert split_street("a\nb\nc\nd\ne") == ["a", "b", "c", "d, e"]
    assert split_street(None) == [None, None, None, None]


digits = st.text(alphabet="0123456789", min_size=1, max_size=4)


@given(
    country=st.none() | digits,
    area=st.none() | digits,
    number=st.none() | st.from_regex(r"[0-9][0-9 \-]{0,12}[0-9]", fullmatch=True),
)
def test_phone_compose_split_round_trip(
    country: str | None, area: str | None, number: str | None
) -> None:
    parts = PhoneParts(country, area, number)
    composed = compose_phone(parts)
    if composed is None:
        assert parts == PhoneParts(None, None, None)
        return
    assert compose_phone(split_phone(composed)) == composed
