"""data layer of usd_desktop."""
