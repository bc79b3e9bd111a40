"""The configuration layer of usd_desktop (Qt-free).

* :mod:`~usd_desktop.config.schema`: the pydantic models, the one source of the configuration's
  shape (YAML, JSON Schema, reference docs, and later the SQL tables); the models of entity
  searches, navigation rules, session lines and agent scripts are in the ``schema_*`` modules;
* :mod:`~usd_desktop.config.loader`: YAML in (a file or a directory, with file and line for every
  value) and canonical YAML out; :class:`~usd_desktop.config.loader.ConfigLoadError`;
* :mod:`~usd_desktop.config.lint`: cross-record checks with stable codes (``USD1xx``), with
  ``lint_navigation`` and ``lint_scripts`` for the later entities;
* :mod:`~usd_desktop.config.reference`: the Markdown configuration reference.

The ``usd-admin`` command (:mod:`usd_desktop.admin_cli`) puts these in administrators' hands.
"""
