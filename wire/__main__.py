"""``python -m wire``: the same as the ``wire`` command."""

from wire.cli import main

raise SystemExit(main())
