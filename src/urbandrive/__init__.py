"""urbandrive: a behavior stack for urban autonomous driving."""

__version__ = "0.1.0"
