"""hosted_controls layer of usd_desktop."""
