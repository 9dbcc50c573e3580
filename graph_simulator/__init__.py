"""A Microsoft Graph simulator: Exchange Online's mailbox API over HTTPS, for tests and demos."""
