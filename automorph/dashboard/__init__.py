"""A live web dashboard over a store of studies (the `dashboard` extra).

`automorph dashboard --storage URL` serves it; `create_app(storage)` gives the
ASGI app to serve some other way, and `serve` runs it with uvicorn. It shows
every study of the store, each study's history, learning curves, parallel
coordinates, slices, parameter importance, Pareto front and timeline, and
each trial with its program (drawn as a graph for NAS cells and grammar
derivations) and its difference from the best trial; the pages follow a
running study without reloading. Read-only unless `allow_writes=True`.
"""

from __future__ import annotations

from automorph.dashboard._serve import create_app, serve

__all__ = ["create_app", "serve"]
