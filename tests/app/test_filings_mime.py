"""Parsing and sanitizing real-world email: the corpus in tests/fixtures/mail/."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest

from app.filings.mime import (
    MimeLimits,
    ParsedEmail,
    UnreadableEmail,
    html_to_text,
    parse_mime,
    read_email,
)
from app.filings.outlook import wrap_embedded_emails

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "mail"


def corpus(name: str) -> ParsedEmail:
    return read_email((CORPUS / name).read_bytes())


def test_every_readable_message_of_the_corpus_parses() -> None:
    readable = sorted(p.name for p in CORPUS.iterdir() if p.name != "malformed.eml")
    assert len(readable) >= 12
    for name in readable:
        parsed = corpus(name)
        assert parsed.subject, name
        assert parsed.identity, name


def test_multipart_alternative_keeps_both_bodies_and_parses_addresses() -> None:
    email = corpus("multipart-alternative.eml")
    assert email.message_id == "<CAF=alt-0001@mail.northwind.example>"
    assert email.sender is not None and email.sender.email == "anna.berg@northwind.example"
    assert [a.formatted() for a in email.to] == [
        "Jane Doe <jane@example.com>",
        '"Smith, Bob" <bob.smith@northwind.example>',
    ]
    assert [a.email for a in email.cc] == ["sales@northwind.example"]
    assert email.sent_at == datetime(2024, 6, 3, 8, 30, tzinfo=UTC)
    # quoted-printable with a soft line break and a UTF-8 en dash
    assert "quarterly review \u2013 see you Thursday" in email.text
    assert email.html is not None and "<b>agenda</b>" in email.html
    assert "dir=" not in email.html
    assert email.attachments == ()


def test_inline_image_is_an_attachment_the_html_refers_to_by_cid() -> None:
    email = corpus("inline-image.eml")
    assert email.html is not None and 'src="cid:logo123@contoso.example"' in email.html
    (logo,) = email.attachments
    assert (logo.filename, logo.content_type, logo.content_id) == (
        "logo.png",
        "image/png",
        "logo123@contoso.example",
    )
    assert logo.content.startswith(b"\x89PNG")


def test_forwarded_message_is_kept_whole_as_an_eml_followed_by_its_own_files() -> None:
    email = corpus("forwarded.eml")
    assert email.text.strip() == "Carl, see the message below."
    forwarded, its_pdf = email.attachments
    assert its_pdf.filename == "contract.pdf"
    assert its_pdf.content.startswith(b"%PDF")
    assert forwarded.filename == "Contract draft.eml"
    assert forwarded.content_type == "message/rfc822"
    inner = read_email(forwarded.content)
    assert inner.message_id == "<inner-0003@fabrikam.example>"
    assert [a.filename for a in inner.attachments] == ["contract.pdf"]


def test_an_email_embedded_in_an_outlook_msg_files_its_own_attachments() -> None:
    # extract-msg converts a .msg with an attached email into this shape: the attached email's
    # MIME sits among the parent's parts, not wrapped as message/rfc822.
    embedded = EmailMessage()
    embedded["From"] = "legal@fabrikam.example"
    embedded["Subject"] = "Contract draft"
    embedded.set_content("The draft is attached.")
    embedded.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="c.pdf")
    outer = EmailMessage()
    outer["From"] = "jane@example.com"
    outer["Subject"] = "Fwd: Contract draft"
    outer.set_content("See below.")
    outer.add_attachment(b"a,b", maintype="text", subtype="csv", filename="prices.csv")
    outer.attach(embedded)
    wrap_embedded_emails(outer)
    email = parse_mime(outer.as_bytes())
    assert [a.filename for a in email.attachments] == ["prices.csv", "Contract draft.eml", "c.pdf"]
    assert email.text.strip() == "See below."


def test_encoded_headers_in_several_charsets_are_decoded() -> None:
    email = corpus("encoded-headers.eml")
    assert email.subject == "Grüße aus München、テスト"
    assert email.sender is not None and email.sender.name == "Björn Müller"
    assert [a.name for a in email.to] == ["Jörg Schäfer", "山田"]
    assert [a.name for a in email.cc] == ["François “Frank”"]
    assert email.text == "Hallo Jörg, das Angebot kommt morgen.\n"  # base64 body


@pytest.mark.parametrize(
    ("name", "subject", "sender_name", "text"),
    [
        ("iso-8859-1.eml", "Präsentation", "Jörg Schäfer", "Grüße aus Köln"),
        ("windows-1252.eml", "Devis", "François Martin", "1200 € \u2013 “final”"),
        ("shift_jis.eml", "見積書の件", "山田", "お見積もりをお送りします。"),
    ],
)
def test_bodies_and_raw_8bit_headers_in_other_charsets(
    name: str, subject: str, sender_name: str, text: str
) -> None:
    email = corpus(name)
    assert email.subject == subject
    assert email.sender is not None and email.sender.name == sender_name
    assert text in email.text


def test_missing_headers_give_no_sender_no_date_and_a_content_identity() -> None:
    email = corpus("missing-headers.eml")
    assert email.sender is None and email.sent_at is None and email.message_id is None
    assert email.identity.startswith("<sha256:") and len(email.identity) == len("<sha256:>") + 64
    assert read_email((CORPUS / "missing-headers.eml").read_bytes()).identity == email.identity


def test_sanitizing_removes_scripts_handlers_and_remote_loads() -> None:
    html = corpus("sanitize.eml").html
    assert html is not None
    for removed in (
        "<script",
        "alert(",
        "onload",
        "onclick",
        "<style",
        "style=",
        "evil.example/track",
        "evil.example/pixel",
        "evil.example/bg",
        "<iframe",
        "javascript:",
        "<form",
        "data:image",
        "Prize",  # the <title>
    ):
        assert removed not in html, removed
    assert 'src="cid:part1@evil.example"' in html
    assert 'href="https://evil.example/claim"' in html  # a link is not a load
    assert 'alt="tracker"' in html
    assert corpus("sanitize.eml").text.startswith("Click here.")


def test_text_is_derived_from_html_when_there_is_no_plain_part() -> None:
    assert html_to_text("<p>One &amp; two</p><p>Three<br>four <b>bold</b></p>") == (
        "One & two\n\nThree\nfour bold"
    )


def test_attachment_names_are_decoded_and_safe() -> None:
    names = [a.filename for a in corpus("attachments.eml").attachments]
    assert names == ["prices.csv", "Geschäftsbedingungen.pdf"]
    hostile = (
        b"From: a@b.example\nContent-Type: multipart/mixed; boundary=x\n\n--x\n"
        b"Content-Type: text/plain\n\nhi\n--x\nContent-Type: application/octet-stream\n"
        b'Content-Disposition: attachment; filename="..\\\\..\\\\evil\x01.exe"\n\nMZ\n--x--\n'
    )
    (evil,) = parse_mime(hostile).attachments
    assert evil.filename == "evil.exe"


def test_outlook_msg_is_read_through_extract_msg() -> None:
    email = corpus("outlook.msg")
    source = corpus("outlook-source.eml")
    assert email.message_id == source.message_id == "<outlook-msg-sample-1@acme.example>"
    assert email.subject == "Angebot für Q3"
    assert email.sent_at == source.sent_at
    assert email.text == source.text
    assert [(a.filename, a.content) for a in email.attachments] == [
        (a.filename, a.content) for a in source.attachments
    ]


def test_a_damaged_msg_file_is_refused_with_the_reason() -> None:
    damaged = (CORPUS / "outlook.msg").read_bytes()[:2048]
    with pytest.raises(UnreadableEmail, match=r"Outlook \.msg"):
        read_email(damaged)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ((CORPUS / "malformed.eml").read_bytes(), "lacks its boundary"),
        (b"", "is empty"),
        (b"\x00\x01 binary junk", "does not start with RFC 5322 header fields"),
        (b"%PDF-1.4 not an email\n", "does not start with RFC 5322 header fields"),
    ],
)
def test_unreadable_input_says_why(raw: bytes, reason: str) -> None:
    with pytest.raises(UnreadableEmail, match=reason):
        read_email(raw)


def _nested(depth: int) -> bytes:
    head = "".join(
        f'Content-Type: multipart/mixed; boundary="b{i}"\n\n--b{i}\n' for i in range(depth)
    )
    tail = "".join(f"\n--b{i}--\n" for i in reversed(range(depth)))
    return (
        f"From: a@b.example\nSubject: bomb\n{head}Content-Type: text/plain\n\nhi\n{tail}".encode()
    )


def _many_parts(count: int) -> bytes:
    parts = "".join(f"--x\nContent-Type: text/plain\n\np{i}\n" for i in range(count))
    return (
        f"From: a@b.example\nContent-Type: multipart/mixed; boundary=x\n\n{parts}--x--\n".encode()
    )


def test_mime_bombs_are_refused_quickly() -> None:
    started = time.monotonic()
    with pytest.raises(UnreadableEmail, match="MIME parts"):
        read_email(_nested(5000))
    with pytest.raises(UnreadableEmail, match="60 multipart containers"):
        read_email(_nested(60))
    with pytest.raises(UnreadableEmail, match="MIME parts"):
        read_email(_many_parts(100_000))
    with pytest.raises(UnreadableEmail, match="deeper than 5 levels"):
        read_email(_nested(8), MimeLimits(max_depth=5))
    assert time.monotonic() - started < 2
    assert read_email(_nested(10)).text == "hi\n"
