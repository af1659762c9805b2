// genreid's page: uploads files to /api/classify and draws the answers
// (with "sounds like" neighbours when the service has a library);
// keeps a live dashboard from /api/stats and the /api/events stream.
"use strict";

const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948",
  "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac", "#1f77b4", "#d62728"];
let labels = [];
const counts = new Map();
let total = 0;
let errors = 0;
// The service's similarity library ({tracks, embedding}), or null.
let library = null;

const $ = (id) => document.getElementById(id);
const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  for (const child of children) node.append(child);
  return node;
};
const colour = (genre) => PALETTE[Math.max(0, labels.indexOf(genre)) % PALETTE.length];
const pct = (p) => `${(100 * p).toFixed(1)}%`;

function bars(entries, max) {
  const list = el("ul", { className: "bars" });
  for (const [name, value, text] of entries) {
    const bar = el("div", { className: "bar" });
    bar.style.width = `${max > 0 ? (100 * value) / max : 0}%`;
    bar.style.background = colour(name);
    list.append(el("li", {}, el("span", { textContent: name }), bar, el("span", { className: "num", textContent: text })));
  }
  return list;
}

// Magma-like ramp for the spectrogram, dark to bright.
function ramp(v) {
  const t = v / 255;
  return [Math.round(255 * Math.min(1, 1.6 * t)), Math.round(255 * Math.max(0, 1.5 * t - 0.45)), Math.round(255 * (0.35 + 0.5 * Math.sin(3.1 * t)))];
}

function drawSpectrogram(spec) {
  const canvas = el("canvas", { className: "spec", width: spec.frames, height: spec.bands });
  canvas.setAttribute("role", "img");
  canvas.setAttribute("aria-label", `mel spectrogram, ${spec.seconds.toFixed(1)} seconds`);
  const bytes = Uint8Array.from(atob(spec.data), (c) => c.charCodeAt(0));
  const ctx = canvas.getContext("2d");
  const image = ctx.createImageData(spec.frames, spec.bands);
  for (let band = 0; band < spec.bands; band++) {
    for (let t = 0; t < spec.frames; t++) {
      const [r, g, b] = ramp(bytes[band * spec.frames + t]);
      const at = 4 * ((spec.bands - 1 - band) * spec.frames + t); // low bands at the bottom
      image.data.set([r, g, b, 255], at);
    }
  }
  ctx.putImageData(image, 0, 0);
  return canvas;
}

function timeline(segments) {
  const strip = el("div", { className: "timeline" });
  strip.setAttribute("role", "img");
  const runs = [];
  for (const s of segments) {
    strip.append(el("span", { title: `${s.start.toFixed(1)}–${s.end.toFixed(1)} s: ${s.genre}` }));
    strip.lastChild.style.background = colour(s.genre);
    const last = runs[runs.length - 1];
    if (last && last.genre === s.genre) last.end = s.end; else runs.push({ genre: s.genre, start: s.start, end: s.end });
  }
  strip.setAttribute("aria-label", "timeline: " + runs.map((r) => `${r.genre} ${r.start.toFixed(0)}–${r.end.toFixed(0)} s`).join(", "));
  return strip;
}

function showResult(card, answer) {
  card.dataset.genre = answer.genre;
  card.querySelector(".status").replaceWith(
    el("p", { className: "verdict", textContent: `${answer.genre} (${pct(answer.confidence)})` }));
  for (const w of answer.warnings || []) {
    card.append(el("p", { className: "warning", role: "note", textContent: w.message }));
  }
  if (answer.spectrogram) card.append(drawSpectrogram(answer.spectrogram));
  const ranked = Object.entries(answer.probabilities).sort((a, b) => b[1] - a[1]);
  card.append(bars(ranked.slice(0, 5).map(([g, p]) => [g, p, pct(p)]), 1));
  if (answer.segments && answer.segments.length > 1) {
    card.append(timeline(answer.segments));
    card.append(el("p", { className: "legend", textContent: `${answer.segments.length} segments; majority vote: ${answer.vote}` }));
  }
  const tags = Object.entries(answer.tags || {}).sort((a, b) => b[1] - a[1]).slice(0, 5);
  if (tags.length) card.append(el("p", { className: "legend", textContent: "tags: " + tags.map(([t, p]) => `${t} ${pct(p)}`).join(", ") }));
  if (answer.similar) card.append(soundsLike(answer.similar));
  card.append(el("p", { className: "legend", textContent: `${answer.duration_seconds.toFixed(1)} s of audio, answered in ${answer.timing_ms.total} ms` }));
}

// The library tracks nearest the upload, with their similarity (cosine).
function soundsLike(neighbours) {
  const section = el("div", { className: "similar" }, el("h4", { textContent: "Sounds like" }));
  if (!neighbours.length) {
    section.append(el("p", { className: "legend", textContent: "the library is empty" }));
    return section;
  }
  const list = el("ol", { className: "neighbours" });
  list.setAttribute("aria-label", "Tracks that sound like this one");
  for (const n of neighbours) {
    const file = n.path.split("/").pop();
    const who = n.artist && n.title ? `${n.artist} – ${n.title}` : file;
    const item = el("li", { title: n.path },
      el("span", { className: "who", textContent: who }),
      el("span", { className: "num", textContent: `${n.genre || "?"} · ${n.similarity.toFixed(2)}` }));
    item.dataset.path = n.path;
    list.append(item);
  }
  section.append(list);
  return section;
}

async function classify(file) {
  const card = el("li", { className: "result" }, el("h3", { textContent: file.name }), el("p", { className: "status", textContent: "classifying…" }));
  card.setAttribute("aria-busy", "true");
  $("results").prepend(card);
  try {
    const similar = library ? "&similar=5" : "";
    const url = `/api/classify?segments=true&spectrogram=true${similar}&name=${encodeURIComponent(file.name)}`;
    const response = await fetch(url, { method: "POST", body: file, headers: { "Content-Type": file.type || "application/octet-stream" } });
    const answer = await response.json();
    if (!response.ok) throw new Error(answer.error || response.statusText);
    showResult(card, answer);
  } catch (error) {
    card.dataset.error = "true";
    card.querySelector(".status").replaceWith(el("p", { className: "error", textContent: `Not classified: ${error.message}` }));
  } finally {
    card.setAttribute("aria-busy", "false");
  }
}

function renderDashboard() {
  $("dash-total").textContent = String(total);
  $("dash-errors").textContent = String(errors);
  const names = [...new Set([...labels, ...counts.keys()])];
  const max = Math.max(1, ...counts.values());
  const list = bars(names.map((g) => [g, counts.get(g) || 0, String(counts.get(g) || 0)]), max);
  list.id = "dash-bars";
  list.setAttribute("aria-label", "Uploads by genre");
  for (const [i, item] of [...list.children].entries()) item.dataset.genreCount = names[i];
  $("dash-bars").replaceWith(list);
}

function addRecent(event) {
  const when = new Date(event.time_ms).toLocaleTimeString();
  $("dash-recent").prepend(el("li", { textContent: `${when}: ${event.name} → ${event.genre} (${pct(event.confidence)})` }));
  while ($("dash-recent").children.length > 10) $("dash-recent").lastChild.remove();
}

async function startDashboard() {
  const models = await (await fetch("/api/models")).json();
  $("model-name").textContent = models.loaded.name;
  library = models.library;
  const stats = await (await fetch("/api/stats")).json();
  labels = stats.labels;
  total = stats.total;
  errors = stats.errors;
  for (const [g, n] of Object.entries(stats.by_genre)) counts.set(g, n);
  for (const event of stats.recent) addRecent(event);
  renderDashboard();
  const source = new EventSource("/api/events");
  source.addEventListener("open", () => { $("live-status").textContent = "live"; });
  source.addEventListener("error", () => { $("live-status").textContent = "reconnecting…"; });
  source.addEventListener("refused", () => {
    errors += 1;
    renderDashboard();
  });
  source.addEventListener("verdict", (message) => {
    const event = JSON.parse(message.data);
    total += 1;
    counts.set(event.genre, (counts.get(event.genre) || 0) + 1);
    addRecent(event);
    renderDashboard();
  });
}

function setUpUpload() {
  const drop = $("drop");
  const input = $("file-input");
  input.addEventListener("change", () => { for (const file of input.files) classify(file); input.value = ""; });
  for (const name of ["dragenter", "dragover"]) drop.addEventListener(name, (e) => { e.preventDefault(); drop.classList.add("over"); });
  for (const name of ["dragleave", "drop"]) drop.addEventListener(name, () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => { e.preventDefault(); for (const file of e.dataTransfer.files) classify(file); });
}

setUpUpload();
startDashboard();
