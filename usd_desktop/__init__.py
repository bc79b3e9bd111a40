"""usd_desktop: an open, cross-platform agent desktop for contact centres."""

__version__ = "0.1.0"
