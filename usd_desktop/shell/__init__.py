"""shell layer of usd_desktop."""
