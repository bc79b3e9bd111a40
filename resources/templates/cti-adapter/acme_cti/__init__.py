"""A usd_desktop CTI adapter for the Acme PBX agent API, and a fake Acme PBX for its tests."""
