"""GBV search-notice worker: search events in, help notices out."""

__version__ = "0.1.0"
