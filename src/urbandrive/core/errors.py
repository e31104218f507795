"""Exceptions that are part of the interface: each message names the file, field or agent."""


class UrbandriveError(Exception):
    """Base class of every error urbandrive raises on purpose (the CLI prints it in one line)."""


class DataError(UrbandriveError, ValueError):
    """Input data is missing, malformed or inconsistent; the message says where and what."""
