"""The mailbox ports over Microsoft Graph (Exchange Online), with httpx and MSAL."""
