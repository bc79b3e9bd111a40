"""The built-in CTI adapters (registered through the ``usd_desktop.cti_adapters`` entry points).

* :mod:`.simulator` (``simulator``): plays a YAML scenario of calls and simulates every operation;
  for demos, training and tests, no telephony needed.
* :mod:`.http_listener` (``http_listener``): the USD-compatible local HTTP screen-pop listener
  (``http://127.0.0.1:5000/?ani=...&dnis=...&type=phonecall&<key>=<value>``).
* :mod:`.softphone_hook` (the ``usd-cti-hook`` command): what a softphone runs on a call event to
  tell the HTTP listener (MicroSIP, Twinkle, any phone that can run a program).

Nothing is imported here, so ``usd-cti-hook`` starts without loading aiohttp or pydantic.
"""
