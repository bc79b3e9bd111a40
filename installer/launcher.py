"""Entry point of the frozen build (PyInstaller runs this file as a script)."""

from usd_desktop.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
