"""``python -m stead.cli`` is the ``stead`` command."""

from stead.cli.main import run

run()
