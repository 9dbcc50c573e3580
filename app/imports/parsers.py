"""Contact files read as rows of CRM person values: Outlook's CSV export and vCard files.

A file is streamed, never loaded whole, and may be read twice (once to count its rows). Each row
carries its number — the row a spreadsheet shows for CSV (the header is row 1), the card's
position for vCard — and, when it cannot be imported, the reason. Values are keyed by the CRM
paths of app.crm.people.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from app.crm.people import oversized_paths
from app.imports.vcard import PersonFields, read_cards
from app.kit.validation import smtp_address
from app.models.imports import ImportFormat

# Outlook's English export headers and the CRM path each fills. The street columns are joined
# line by line into the one street value.
OUTLOOK_COLUMNS: tuple[tuple[str, str], ...] = (
    ("Title", "pers_salutation"),
    ("First Name", "pers_firstname"),
    ("Middle Name", "pers_middlename"),
    ("Last Name", "pers_lastname"),
    ("Suffix", "pers_suffix"),
    ("Company", "company.comp_name"),
    ("Department", "pers_department"),
    ("Job Title", "pers_title"),
    ("Business Street", "address.street"),
    ("Business Street 2", "address.street"),
    ("Business Street 3", "address.street"),
    ("Business City", "address.addr_city"),
    ("Business State", "address.addr_state"),
    ("Business Postal Code", "address.addr_postcode"),
    ("Business Country/Region", "address.addr_country"),
    ("Business Country", "address.addr_country"),  # before Outlook 2010
    ("Business Phone", "phone.Business"),
    ("Home Phone", "phone.Home"),
    ("Mobile Phone", "phone.Mobile"),
    ("Business Fax", "phone.Fax"),
    ("E-mail Address", "email.Business"),
    ("E-mail 2 Address", "email.Private"),
    ("Web Page", "pers_website"),
)

# Reasons name a field by its Outlook column, whichever format the row came from.
FIELD_LABELS = {path: header for header, path in reversed(OUTLOOK_COLUMNS)}

_IDENTIFYING_PATHS = ("pers_lastname", "pers_firstname", "email.Business", "email.Private",
                      "company.comp_name")  # fmt: skip
_EMAIL_PATHS = ("email.Business", "email.Private")
_HEAD_BYTES = 64 * 1024
_DELIMITERS = (",", ";", "\t")  # Outlook writes the list separator of the regional settings
_CP1252_FALLBACK = "crmsync-cp1252-fallback"

# Outlook's Notes column can exceed the csv module's default field limit of 128 KiB.
csv.field_size_limit(max(csv.field_size_limit(), 16 * 1024 * 1024))


class UnreadableFile(Exception):
    """The file is not a contact file this import can read (or not readable at all)."""


def _windows_character(byte: int) -> str:
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:
        return chr(byte)  # the five bytes cp1252 leaves undefined, mapped as Windows maps them


def _decode_as_cp1252(error: UnicodeError) -> tuple[str, int]:
    """Reads bytes the file's encoding rejects as Windows-1252: an export whose first part is
    plain ASCII looks like UTF-8, yet an accented name further down may be Windows-1252."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    rejected = error.object[error.start : error.end]
    return "".join(_windows_character(byte) for byte in rejected), error.end


codecs.register_error(_CP1252_FALLBACK, _decode_as_cp1252)


def detect_encoding(head: bytes, *, whole_file: bool) -> str:
    """A byte-order mark decides; otherwise UTF-8 if the head decodes strictly, else cp1252."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        # A character cut in two at the end of a partial head is not an error.
        codecs.getincrementaldecoder("utf-8")().decode(head, final=whole_file)
    except UnicodeDecodeError:
        return "cp1252"
    return "utf-8"


def normalized_header(header: str) -> str:
    return " ".join(header.split()).casefold().replace("e-mail", "email")


_PATH_BY_HEADER = {normalized_header(header): path for header, path in OUTLOOK_COLUMNS}


@dataclass(frozen=True)
class ContactRow:
    number: int
    values: PersonFields
    problem: str | None

    @property
    def label(self) -> str:
        """Who the row is, for the report: 'Ada Lovelace <ada@example.com>'."""
        name = " ".join(
            part
            for part in (self.values.get("pers_firstname"), self.values.get("pers_lastname"))
            if part
        )
        email = self.values.get("email.Business") or self.values.get("email.Private")
        who = name or self.values.get("company.comp_name", "")
        return " ".join(part for part in (who, f"<{email}>" if email else "") if part)[:255]


def validated(number: int, values: PersonFields) -> ContactRow:
    if not any(values.get(path) for path in _IDENTIFYING_PATHS):
        return ContactRow(number, values, "no name, email or company")
    problems = []
    for path in _EMAIL_PATHS:
        if path in values:
            try:
                smtp_address(values[path])
            except ValueError as exc:
                problems.append(f"{FIELD_LABELS[path]}: {exc}")
    for path, limit in oversized_paths(values).items():
        problems.append(f"{FIELD_LABELS[path]}: longer than {limit} characters")
    return ContactRow(number, values, "; ".join(problems) or None)


def _one_line_ending(field: str) -> str:
    # Quoted fields keep the file's own line breaks, which are CRLF in a Windows export.
    return field.replace("\r\n", "\n").replace("\r", "\n")


@dataclass(frozen=True)
class _CsvLayout:
    delimiter: str
    positions: dict[str, list[int]]  # CRM path → the columns that fill it, in order
    ignored: list[str]  # headers of columns nothing is read from


def _csv_layout(head: str) -> _CsvLayout:
    """The header (the first non-blank line) read with whichever delimiter names most of
    Outlook's columns."""
    first_line = next((line for line in head.splitlines() if line.strip()), "")
    best: _CsvLayout | None = None
    best_known = 0
    for delimiter in _DELIMITERS:
        header = next(csv.reader(io.StringIO(first_line), delimiter=delimiter), [])
        positions: dict[str, list[int]] = {}
        ignored = []
        for index, name in enumerate(header):
            path = _PATH_BY_HEADER.get(normalized_header(name))
            if path is None:
                if name.strip():
                    ignored.append(name.strip())
            else:
                positions.setdefault(path, []).append(index)
        known = sum(len(columns) for columns in positions.values())
        if known > best_known:
            best, best_known = _CsvLayout(delimiter, positions, ignored), known
    if best is None:
        raise UnreadableFile(
            "not an Outlook CSV export or a vCard file: the first line names none of Outlook's "
            "columns (First Name, Last Name, Company, E-mail Address, …)"
        )
    return best


class ContactFile:
    """A contact file on disk: its encoding, format and CSV header are read once, on opening;
    `rows()` streams it afresh each time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            with path.open("rb") as stream:
                head = stream.read(_HEAD_BYTES)
        except OSError as exc:
            raise UnreadableFile(f"cannot read {path}: {exc.strerror or exc}") from None
        self.encoding = detect_encoding(head, whole_file=len(head) < _HEAD_BYTES)
        text = codecs.getincrementaldecoder(self.encoding)(errors=_CP1252_FALLBACK).decode(head)
        if "\x00" in text:
            raise UnreadableFile("a binary file, not an Outlook CSV export or a vCard file")
        if not text.strip():
            raise UnreadableFile("the file is empty")
        self._csv: _CsvLayout | None = None
        if text.lstrip().upper().startswith("BEGIN:VCARD"):
            self.format = ImportFormat.VCARD
        else:
            self.format = ImportFormat.CSV
            self._csv = _csv_layout(text)

    @property
    def ignored_columns(self) -> list[str]:
        return self._csv.ignored if self._csv else []

    def rows(self) -> Iterator[ContactRow]:
        """Every contact row, blank CSV rows left out."""
        with self.path.open(encoding=self.encoding, errors=_CP1252_FALLBACK, newline="") as text:
            if self._csv is None:
                for number, card in enumerate(read_cards(text), start=1):
                    if card.problem is None:
                        yield validated(number, card.values)
                    else:
                        yield ContactRow(number, card.values, card.problem)
            else:
                yield from self._csv_rows(text, self._csv)

    def count_rows(self) -> int:
        return sum(1 for _ in self.rows())

    @staticmethod
    def _csv_rows(text: io.TextIOBase, layout: _CsvLayout) -> Iterator[ContactRow]:
        reader = csv.reader(text, delimiter=layout.delimiter)
        header_seen = False
        try:
            for number, record in enumerate(reader, start=1):
                if not any(field.strip() for field in record):
                    continue
                if not header_seen:
                    header_seen = True
                    continue
                fields = [_one_line_ending(field).strip() for field in record]
                values: PersonFields = {}
                for path, positions in layout.positions.items():
                    present = [fields[i] for i in positions if i < len(fields) and fields[i]]
                    if present:
                        values[path] = (
                            "\n".join(present) if path == "address.street" else present[0]
                        )
                yield validated(number, values)
        except csv.Error as exc:
            raise UnreadableFile(f"line {reader.line_num}: {exc}") from None
