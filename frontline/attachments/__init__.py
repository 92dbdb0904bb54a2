"""Attachments: files customers send on any channel, stored behind one storage interface."""
