"""E-mail from a real mailbox: the IMAP poller of mailbox channels."""
