"""What a filed email contained, so a second filing under its Message-ID can be told apart."""

from __future__ import annotations

from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import ServiceTable


class FiledEmailContent(ServiceTable):
    """The content hashes of the email a communication was filed from.

    A Message-ID is whatever the sender wrote: anyone can give their email another's. A
    filing joins an existing communication only when these hashes match (see
    app.filings.content).
    """

    __tablename__ = "crmsync_filed_email_content"

    # communication.comm_communicationid. No foreign key: the CRM may live in another database.
    communication_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    body_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    attachments_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
