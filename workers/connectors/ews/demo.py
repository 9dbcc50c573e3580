"""What `crmsync demo` does in the mailbox, as its user would in Outlook."""

from __future__ import annotations

from exchangelib.indexed_properties import EmailAddress

from app.users.connection import MailboxConnection
from workers.connectors.ews.connection import open_account


def edit_a_contact(connection: MailboxConnection) -> str:
    """Gives a contact a new job title and email address; returns its display name."""
    outlook = open_account(connection)
    contact = next(iter(outlook.contacts.filter(surname__contains="Meyer")), None) or next(
        iter(outlook.contacts.all())
    )
    contact.job_title = "Head of Purchasing"
    contact.email_addresses = [EmailAddress(email="purchasing@example.org", label="EmailAddress1")]
    contact.save(update_fields=["job_title", "email_addresses"])
    return str(contact.display_name)


def count_contacts(connection: MailboxConnection) -> int:
    return int(open_account(connection).contacts.all().count())
