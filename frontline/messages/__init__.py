"""Messages: inbound records, outbound replies and their delivery, internal notes."""
