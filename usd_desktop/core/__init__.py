"""The Qt-free runtime: context, replacement parameters, conditions, data parsing, dispatcher, trace.

Nothing in this package imports PySide6 or qasync (import-linter checks it, and tests/unit runs in an
environment without PySide6).
"""
