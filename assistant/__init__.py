"""Offline OT/PT voice assistant."""

__version__ = "0.1.0"
