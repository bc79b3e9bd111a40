"""cti layer of usd_desktop."""
