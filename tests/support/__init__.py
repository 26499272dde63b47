"""Helpers shared by the database tests (not part of the package)."""
