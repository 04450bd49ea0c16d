"""The dashboard's web app: pages and a JSON API over one store (Starlette).

Pages are HTML shells rendered with Jinja2 (every value from the store is
escaped) and filled in by `static/dashboard.js`, which polls the JSON API for
what changed. Studies and trials are named in query strings (`/study?name=`),
so any study name works; no endpoint takes a file path or SQL, and the store
is the one given when the app was made.

Read-only unless made with `allow_writes=True`: then `POST /api/enqueue`
(run a trial's DNA again), `POST /api/note` (a note on a study or a trial,
kept in the study's metadata under "notes") and `POST /api/delete` (delete
a study) work; otherwise they answer 403 and say which flag enables them.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import threading
import time
import urllib.parse
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from automorph.dashboard._data import (
    STATES,
    Reader,
    StudyData,
    columns_since,
    shown,
    study_view,
    summary_of,
    trial_rows,
)
from automorph.dashboard._plots import curves_view, importance_view, params_view, pareto_view
from automorph.dashboard._views import program_views
from automorph.storage import Storage, TrialRecord
from automorph.utils import AutomorphError, FieldValueError, StudyNotFoundError

try:
    from jinja2 import Environment, FileSystemLoader, select_autoescape
    from starlette.applications import Starlette
    from starlette.exceptions import HTTPException
    from starlette.requests import Request
    from starlette.responses import FileResponse, HTMLResponse, Response
    from starlette.routing import Mount, Route
    from starlette.staticfiles import StaticFiles
except ImportError as _missing:  # pragma: no cover - the `dashboard` extra is not installed
    raise ImportError(
        f"the dashboard needs Starlette, uvicorn, Jinja2 and Plotly ({_missing}): "
        "pip install 'automorph[dashboard]'"
    ) from _missing

HERE = Path(__file__).parent
# Scripts only from this server; Plotly's WebGL traces compile shaders with
# Function (hence 'unsafe-eval') and set inline styles. No inline script runs,
# so a value that escaped escaping still could not execute.
CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'"
)


def plotly_js() -> Path:
    """The Plotly bundle that the `plotly` package ships (served, never fetched)."""
    try:
        path = Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))
    except ModuleNotFoundError as missing:
        raise ImportError(
            "the dashboard draws with the plotly package's JavaScript: "
            "pip install 'automorph[dashboard]'"
        ) from missing
    if not path.is_file():
        raise ImportError(f"the plotly package has no bundled plotly.min.js at {path}")
    return path


class _Importance:
    """Importance takes seconds on thousands of trials: computed once per
    study and state of the study (its last read), and never twice at once."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, int], tuple[int, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, int], version: int, make: Callable[[], dict[str, Any]]) -> Any:
        with self._lock:
            cached = self._cache.get(key)
            # A study still growing is recomputed after 20 more reads at most.
            if cached is not None and version - cached[0] < 20:
                return cached[1]
            value = make()
            self._cache[key] = (version, value)
            return value


def _json(value: Any, status: int = 200) -> Response:
    return Response(_dumps(value), status_code=status, media_type="application/json")


def _dumps(value: Any) -> bytes:
    """Compact JSON; NaN and infinities (which JSON lacks) go out as null,
    walking the value only when there is one."""
    try:
        text = json.dumps(value, allow_nan=False, separators=(",", ":"))
    except ValueError:
        text = json.dumps(_finite(value), allow_nan=False, separators=(",", ":"))
    return text.encode()


def _finite(value: Any) -> Any:
    """JSON has no NaN or infinity: they go out as null."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    return value


def _int(request: Request, name: str, default: int | None = None) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        if default is None:
            raise FieldValueError(f"the query needs `{name}`")
        return default
    try:
        return int(raw)
    except ValueError:
        raise FieldValueError(f"`{name}` must be an integer, got {raw!r}") from None


def _name(request: Request) -> str:
    name = request.query_params.get("name")
    if not name:
        raise FieldValueError("the query needs `name` (a study's name)")
    return name


def _when(t: float | None) -> str:
    return "" if t is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))


def create_app(
    storage: Storage, *, allow_writes: bool = False, refresh_s: float = 0.5, preload: bool = True
) -> Any:
    """The dashboard over `storage`, as an ASGI app (serve it with uvicorn).

    Args:
        storage: The store whose studies it shows.
        allow_writes: Whether the enqueue and delete endpoints work.
        refresh_s: A study is read again at most this often.
        preload: Whether to read every study in the background at once.

    Returns:
        A Starlette application.
    """
    reader = Reader(storage, refresh_s=refresh_s)
    templates = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
    )
    templates.filters["when"] = _when
    templates.filters["pretty"] = lambda v: json.dumps(v, indent=2, sort_keys=True, default=str)
    slow = _Importance()
    plotly = plotly_js()

    def page(template: str, **values: Any) -> HTMLResponse:
        html = templates.get_template(template).render(allow_writes=allow_writes, **values)
        return HTMLResponse(html)

    async def studies_page(request: Request) -> Response:
        return page("studies.html", title="Studies")

    def study_page(request: Request) -> Response:
        name = _name(request)
        info = storage.get_study(name)
        return page(
            "study.html", title=name, study=info, states=STATES, note=_notes(info.metadata)["study"]
        )

    def trial_page(request: Request) -> Response:
        name = _name(request)
        trial_id = _int(request, "id")
        info = storage.get_study(name)
        trial = storage.get_trial(name, trial_id)
        data = reader.study(name)
        decisions = data.decisions()
        best = summary_of(data)["best"]
        best_id = best.get("trial") if best else None
        return page(
            "trial.html",
            title=f"{name}: trial {trial_id}",
            study=info,
            trial=trial,
            duration=_duration(trial),
            dna=[
                (key, shown(value, decisions[key]) if key in decisions else str(value), value)
                for key, value in trial.dna.items()
            ],
            views=program_views(trial.example, dna_spec_json=info.dna_spec),
            best_id=best_id,
            diff=_diff(storage, name, trial, best_id),
            note=_notes(info.metadata)["trials"].get(str(trial_id), ""),
        )

    def api_studies(request: Request) -> Response:
        out = []
        for name in reader.names():
            try:
                out.append(summary_of(reader.study(name, complete=False)))
            except StudyNotFoundError:  # deleted while listing
                continue
        return _json({"studies": out, "time": time.time()})

    everything = _Everything()

    def api_study(request: Request) -> Response:
        name = _name(request)
        data = reader.study(name, complete=False)
        since = _int(request, "read", 0)
        if since > 0:
            return _json({"study": study_view(data), "columns": columns_since(data, since)})
        return Response(everything.get(data), media_type="application/json")

    def api_table(request: Request) -> Response:
        data = reader.study(_name(request))
        q = request.query_params
        states = [s for s in q.get("states", "").split(",") if s]
        return _json(
            trial_rows(
                data,
                offset=_int(request, "offset", 0),
                limit=_int(request, "limit", 50),
                sort=q.get("sort", "id"),
                descending=q.get("desc", "0") == "1",
                states=states,
                worker=q.get("worker") or None,
                param=q.get("param") or None,
                param_value=q.get("value"),
                objective=_int(request, "objective", 0),
            )
        )

    def api_curves(request: Request) -> Response:
        return _json(curves_view(reader.study(_name(request)), limit=_int(request, "limit", 200)))

    def api_params(request: Request) -> Response:
        data = reader.study(_name(request))
        return _json(params_view(data, objective=_int(request, "objective", 0)))

    def api_importance(request: Request) -> Response:
        name = _name(request)
        objective = _int(request, "objective", 0)
        data = reader.study(name)
        value = slow.get(
            (name, objective), data.reads, lambda: importance_view(data, objective=objective)
        )
        return _json(value)

    def api_pareto(request: Request) -> Response:
        return _json(pareto_view(reader.study(_name(request))))

    def writes(request: Request) -> None:
        if not allow_writes:
            raise HTTPException(
                403, "this dashboard is read-only; start it with --allow-writes to change studies"
            )

    async def api_enqueue(request: Request) -> Response:
        writes(request)
        form = await _form(request)
        name, raw_id = form.get("name", ""), form.get("id", "")
        if not name or not raw_id.isdigit():
            raise FieldValueError("enqueue needs `name` (a study) and `id` (a trial number)")
        source = storage.get_trial(name, int(raw_id))
        added = storage.enqueue_trial(name, source.dna, source.example)
        return _json({"study": name, "trial": added.id, "from": source.id})

    async def api_note(request: Request) -> Response:
        writes(request)
        form = await _form(request)
        name, text, trial = form.get("name", ""), form.get("text", ""), form.get("trial", "")
        if not name:
            raise FieldValueError("a note needs `name` (a study)")
        if trial and not trial.isdigit():
            raise FieldValueError(f"`trial` must be a trial number, got {trial!r}")
        if len(text) > NOTE_CHARS:
            raise FieldValueError(f"a note holds at most {NOTE_CHARS} characters, got {len(text)}")
        if trial:
            storage.get_trial(name, int(trial))  # StudyNotFoundError names a missing one
        info = storage.get_study(name)
        notes = _notes(info.metadata)
        if trial:
            notes["trials"][trial] = text
            if not text:
                del notes["trials"][trial]
        else:
            notes["study"] = text
        stored = storage.update_study_metadata(name, {NOTES_KEY: notes})
        return _json({"study": name, "trial": trial or None, "notes": stored.metadata[NOTES_KEY]})

    async def api_delete(request: Request) -> Response:
        writes(request)
        form = await _form(request)
        name, confirm = form.get("name", ""), form.get("confirm", "")
        if not name or confirm != name:
            raise FieldValueError("delete needs `name` and `confirm` set to the same study name")
        storage.delete_study(name)
        reader.forget(name)
        return _json({"deleted": name})

    def plotly_file(request: Request) -> Response:
        return FileResponse(plotly, media_type="text/javascript", headers=_CACHE)

    routes = [
        Route("/", studies_page),
        Route("/study", study_page),
        Route("/trial", trial_page),
        Route("/api/studies", api_studies),
        Route("/api/study", api_study),
        Route("/api/table", api_table),
        Route("/api/curves", api_curves),
        Route("/api/params", api_params),
        Route("/api/importance", api_importance),
        Route("/api/pareto", api_pareto),
        Route("/api/enqueue", api_enqueue, methods=["POST"]),
        Route("/api/delete", api_delete, methods=["POST"]),
        Route("/api/note", api_note, methods=["POST"]),
        Route("/static/plotly.min.js", plotly_file),
        Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
    ]
    app = Starlette(
        routes=routes,
        exception_handlers={
            StudyNotFoundError: _not_found,
            FieldValueError: _bad_request,
            AutomorphError: _bad_request,
            HTTPException: _http_error,
        },
    )
    app.add_middleware(_Headers)
    app.state.reader = reader
    if preload:
        threading.Thread(
            target=_preload, args=(reader, everything), name="preload", daemon=True
        ).start()
    return app


class _Everything:
    """A study's every trial as the study page's first request gets them:
    encoded once per read of the study, the same bytes for every page."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[int, bytes]] = {}

    def get(self, data: StudyData) -> bytes:
        cached = self._cache.get(data.name)
        if cached is None or cached[0] != data.reads:
            body = _dumps({"study": study_view(data), "columns": columns_since(data, 0)})
            cached = self._cache[data.name] = (data.reads, body)
        return cached[1]


def _preload(reader: Reader, everything: _Everything) -> None:
    """Reads every study once, in the background, so the first page opened
    on a large study does not wait for its first read."""
    try:
        names = reader.names()
        for name in names:  # what every study page shows first, then the rest
            with contextlib.suppress(StudyNotFoundError):
                everything.get(reader.study(name, complete=False))
        for name in names:
            with contextlib.suppress(StudyNotFoundError):
                reader.study(name)
    except Exception:
        logging.getLogger("automorph.dashboard").exception("reading the studies ahead failed")


_CACHE = {"Cache-Control": "public, max-age=86400"}
NOTES_KEY = "notes"
"""Where a study's metadata keeps the dashboard's notes:
{"study": text, "trials": {trial id: text}}."""
NOTE_CHARS = 10_000


def _notes(metadata: dict[str, Any]) -> dict[str, Any]:
    """The study's notes, in their shape whatever the metadata holds."""
    found = metadata.get(NOTES_KEY)
    found = found if isinstance(found, dict) else {}
    trials = found.get("trials")
    return {
        "study": str(found.get("study") or ""),
        "trials": {str(k): str(v) for k, v in trials.items()} if isinstance(trials, dict) else {},
    }


async def _form(request: Request) -> dict[str, str]:
    """A URL-encoded form's fields (the last value of each), read without
    python-multipart; anything else is refused."""
    kind = request.headers.get("content-type", "").split(";")[0].strip()
    if kind != "application/x-www-form-urlencoded":
        raise FieldValueError(
            f"send the fields as application/x-www-form-urlencoded, not {kind or 'nothing'}"
        )
    body = await request.body()
    if len(body) > 65536:
        raise FieldValueError(f"a form of {len(body)} bytes is too large (64 KiB at most)")
    fields = urllib.parse.parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
    return {key: values[-1] for key, values in fields.items()}


async def _not_found(request: Request, exc: Exception) -> Response:
    return _error(request, 404, str(exc))


async def _bad_request(request: Request, exc: Exception) -> Response:
    return _error(request, 400, str(exc))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return _error(request, exc.status_code, str(exc.detail))


def _error(request: Request, status: int, message: str) -> Response:
    if request.url.path.startswith("/api/"):
        return _json({"error": message}, status)
    from html import escape

    body = (
        "<!doctype html><html><head><meta charset='utf-8'><title>automorph dashboard</title>"
        "<link rel='stylesheet' href='/static/dashboard.css'></head><body><main>"
        f"<h1>{status}</h1><p class='error'>{escape(message)}</p>"
        "<p><a href='/'>All studies</a></p></main></body></html>"
    )
    return HTMLResponse(body, status_code=status)


class _Headers:
    """Adds the content security policy and no-sniffing to every response."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [
                    (b"content-security-policy", CSP.encode()),
                    (b"x-content-type-options", b"nosniff"),
                    (b"referrer-policy", b"no-referrer"),
                ]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


def _duration(trial: TrialRecord) -> float | None:
    if trial.started is None or trial.finished is None:
        return None
    return trial.finished - trial.started


def _diff(
    storage: Storage, name: str, trial: TrialRecord, best_id: int | None
) -> list[tuple[str, str, str]] | None:
    """The program's differences from the best trial's, as (path, best, this);
    None when there is nothing to compare (no best, this is the best, or an
    example cannot be read here)."""
    if best_id is None or best_id == trial.id or trial.example is None:
        return None
    from automorph.symbolic import diff, from_json_str

    best = storage.get_trial(name, best_id)
    if best.example is None:
        return None
    try:
        left, right = from_json_str(best.example), from_json_str(trial.example)
    except (AutomorphError, ValueError, TypeError):
        return None
    return [(str(path), _short(a), _short(b)) for path, (a, b) in diff(left, right).items()]


def _short(value: Any, width: int = 200) -> str:
    text = repr(value) if not isinstance(value, str) else value
    return text if len(text) <= width else text[: width - 1] + "…"
