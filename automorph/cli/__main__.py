"""`python -m automorph.cli`: the `automorph` command line."""

from __future__ import annotations

from automorph.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
