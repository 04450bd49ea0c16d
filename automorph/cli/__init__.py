"""The `automorph` command line: list, inspect, export and plot studies;
queue trials and delete studies.

    automorph [--storage URL_OR_PATH] studies
    automorph show NAME
    automorph trials NAME [--status S] [--limit N] [--sort id|reward]
    automorph best NAME [--json]
    automorph export NAME [--format csv|json] [--output FILE]
    automorph plot NAME [--output PREFIX]
    automorph enqueue NAME (--params JSON | --dna JSON)
    automorph delete NAME [--yes]

The store is `--storage` (a SQLite file path, a `sqlite:///` URL or a
PostgreSQL URL), else `$AUTOMORPH_STORAGE`, else `./automorph.db`; a file
that does not exist is an error, never a new store. Rewards are shown as
reported; the best follows the study's direction (maximized unless it was
created with `minimize=True`). Every error prints one
line on stderr and exits with status 1. Run it as `automorph ...` or
`python -m automorph.cli ...`; `main(argv, storage=...)` runs it in-process.

>>> from automorph.storage import MemoryStorage, StudyInfo
>>> store = MemoryStorage()
>>> _ = store.create_study(StudyInfo("demo", created=1.0))
>>> main(["trials", "demo"], storage=store)
Study 'demo' has no trials.
0
"""

from __future__ import annotations

from automorph.cli._main import main

__all__ = ["main"]
