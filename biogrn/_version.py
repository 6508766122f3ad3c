"""The package version, in one place (the records name it)."""

__version__ = "0.1.0"
