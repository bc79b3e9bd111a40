"""Hosted-control types with a user interface. The only hosted_controls code that imports PySide6."""
