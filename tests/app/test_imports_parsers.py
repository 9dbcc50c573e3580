"""Contact files read as rows: encodings, Outlook's CSV quirks, vCard 2.1/3.0/4.0, validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.imports.parsers import ContactFile, UnreadableFile, detect_encoding
from app.models.imports import ImportFormat
from tests.factories.imports import FIXTURES, write_csv


def _rows(path: Path) -> dict[int, tuple[dict[str, str], str | None]]:
    return {row.number: (row.values, row.problem) for row in ContactFile(path).rows()}


def test_utf8_bom_export_with_multiline_fields_empty_rows_and_odd_row_lengths() -> None:
    source = ContactFile(FIXTURES / "outlook_utf8_bom.csv")
    assert (source.format, source.encoding) == (ImportFormat.CSV, "utf-8-sig")
    assert source.ignored_columns == ["E-mail Display Name", "Notes"]
    rows = _rows(FIXTURES / "outlook_utf8_bom.csv")
    # Rows 4 and 5 are empty; numbers stay those a spreadsheet shows.
    assert sorted(rows) == [2, 3, 6, 7, 8, 9]
    ada, problem = rows[2]
    assert problem is None
    assert ada == {
        "pers_salutation": "Dr.",
        "pers_firstname": "Ada",
        "pers_middlename": "K.",
        "pers_lastname": "Lovelace",
        "pers_suffix": "PhD",
        "company.comp_name": "Analytical Engines",
        "pers_department": "R&D",
        "pers_title": "Engineer",
        "address.street": "12 Byron Road\nFloor 2",
        "address.addr_city": "London",
        "address.addr_postcode": "N1 9GU",
        "address.addr_country": "United Kingdom",
        "phone.Business": "+44 (20) 7946 0958",
        "phone.Mobile": "+44 7700 900123",
        "email.Business": "ada@engines.example.com",
        "email.Private": "ada@home.example.com",
        "pers_website": "https://ada.example.com",
    }
    # A quoted field with a CRLF line break and escaped quotes inside.
    assert rows[3][0]["address.street"] == '"Difference House"\n1 Engine Lane'
    # Row 6 stops short of the last columns; row 9 runs past the header.
    assert rows[6][0]["email.Business"] == "grace@navy.example.com"
    assert rows[9] == (
        {
            "pers_firstname": "Alan",
            "pers_lastname": "Turing",
            "company.comp_name": "Bletchley Park",
        },
        None,
    )


def test_windows_1252_export_keeps_accented_names() -> None:
    source = ContactFile(FIXTURES / "outlook_cp1252.csv")
    assert source.encoding == "cp1252"
    names = [(r.values["pers_firstname"], r.values["pers_lastname"]) for r in source.rows()]
    assert names == [("José", "Müller"), ("Zoë", "Ångström"), ("François", "Lefèvre")]
    assert next(iter(source.rows())).values["company.comp_name"] == "Café Öl GmbH"


def test_utf8_without_bom_and_a_late_windows_1252_byte(tmp_path: Path) -> None:
    plain = write_csv(tmp_path / "plain.csv", [["First Name", "Last Name"], ["Jürgen", "Groß"]])
    assert ContactFile(plain).encoding == "utf-8"
    assert [r.values for r in ContactFile(plain).rows()] == [
        {"pers_firstname": "Jürgen", "pers_lastname": "Groß"}
    ]
    # The first 64 KiB are ASCII, so the file looks like UTF-8; a Windows-1252 name follows.
    filler = [[f"Person{n}", "Ascii"] for n in range(6000)]
    mixed = tmp_path / "mixed.csv"
    write_csv(mixed, [["First Name", "Last Name"], *filler])
    mixed.write_bytes(mixed.read_bytes() + "Renée,Dubé\r\n".encode("cp1252"))
    assert ContactFile(mixed).encoding == "utf-8"
    last = list(ContactFile(mixed).rows())[-1]
    assert (last.values["pers_firstname"], last.values["pers_lastname"]) == ("Renée", "Dubé")


def test_encoding_detection() -> None:
    assert detect_encoding(b"\xef\xbb\xbfFirst Name", whole_file=True) == "utf-8-sig"
    assert detect_encoding(b"\xff\xfeF\x00", whole_file=True) == "utf-16"
    assert detect_encoding("Zoë".encode(), whole_file=True) == "utf-8"
    assert detect_encoding("Zoë".encode("cp1252"), whole_file=True) == "cp1252"
    # A UTF-8 character cut in two at the end of the sniffed head is still UTF-8.
    assert detect_encoding("abcé".encode()[:-1], whole_file=False) == "utf-8"


def test_utf16_export(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "u16.csv", [["First Name", "Last Name"], ["Zoë", "Ng"]], "utf-16")
    assert [r.values["pers_firstname"] for r in ContactFile(path).rows()] == ["Zoë"]


def test_headers_tolerate_case_spacing_delimiters_and_report_unknown_columns_once(
    tmp_path: Path,
) -> None:
    path = tmp_path / "semicolons.csv"
    path.write_text(
        "  first   NAME ;LAST NAME;e-mail address;Email 2 Address;Custom 1\n"
        "Ada;Lovelace;ada@x.example.com;ada@y.example.com;whatever\n"
        "Alan;Turing;;;more\n"
    )
    source = ContactFile(path)
    assert source.ignored_columns == ["Custom 1"]
    assert [r.values for r in source.rows()] == [
        {
            "pers_firstname": "Ada",
            "pers_lastname": "Lovelace",
            "email.Business": "ada@x.example.com",
            "email.Private": "ada@y.example.com",
        },
        {"pers_firstname": "Alan", "pers_lastname": "Turing"},
    ]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        (b"id,amount\n1,2\n", "none of Outlook's columns"),
    ],
)
def test_files_that_are_not_contacts(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "file"
    path.write_bytes(content)
    with pytest.raises(UnreadableFile, match=message):
        ContactFile(path)


def test_a_missing_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="cannot read"):
        ContactFile(tmp_path / "nowhere.csv")


def test_validation_reasons(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "v.csv",
        [
            ["First Name", "Last Name", "Company", "E-mail Address", "Middle Name"],
            ["", "", "", "", "Only"],
            ["Ann", "", "", "ann@", ""],
            ["", "", "Acme", "", ""],
            ["", "", "", "solo@example.com", ""],
            ["X" * 61, "Y", "", "", ""],
        ],
    )
    problems = {number: problem for number, (_, problem) in _rows(path).items()}
    assert problems == {
        2: "no name, email or company",
        3: "E-mail Address: 'ann@' is not an SMTP address such as jane@example.com",
        4: None,
        5: None,
        6: "First Name: longer than 60 characters",
    }


def test_vcard_3_with_folding_escapes_types_and_quoted_printable() -> None:
    source = ContactFile(FIXTURES / "contacts_v3.vcf")
    assert source.format is ImportFormat.VCARD
    rows = _rows(FIXTURES / "contacts_v3.vcf")
    assert rows[1] == (
        {
            "pers_lastname": "Lovelace",
            "pers_firstname": "Ada",
            "pers_middlename": "King Augusta",
            "pers_salutation": "Dr.",
            "pers_suffix": "PhD",
            "company.comp_name": "Analytical Engines, Ltd",
            "pers_department": "R&D",
            "pers_title": "Engineer",
            # A folded line, and the preferred work address first despite coming second.
            "email.Business": "ada@engines.example.com",
            "email.Private": "ada@home.example.com",
            "phone.Business": "+44 (20) 7946 0958",
            "phone.Mobile": "+44 7700 900123",
            "phone.Fax": "+44 20 7946 0000",
            # The work address, not the home one; \n in the street is a line break.
            "address.street": "12 Byron Road\nFloor 2\nSuite 5",
            "address.addr_city": "London",
            "address.addr_postcode": "N1 9GU",
            "address.addr_country": "United Kingdom",
            "pers_website": "https://ada.example.com",
        },
        None,
    )
    # vCard 2.1: bare parameters and a quoted-printable value with a soft line break.
    assert rows[3][0] == {
        "pers_lastname": "Müller",
        "pers_firstname": "Jörg",
        "phone.Home": "+49 30 1234567",
        "email.Business": "joerg@example.de",
    }
    # An organization's card: FN repeats the company and is no person's name.
    assert rows[4] == ({"company.comp_name": "Analytical Engines, Ltd"}, None)
    assert rows[5] == ({}, "no name, email or company")


def test_vcard_4_uris_pref_untyped_address_and_formatted_name() -> None:
    rows = _rows(FIXTURES / "contacts_v4.vcf")
    grace = rows[1][0]
    assert grace["phone.Business"] == "+1-555-555-0100"
    assert grace["phone.Mobile"] == "+1-555-555-0199"
    assert grace["email.Business"] == "grace@navy.example.com"
    assert grace["email.Private"] == "grace@home.example.com"
    assert grace["pers_salutation"] == "Rear Admiral"
    assert grace["address.street"] == "1 Navy Yard"
    alan = rows[2][0]
    assert (alan["pers_firstname"], alan["pers_lastname"]) == ("Alan", "Turing")
    assert alan["address.street"] == "Bletchley Park, Sherwood Drive"
    assert rows[3][1] == "E-mail Address: 'broken@' is not an SMTP address such as jane@example.com"


def test_many_cards_stream_in_order(tmp_path: Path) -> None:
    path = tmp_path / "many.vcf"
    with path.open("w", newline="") as out:
        for n in range(2000):
            out.write(f"BEGIN:VCARD\r\nVERSION:3.0\r\nN:Person{n};Card\r\nEND:VCARD\r\n")
    source = ContactFile(path)
    assert source.count_rows() == 2000
    last = list(source.rows())[-1]
    assert (last.number, last.values["pers_lastname"]) == (2000, "Person1999")


def test_vcard_groups_agents_quoted_printable_breaks_and_a_card_cut_off(tmp_path: Path) -> None:
    path = tmp_path / "mixed.vcf"
    path.write_text(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Apple;Ann;;;\r\n"
        # Apple's grouped properties with repeated type parameters.
        "item1.EMAIL;type=INTERNET;type=pref:ann@apple.example.com\r\n"
        "item1.X-ABLabel:_$!<Other>!$_\r\n"
        "item2.TEL;type=CELL;type=VOICE;type=pref:+1 408 555 0101\r\n"
        "END:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:2.1\r\nN:Outlook;Otto\r\n"
        "ADR;WORK;ENCODING=QUOTED-PRINTABLE:;;1 Main Street=0D=0ABuilding 2;Springfield;IL;"
        "62701;USA\r\n"
        # An agent's card nested in Otto's is no contact of its own.
        "AGENT:\r\nBEGIN:VCARD\r\nN:Agent;Secret\r\nEMAIL:agent@example.com\r\nEND:VCARD\r\n"
        "THIS LINE IS NO PROPERTY\r\n"
        "END:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Cut;Carl\r\nEMAIL:carl@example.com\r\n",
        newline="",
    )
    rows = _rows(path)
    assert rows == {
        1: (
            {
                "pers_lastname": "Apple",
                "pers_firstname": "Ann",
                "email.Business": "ann@apple.example.com",
                "phone.Mobile": "+1 408 555 0101",
            },
            None,
        ),
        2: (
            {
                "pers_lastname": "Outlook",
                "pers_firstname": "Otto",
                "address.street": "1 Main Street\nBuilding 2",
                "address.addr_city": "Springfield",
                "address.addr_state": "IL",
                "address.addr_postcode": "62701",
                "address.addr_country": "USA",
            },
            None,
        ),
        3: (
            {
                "pers_lastname": "Cut",
                "pers_firstname": "Carl",
                "email.Business": "carl@example.com",
            },
            None,
        ),
    }


def test_a_card_vobject_cannot_read_is_that_cards_problem_only(tmp_path: Path) -> None:
    path = tmp_path / "broken.vcf"
    path.write_text(
        "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Good;Gina\r\nEND:VCARD\r\n"
        "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Broken;Bob\r\nBEGIN:VCALENDAR\r\nEND:VCARD\r\n",
        newline="",
    )
    rows = _rows(path)
    assert rows[1] == ({"pers_lastname": "Good", "pers_firstname": "Gina"}, None)
    values, problem = rows[2]
    assert values == {} and problem is not None and problem.startswith("unreadable vCard")
