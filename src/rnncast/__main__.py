"""``python -m rnncast`` runs the ``rnncast`` command."""

from rnncast.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
