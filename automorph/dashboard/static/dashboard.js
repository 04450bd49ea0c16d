// automorph dashboard: fills the server's page shells from its JSON API and
// keeps them up to date by polling. Text from the store is only ever put in
// the page with textContent (or escaped for Plotly, which reads a few HTML
// tags in labels), never as HTML.
"use strict";

const POLL_MS = 2000;
const SLOW_POLL_MS = 10000;
const MAX_POINTS = 5000;

// The study page asks for its study's trials as soon as this script runs.
// Plotly (4.8 MB) is downloaded meanwhile (a preload link) but compiled only
// after the first paint, which draws the history on a canvas of its own.
const EARLY_STUDY = document.currentScript && document.currentScript.dataset.study;
const EARLY = EARLY_STUDY ? fetch(`/api/study?name=${encodeURIComponent(EARLY_STUDY)}&read=0`, { cache: "no-store" }) : null;

function loadPlotly() {
  if (window.Plotly) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const script = document.createElement("script");
    script.src = "/static/plotly.min.js";
    script.onload = () => resolve();
    script.onerror = () => reject(new Error("cannot load /static/plotly.min.js"));
    document.head.appendChild(script);
  });
}

function esc(text) {
  // For Plotly labels and hover text: its pseudo-HTML must see no tags.
  return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function el(tag, text, cls) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (cls) node.className = cls;
  return node;
}

function link(href, text) {
  const a = el("a", text);
  a.href = href;
  return a;
}

function fmt(value) {
  if (value === null || value === undefined) return "—";
  if (typeof value === "number") {
    if (Number.isInteger(value)) return String(value);
    return Number(value.toPrecision(6)).toString();
  }
  if (Array.isArray(value)) return value.map(fmt).join(", ");
  return String(value);
}

function ago(t, now) {
  if (!t) return "—";
  const s = Math.max(0, now - t);
  if (s < 60) return `${Math.round(s)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${(s / 3600).toFixed(1)} h ago`;
  return new Date(t * 1000).toLocaleString();
}

function studyHref(name) {
  return `/study?name=${encodeURIComponent(name)}`;
}

function trialHref(name, id) {
  return `/trial?name=${encodeURIComponent(name)}&id=${id}`;
}

async function getJSON(url) {
  const response = await fetch(url, { cache: "no-store" });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || `${response.status} ${response.statusText}`);
  return body;
}

function setLive(ok, message) {
  const live = document.getElementById("live");
  live.textContent = message;
  live.className = ok ? "live ok" : "live down";
}

function bestText(best) {
  if (!best) return "—";
  if (best.front !== undefined) return `Pareto front of ${best.front}`;
  return fmt(best.value);
}

// --- the studies page ------------------------------------------------------

async function studiesPage() {
  const body = document.querySelector("#studies tbody");
  const note = document.getElementById("studies-note");
  async function poll() {
    try {
      const data = await getJSON("/api/studies");
      body.replaceChildren();
      for (const s of data.studies) {
        const row = el("tr");
        row.dataset.study = s.name;
        const name = el("td");
        name.appendChild(link(studyHref(s.name), s.name));
        row.appendChild(name);
        row.appendChild(el("td", s.directions.join(", ")));
        row.appendChild(el("td", s.trials, "num"));
        for (const state of ["pending", "running", "completed", "skipped", "failed"]) {
          const cell = el("td", s.states[state], "num");
          cell.dataset.state = state;
          row.appendChild(cell);
        }
        row.appendChild(el("td", bestText(s.best), "num best"));
        const bestTrial = el("td");
        if (s.best && s.best.trial) bestTrial.appendChild(link(trialHref(s.name, s.best.trial), s.best.trial));
        row.appendChild(bestTrial);
        row.appendChild(el("td", ago(s.last_activity, data.time)));
        body.appendChild(row);
      }
      note.textContent = data.studies.length ? `${data.studies.length} studies` : "This store has no studies yet.";
      setLive(true, `live · updated ${new Date().toLocaleTimeString()}`);
    } catch (e) {
      setLive(false, `cannot reach the server: ${e.message}`);
    }
  }
  await poll();
  setInterval(poll, POLL_MS);
}

// --- the study page ---------------------------------------------------------

function ticks(low, high, count) {
  // About `count` round values between low and high (steps of 1, 2 or 5 times a power of ten).
  const raw = (high - low) / count;
  const power = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
  const out = [];
  for (let v = Math.ceil(low / step) * step; v <= high + step * 1e-9; v += step) out.push(v);
  return out;
}

function sketchHistory(node, points, bestX, best, range, minimize) {
  // Every completed trial and the best so far on a plain canvas: what the
  // page shows while Plotly compiles, replaced by Plotly's interactive plot.
  const width = node.clientWidth || 900;
  const height = 360;
  const scale = window.devicePixelRatio || 1;
  const canvas = document.createElement("canvas");
  canvas.className = "sketch";
  canvas.width = width * scale;
  canvas.height = height * scale;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const g = canvas.getContext("2d");
  g.scale(scale, scale);
  const left = 70, right = 30, top = 10, bottom = 50;
  const xs = points.map((p) => p.id);
  const x0 = xs.length ? xs[0] : 0, x1 = xs.length ? Math.max(xs[xs.length - 1], x0 + 1) : 1;
  let [y0, y1] = range || [0, 1];
  if (y1 <= y0) y1 = y0 + 1;
  const px = (x) => left + ((x - x0) / (x1 - x0)) * (width - left - right);
  const py = (y) => top + (1 - (y - y0) / (y1 - y0)) * (height - top - bottom);
  g.font = "12px system-ui, sans-serif";
  g.fillStyle = "#444";
  g.strokeStyle = "#e5e5e5";
  for (const y of ticks(y0, y1, 5)) {
    g.beginPath(); g.moveTo(left, py(y)); g.lineTo(width - right, py(y)); g.stroke();
    g.textAlign = "right"; g.fillText(Number(y.toPrecision(3)).toString(), left - 6, py(y) + 4);
  }
  for (const x of ticks(x0, x1, 5)) {
    g.textAlign = "center"; g.fillText(String(Math.round(x)), px(x), height - bottom + 16);
  }
  g.fillText("trial", (left + width - right) / 2, height - 10);
  g.save(); g.translate(16, (top + height - bottom) / 2); g.rotate(-Math.PI / 2);
  g.fillText(`objective (${minimize ? "minimize" : "maximize"})`, 0, 0); g.restore();
  g.save();
  g.beginPath(); g.rect(left, top, width - left - right, height - top - bottom); g.clip();
  for (const p of points) {
    g.fillStyle = p.r.infeasible ? "rgba(150,150,150,0.6)" : p.r.stopped ? "rgba(142,108,138,0.6)" : "rgba(31,119,180,0.5)";
    g.fillRect(px(p.id) - 1.5, py(p.y) - 1.5, 3, 3);
  }
  g.strokeStyle = "#e4572e"; g.lineWidth = 2; g.beginPath();
  bestX.forEach((x, i) => {
    if (i === 0) g.moveTo(px(x), py(best[i]));
    else { g.lineTo(px(x), py(best[i - 1])); g.lineTo(px(x), py(best[i])); }
  });
  g.stroke(); g.restore();
  const sketch = node.querySelector("canvas.sketch");
  if (sketch) sketch.replaceWith(canvas); else node.prepend(canvas);
}

const STATE_COLORS = {
  pending: "#9aa5b1", running: "#f0a202", completed: "#1f77b4", skipped: "#8e6c8a", failed: "#d62728",
};

class StudyPage {
  constructor(name) {
    this.name = name;
    this.read = 0;
    this.rows = new Map(); // trial id -> {state, value, start, end, worker, steps, stopped, infeasible}
    this.states = [];
    this.view = null;
    this.objective = 0;
    this.table = { offset: 0, sort: "id", desc: true, state: "" };
    this.slowAt = 0;
    this.params = null;
  }

  q(extra) {
    return `name=${encodeURIComponent(this.name)}${extra || ""}`;
  }

  async start() {
    document.getElementById("log-scale").addEventListener("change", () => this.drawHistory());
    document.getElementById("full-range").addEventListener("change", () => this.drawHistory());
    document.getElementById("objective").addEventListener("change", (e) => {
      this.objective = Number(e.target.value);
      this.drawHistory();
      this.loadSlow(true);
    });
    document.getElementById("slice-param").addEventListener("change", () => this.drawSlice());
    document.getElementById("state-filter").addEventListener("change", (e) => {
      this.table.state = e.target.value;
      this.table.offset = 0;
      this.loadTable();
    });
    document.getElementById("page-size").addEventListener("change", () => {
      this.table.offset = 0;
      this.loadTable();
    });
    document.getElementById("prev").addEventListener("click", () => {
      this.table.offset = Math.max(0, this.table.offset - this.pageSize());
      this.loadTable();
    });
    document.getElementById("next").addEventListener("click", () => {
      if (this.table.offset + this.pageSize() < this.table.total) {
        this.table.offset += this.pageSize();
        this.loadTable();
      }
    });
    await this.poll();
    try {
      await loadPlotly();
    } catch (e) {
      setLive(false, e.message);
      return;
    }
    this.plotly = true;
    this.drawHistory();
    this.drawTimeline();
    performance.mark("automorph:plots");
    this.loadSlow(true);
    setInterval(() => this.poll(), POLL_MS);
  }

  pageSize() {
    return Number(document.getElementById("page-size").value);
  }

  async poll() {
    let data;
    try {
      if (this.read === 0 && EARLY && !this.early) {
        this.early = true;
        const response = await EARLY;
        data = await response.json();
        if (!response.ok) throw new Error(data.error || `${response.status}`);
      } else {
        data = await getJSON(`/api/study?${this.q(`&read=${this.read}`)}`);
      }
    } catch (e) {
      setLive(false, `cannot reach the server: ${e.message}`);
      return;
    }
    const changed = this.merge(data.columns);
    this.view = data.study;
    this.showFacts();
    if (changed || !this.drawn) {
      const first = !this.drawn;
      this.drawn = true;
      this.drawHistory();
      if (first) {
        // Let the browser paint the facts and the history before anything
        // else runs: that is the first paint (benchmarks/dashboard.py reads the mark).
        await new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)));
        performance.mark("automorph:first-paint");
      }
      if (this.plotly) this.drawTimeline();
      this.loadTable();
      if (!first && Date.now() - this.slowAt > SLOW_POLL_MS) this.loadSlow(false);
    }
    setLive(true, `live · ${this.rows.size} trials · updated ${new Date().toLocaleTimeString()}`);
    document.body.dataset.read = String(this.read);
  }

  merge(columns) {
    this.states = columns.states;
    this.read = columns.read;
    this.origin = columns.origin;
    const n = columns.id.length;
    for (let i = 0; i < n; i++) {
      const worker = columns.worker[i];
      this.rows.set(columns.id[i], {
        state: columns.states[columns.state[i]],
        value: columns.value.map((v) => v[i]),
        start: columns.start[i],
        end: columns.end[i],
        worker: worker === null ? null : columns.workers[worker],
        steps: columns.steps[i],
        stopped: columns.stopped[i] === 1,
        infeasible: columns.infeasible[i] === 1,
      });
    }
    return n > 0;
  }

  showFacts() {
    const v = this.view;
    document.getElementById("trial-count").textContent = v.trials;
    for (const [state, count] of Object.entries(v.states)) {
      const node = document.getElementById(`count-${state}`);
      if (node) node.textContent = count;
    }
    const best = document.getElementById("best");
    best.replaceChildren();
    if (v.best && v.best.trial) {
      best.appendChild(document.createTextNode(`${fmt(v.best.value)} (trial `));
      best.appendChild(link(trialHref(this.name, v.best.trial), v.best.trial));
      best.appendChild(document.createTextNode(")"));
    } else {
      best.textContent = bestText(v.best);
    }
    document.getElementById("last-activity").textContent = ago(v.last_activity, Date.now() / 1000);
    const select = document.getElementById("objective");
    if (select.options.length !== v.objectives) {
      select.replaceChildren();
      for (let k = 0; k < v.objectives; k++) {
        const option = el("option", `${k} (${v.directions[Math.min(k, v.directions.length - 1)]})`);
        option.value = String(k);
        select.appendChild(option);
      }
    }
    document.getElementById("pareto-panel").hidden = !v.multi_objective;
  }

  minimized(k) {
    const d = this.view.directions;
    return d[Math.min(k, d.length - 1)] === "minimize";
  }

  drawHistory() {
    // Every completed trial is a point, the best so far a line; past
    // MAX_POINTS trials the points are thinned (every improvement, the best
    // ones and an even spread of the rest stay), which looks the same at
    // screen resolution and keeps the first paint fast.
    const k = this.objective;
    const ids = [...this.rows.keys()].sort((a, b) => a - b);
    const minimize = this.minimized(k);
    const points = [];
    const bestX = [], best = [];
    let current = null;
    for (const id of ids) {
      const r = this.rows.get(id);
      const y = r.value[k];
      if (r.state !== "completed" || y === null || y === undefined) continue;
      let improves = false;
      if (!r.infeasible && (current === null || (minimize ? y < current : y > current))) {
        current = y;
        improves = true;
        bestX.push(id);
        best.push(y);
      }
      points.push({ id, y, r, improves });
    }
    if (bestX.length && bestX[bestX.length - 1] !== ids[ids.length - 1]) {
      bestX.push(ids[ids.length - 1]);
      best.push(current);
    }
    let shown = points;
    if (points.length > MAX_POINTS) {
      const ranked = points.map((p) => p.y).sort((a, b) => (minimize ? a - b : b - a));
      const cut = ranked[Math.floor(MAX_POINTS / 5)];
      const stride = Math.ceil(points.length / MAX_POINTS);
      shown = points.filter((p, i) => p.improves || i % stride === 0 || (minimize ? p.y <= cut : p.y >= cut));
    }
    const node = document.getElementById("history");
    node.dataset.points = String(points.length);
    node.dataset.drawn = String(shown.length);
    if (!this.plotly) {
      sketchHistory(node, points, bestX, best, this.view.y_range[k], minimize);
      document.getElementById("history-note").textContent = `${points.length} completed trials`;
      return;
    }
    const sketch = node.querySelector("canvas.sketch");
    if (sketch) sketch.remove();
    const pick = (test) => {
      const chosen = shown.filter(test);
      return { x: chosen.map((p) => p.id), y: chosen.map((p) => p.y) };
    };
    const ok = pick((p) => !p.r.infeasible && !p.r.stopped);
    const stopped = pick((p) => !p.r.infeasible && p.r.stopped);
    const bad = pick((p) => p.r.infeasible);
    const traces = [
      { ...ok, type: "scatter", mode: "markers", name: "trial", marker: { size: 4, color: STATE_COLORS.completed, opacity: 0.6 } },
      { x: bestX, y: best, type: "scatter", mode: "lines", name: "best so far", line: { color: "#e4572e", width: 2, shape: "hv" } },
    ];
    if (stopped.x.length) traces.push({ ...stopped, type: "scatter", mode: "markers", name: "stopped early", marker: { size: 5, symbol: "x", color: "#8e6c8a" } });
    if (bad.x.length) traces.push({ ...bad, type: "scatter", mode: "markers", name: "infeasible", marker: { size: 5, symbol: "circle-open", color: "#999" } });
    const log = document.getElementById("log-scale").checked;
    const full = document.getElementById("full-range").checked;
    const range = this.view.y_range[k];
    const yaxis = { title: { text: `objective ${k} (${minimize ? "minimize" : "maximize"})` }, type: log ? "log" : "linear" };
    if (!log && !full && range) yaxis.range = range;
    else yaxis.autorange = true;
    Plotly.react("history", traces, { margin: { t: 10, r: 10 }, xaxis: { title: { text: "trial" } }, yaxis, legend: { orientation: "h" }, height: 360 }, { responsive: true, displaylogo: false });
    document.getElementById("history-note").textContent = shown.length < points.length
      ? `${shown.length} of ${points.length} completed trials drawn: every improvement, the best and an even spread`
      : `${points.length} completed trials`;
  }

  drawTimeline() {
    const ids = [...this.rows.keys()].sort((a, b) => a - b).filter((id) => this.rows.get(id).start !== null);
    const shown = ids.slice(-1000);
    const byState = {};
    const now = Date.now() / 1000 - this.origin;
    for (const id of shown) {
      const r = this.rows.get(id);
      const t = byState[r.state] || (byState[r.state] = { x: [], base: [], y: [], text: [] });
      const end = r.end === null ? now : r.end;
      t.base.push(r.start);
      t.x.push(Math.max(end - r.start, 1e-3));
      t.y.push(esc(r.worker || "?"));
      t.text.push(`trial ${id}`);
    }
    const traces = Object.entries(byState).map(([state, t]) => ({
      type: "bar", orientation: "h", name: state, x: t.x, base: t.base, y: t.y, text: t.text,
      hovertemplate: "%{text}<br>%{base:.2f} s + %{x:.2f} s<extra></extra>",
      marker: { color: STATE_COLORS[state] }, textposition: "none",
    }));
    document.getElementById("timeline-note").textContent = ids.length > shown.length ? `the last ${shown.length} of ${ids.length} trials` : "";
    Plotly.react("timeline", traces, { barmode: "overlay", margin: { t: 10, r: 10, l: 120 }, xaxis: { title: { text: "seconds since the study began" } }, height: 300, legend: { orientation: "h" } }, { responsive: true, displaylogo: false });
  }

  async loadTable() {
    const t = this.table;
    const size = this.pageSize();
    let extra = `&offset=${t.offset}&limit=${size}&sort=${encodeURIComponent(t.sort)}&desc=${t.desc ? 1 : 0}&objective=${this.objective}${t.state ? `&states=${t.state}` : ""}`;
    if (t.worker) extra += `&worker=${encodeURIComponent(t.worker)}`;
    if (t.param) extra += `&param=${encodeURIComponent(t.param)}&value=${encodeURIComponent(t.value)}`;
    this.showFilter();
    let data;
    try {
      data = await getJSON(`/api/table?${this.q(extra)}`);
    } catch (e) {
      document.getElementById("page-info").textContent = e.message;
      return;
    }
    t.total = data.total;
    const head = document.querySelector("#trials thead");
    const body = document.querySelector("#trials tbody");
    const columns = [["id", "Trial"], ["state", "State"], ["value", "Value"], ["duration", "Duration (s)"], ["worker", "Worker"], ["steps", "Steps"]];
    const headRow = el("tr");
    for (const [key, label] of columns.concat(data.decisions.map((d) => [`param:${d}`, d]))) {
      const th = el("th", label + (t.sort === key ? (t.desc ? " ▼" : " ▲") : ""));
      th.dataset.sort = key;
      th.className = "sortable";
      th.addEventListener("click", () => {
        if (t.sort === key) t.desc = !t.desc;
        else { t.sort = key; t.desc = false; }
        t.offset = 0;
        this.loadTable();
      });
      headRow.appendChild(th);
    }
    head.replaceChildren(headRow);
    body.replaceChildren();
    for (const row of data.rows) {
      const tr = el("tr");
      tr.dataset.trial = row.id;
      const idCell = el("td", null, "num");
      idCell.appendChild(link(trialHref(this.name, row.id), row.id));
      tr.appendChild(idCell);
      const state = el("td", row.state + (row.stopped !== null ? " (stopped early)" : "") + (row.infeasible ? " (infeasible)" : ""), `state-${row.state}`);
      tr.appendChild(state);
      tr.appendChild(el("td", fmt(row.value), "num value"));
      tr.appendChild(el("td", row.duration === null ? "—" : row.duration.toFixed(3), "num"));
      tr.appendChild(this.filterCell(row.worker || "—", row.worker ? { worker: row.worker } : null));
      tr.appendChild(el("td", row.steps, "num"));
      row.params.forEach((p, j) => tr.appendChild(this.filterCell(p, p === "" ? null : { param: data.decisions[j], value: p })));
      body.appendChild(tr);
    }
    const last = Math.min(t.offset + size, data.total);
    document.getElementById("page-info").textContent = data.total ? `${t.offset + 1}–${last} of ${data.total}` : "no trials";
  }

  filterCell(text, filter) {
    // A worker's or a decision's cell: a click shows only the trials that share it.
    const cell = el("td", text);
    if (filter) {
      cell.className = "filterable";
      cell.title = "show only the trials with this value";
      cell.addEventListener("click", () => {
        Object.assign(this.table, { worker: null, param: null, value: null }, filter, { offset: 0 });
        this.loadTable();
      });
    }
    return cell;
  }

  showFilter() {
    const t = this.table;
    const box = document.getElementById("table-filter");
    box.replaceChildren();
    if (!t.worker && !t.param) return;
    box.appendChild(document.createTextNode(t.worker ? `worker = ${t.worker} ` : `${t.param} = ${t.value} `));
    const clear = el("button", "✕ clear");
    clear.type = "button";
    clear.id = "clear-filter";
    clear.addEventListener("click", () => {
      Object.assign(t, { worker: null, param: null, value: null, offset: 0 });
      this.loadTable();
    });
    box.appendChild(clear);
  }

  async loadSlow(force) {
    this.slowAt = Date.now();
    const q = this.q(`&objective=${this.objective}`);
    const tasks = [
      getJSON(`/api/curves?${this.q()}`).then((d) => this.drawCurves(d)),
      getJSON(`/api/params?${q}`).then((d) => { this.params = d; this.drawParams(); this.drawSlice(); }),
      getJSON(`/api/importance?${q}`).then((d) => this.drawImportance(d)),
    ];
    if (this.view && this.view.multi_objective) tasks.push(getJSON(`/api/pareto?${this.q()}`).then((d) => this.drawPareto(d)));
    await Promise.allSettled(tasks);
    if (force) document.body.dataset.plots = "ready";
  }

  drawCurves(data) {
    const traces = data.curves.map((c) => ({
      x: c.steps, y: c.values, type: "scatter", mode: "lines", name: `trial ${c.id}`,
      line: { width: c.id === data.best ? 3 : 1, color: c.id === data.best ? "#e4572e" : c.stopped !== null ? "#8e6c8a" : STATE_COLORS[c.state] || "#1f77b4" },
      opacity: c.id === data.best ? 1 : 0.5, showlegend: false,
    }));
    const stopped = data.curves.filter((c) => c.stopped !== null);
    if (stopped.length) {
      traces.push({
        x: stopped.map((c) => c.steps[c.steps.length - 1]), y: stopped.map((c) => c.values[c.values.length - 1]),
        type: "scatter", mode: "markers", name: "stopped early", marker: { symbol: "x", size: 7, color: "#8e6c8a" },
      });
    }
    const note = document.getElementById("curves-note");
    note.textContent = data.curves.length ? `the latest ${data.curves.length} of ${data.trials} trials with intermediate values; best in red, early-stopped ending in ×` : "no trial reported intermediate values of one objective";
    Plotly.react("curves", traces, { margin: { t: 10, r: 10 }, xaxis: { title: { text: "step" } }, yaxis: { title: { text: "intermediate value" } }, height: 320 }, { responsive: true, displaylogo: false });
  }

  paramAxis(d, values) {
    // Parallel coordinates write labels as plain SVG text: no escaping (it would show).
    const axis = { label: d.id, values: values.map((v) => (v === null ? NaN : v)) };
    if (d.kind === "choice") {
      axis.tickvals = d.labels.map((_, i) => i);
      axis.ticktext = d.labels.map((label) => (label.length > 24 ? `${label.slice(0, 23)}…` : label));
      axis.range = [-0.5, d.labels.length - 0.5];
    } else if (d.log) {
      axis.values = axis.values.map((v) => (v > 0 ? Math.log10(v) : NaN));
      axis.label = `log10 ${d.id}`;
    }
    return axis;
  }

  drawParams() {
    const p = this.params;
    const note = document.getElementById("params-note");
    if (!p.value.length) {
      note.textContent = "no completed trial yet";
      Plotly.purge("parcoords");
      return;
    }
    note.textContent = p.shown < p.completed ? `${p.shown} of ${p.completed} completed trials (the best and an even spread of the rest)` : `${p.completed} completed trials`;
    const dims = p.decisions.map((d) => this.paramAxis(d, p.params[d.id]));
    dims.push({ label: `objective ${p.objective}`, values: p.value });
    Plotly.react("parcoords", [{
      type: "parcoords", dimensions: dims,
      line: { color: p.value, colorscale: "Viridis", reversescale: p.direction === "minimize", showscale: true },
    }], { margin: { t: 40, l: 60, r: 60 }, height: 360 }, { responsive: true, displaylogo: false });
    const select = document.getElementById("slice-param");
    if (select.options.length !== p.decisions.length) {
      select.replaceChildren();
      for (const d of p.decisions) {
        const option = el("option", d.id);
        option.value = d.id;
        select.appendChild(option);
      }
    }
  }

  drawSlice() {
    const p = this.params;
    if (!p || !p.decisions.length) return;
    const id = document.getElementById("slice-param").value || p.decisions[0].id;
    const d = p.decisions.find((x) => x.id === id);
    const xs = [], ys = [], text = [];
    p.params[id].forEach((v, i) => {
      if (v === null) return;
      xs.push(d.kind === "choice" ? esc(d.labels[v] ?? v) : v);
      ys.push(p.value[i]);
      text.push(`trial ${p.ids[i]}`);
    });
    const xaxis = { title: { text: esc(id) }, type: d.kind === "choice" ? "category" : d.log ? "log" : "linear" };
    Plotly.react("slice", [{ x: xs, y: ys, text, type: "scatter", mode: "markers", marker: { size: 5, opacity: 0.6, color: p.ids, colorscale: "Blues", showscale: true, colorbar: { title: { text: "trial" } } } }],
      { margin: { t: 10, r: 10 }, xaxis, yaxis: { title: { text: `objective ${p.objective}` } }, height: 320 }, { responsive: true, displaylogo: false });
  }

  drawImportance(data) {
    const note = document.getElementById("importance-note");
    if (data.error) {
      note.textContent = data.error;
      Plotly.purge("importance");
      return;
    }
    note.textContent = `fANOVA over ${data.trials} completed trials`;
    const order = data.decisions.map((_, i) => i).reverse();
    Plotly.react("importance", [{
      type: "bar", orientation: "h", x: order.map((i) => data.importance[i]), y: order.map((i) => esc(data.decisions[i])),
      error_x: { type: "data", array: order.map((i) => data.spread[i]), visible: true }, marker: { color: "#1f77b4" },
    }], { margin: { t: 10, r: 10, l: 140 }, xaxis: { title: { text: "fraction of variance" } }, height: 60 + 28 * data.decisions.length }, { responsive: true, displaylogo: false });
  }

  drawPareto(data) {
    const note = document.getElementById("pareto-note");
    if (data.error) {
      note.textContent = data.error;
      return;
    }
    note.textContent = `${data.front_size} trials on the front`;
    const on = data.front.map((f, i) => (f ? i : -1)).filter((i) => i >= 0);
    const off = data.front.map((f, i) => (f ? -1 : i)).filter((i) => i >= 0);
    const pick = (rows, k) => rows.map((i) => data.values[i][k]);
    const label = (k) => `objective ${k} (${data.directions[k]})`;
    Plotly.react("pareto", [
      { x: pick(off, 0), y: pick(off, 1), text: off.map((i) => `trial ${data.ids[i]}`), type: "scatter", mode: "markers", name: "dominated", marker: { size: 5, color: "#9aa5b1" } },
      { x: pick(on, 0), y: pick(on, 1), text: on.map((i) => `trial ${data.ids[i]}`), type: "scatter", mode: "markers", name: "Pareto front", marker: { size: 7, color: "#e4572e" } },
    ], { margin: { t: 10, r: 10 }, xaxis: { title: { text: label(0) } }, yaxis: { title: { text: label(1) } }, height: 340, legend: { orientation: "h" } }, { responsive: true, displaylogo: false });
    Plotly.react("hypervolume", [{ x: data.hypervolume.map((h) => h[0]), y: data.hypervolume.map((h) => h[1]), type: "scatter", mode: "lines+markers", name: "hypervolume" }],
      { margin: { t: 10, r: 10 }, xaxis: { title: { text: "trial" } }, yaxis: { title: { text: "hypervolume" } }, height: 340 }, { responsive: true, displaylogo: false });
  }
}

// --- the trial page ---------------------------------------------------------

function trialPage() {
  const state = document.body.dataset.state;
  if (state === "pending" || state === "running") {
    setLive(true, "live · this trial is under way; the page reloads every 3 s");
    setTimeout(() => window.location.reload(), 3000);
  } else {
    setLive(true, "");
  }
}

function noteForms() {
  // Notes (only with --allow-writes): saved without leaving the page.
  for (const form of document.querySelectorAll("form.note-form")) {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const status = form.querySelector("[data-role=status]");
      const text = form.querySelector("textarea").value;
      const body = new URLSearchParams({ name: form.dataset.study, trial: form.dataset.trial, text });
      try {
        const response = await fetch("/api/note", { method: "POST", body });
        const data = await response.json();
        if (!response.ok) throw new Error(data.error || `${response.status}`);
        document.getElementById("note-text").textContent = text || "No note.";
        status.textContent = "saved";
      } catch (e) {
        status.textContent = `not saved: ${e.message}`;
      }
    });
  }
}

async function post(path, fields) {
  const response = await fetch(path, { method: "POST", body: new URLSearchParams(fields) });
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || `${response.status}`);
  return data;
}

function writeButtons() {
  // Enqueue and delete (only with --allow-writes).
  const enqueue = document.getElementById("enqueue");
  if (enqueue) {
    enqueue.addEventListener("click", async () => {
      const status = document.getElementById("enqueue-status");
      try {
        const data = await post("/api/enqueue", { name: enqueue.dataset.study, id: enqueue.dataset.trial });
        status.replaceChildren(document.createTextNode("queued as "), link(trialHref(data.study, data.trial), `trial ${data.trial}`));
      } catch (e) {
        status.textContent = `not queued: ${e.message}`;
      }
    });
  }
  const remove = document.getElementById("delete-study");
  if (remove) {
    remove.addEventListener("click", async () => {
      const name = remove.dataset.study;
      const typed = window.prompt(`Delete study ${name} and all its trials? Type its name to confirm.`);
      if (typed === null) return;
      try {
        await post("/api/delete", { name, confirm: typed });
        window.location.href = "/";
      } catch (e) {
        document.getElementById("delete-status").textContent = `not deleted: ${e.message}`;
      }
    });
  }
}

function main() {
  noteForms();
  writeButtons();
  const page = document.body.dataset.page;
  if (page === "studies") studiesPage();
  else if (page === "study") {
    window.studyPage = new StudyPage(document.body.dataset.study);
    window.studyPage.start();
  }
  else if (page === "trial") trialPage();
}

// Deferred scripts run before DOMContentLoaded: wait for it, so Plotly is there.
if (document.readyState === "complete") main();
else document.addEventListener("DOMContentLoaded", main);
