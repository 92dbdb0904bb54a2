"""Bookings: resources, condition templates, departures, availability and bookings."""
