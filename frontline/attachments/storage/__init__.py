"""Blob storage for attachments: one Protocol, a registry keyed by :class:`StorageKind`."""
