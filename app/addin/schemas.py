from __future__ import annotations

from pydantic import BaseModel, Field


class AddinRead(BaseModel):
    show_install_button: bool
    manifest_url: str | None = Field(
        description="a signed link, valid for an hour, that Outlook's 'Add from URL' accepts"
    )
    reason: str | None = Field(description="why the button is hidden")
