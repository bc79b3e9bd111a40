"""``python -m usd_desktop`` starts the agent desktop."""

from usd_desktop.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
