// The page of `cnnscope serve`: model picker, module tree (click: feature maps), image picker and
// drag-and-drop upload (predictions), first-layer filters and the weights table. Uses only the
// JSON/HTTP API; uploads stay in memory (sent as the request body).
"use strict";

const $ = (id) => document.getElementById(id);
const state = { model: null, image: null, upload: null, layer: null };

function status(text, error) {
  $("status").textContent = text;
  $("status").className = error ? "error" : "";
}

async function api(path, options) {
  const res = await fetch(path, options);
  if (!res.ok) {
    let what = res.status + " " + res.statusText;
    try { what = (await res.json()).error; } catch (e) { /* not JSON: keep the status */ }
    throw new Error(what);
  }
  return res;
}

// The request for the current image: ?image=NAME, or the uploaded bytes as the body. The server
// refuses POSTs without a content type that needs a CORS preflight cross-origin (CSRF), so say one.
function imageRequest(path, params) {
  const query = new URLSearchParams(params);
  const headers = { "Content-Type": "application/octet-stream" };
  if (state.upload) return [path + "?" + query, { method: "POST", headers, body: state.upload }];
  query.set("image", state.image);
  return [path + "?" + query, { method: "POST", headers }];
}

function hasImage() { return state.upload !== null || state.image !== null; }

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

async function loadModels() {
  const models = await (await api("/api/models")).json();
  const select = $("model");
  for (const m of models) {
    const o = el("option", m.id + ": " + m.file.split("/").pop() + " (" + m.arch + ")");
    o.value = m.id;
    select.appendChild(o);
  }
  select.addEventListener("change", () => selectModel(models.find((m) => m.id === select.value)));
  if (models.length) await selectModel(models[0]);
}

// Lists the images; returns their names (the page opens the first one).
async function loadImages() {
  const names = await (await api("/api/images")).json();
  const select = $("images");
  if (!names.length) select.appendChild(el("option", "(no --images)"));
  for (const n of names) {
    const o = el("option", n);
    o.value = n;
    select.appendChild(o);
  }
  select.addEventListener("change", () => {
    if (!select.value) return;
    state.image = select.value;
    state.upload = null;
    refreshImage();
  });
  return names;
}

async function selectModel(m) {
  state.model = m;
  state.layer = m.default_layers[0];
  $("description").textContent = m.description;
  await Promise.all([loadTree(), loadFilters(), loadWeights()]);
  if (hasImage()) await refreshImage();
}

async function loadTree() {
  const summary = await (await api("/api/models/" + state.model.id + "/summary")).json();
  const tree = $("tree");
  tree.replaceChildren();
  for (const layer of summary.layers) {
    const li = el("li", layer.name + ": " + layer.type);
    li.style.paddingLeft = layer.name.split(".").length + "em";  // depth, and 1em for wrapped lines
    li.dataset.layer = layer.name;
    if (layer.output_shape) li.appendChild(el("span", "[" + layer.output_shape.join(", ") + "]", "shape"));
    if (layer.name === state.layer) li.classList.add("selected");
    li.addEventListener("click", () => selectLayer(layer.name));
    tree.appendChild(li);
  }
}

async function loadFilters() {
  const img = $("filters");
  if (img.src) URL.revokeObjectURL(img.src);
  img.removeAttribute("src");
  $("filters-note").textContent = "";
  try {
    const blob = await (await api("/api/models/" + state.model.id + "/filters")).blob();
    img.src = URL.createObjectURL(blob);
  } catch (e) {
    $("filters-note").textContent = e.message;
  }
}

function histogram(counts) {
  const span = el("span", undefined, "histogram");
  const top = Math.max(1, ...counts);
  const step = Math.max(1, Math.floor(counts.length / 40));
  for (let i = 0; i < counts.length; i += step) {
    const bar = el("span", undefined, "bar");
    bar.style.height = Math.round(20 * counts[i] / top) + "px";
    span.appendChild(bar);
  }
  return span;
}

// A table cell with a tensor key that a narrow column breaks after its dots.
function dotted(name) {
  const td = el("td");
  name.split(".").forEach((part, i, parts) => {
    td.append(part + (i + 1 < parts.length ? "." : ""));
    if (i + 1 < parts.length) td.appendChild(el("wbr"));
  });
  return td;
}

async function loadWeights() {
  const report = await (await api("/api/models/" + state.model.id + "/weights")).json();
  const body = $("weights").querySelector("tbody");
  body.replaceChildren();
  // Three significant digits; tiny values as 1.23e-5 so that the column stays narrow.
  const fmt = (v) => {
    if (v === null) return "-";
    const n = Number(v);
    return n !== 0 && Math.abs(n) < 1e-3 ? n.toExponential(2) : n.toPrecision(3);
  };
  for (const t of report.tensors) {
    const tr = el("tr");
    tr.appendChild(dotted(t.name));
    tr.appendChild(el("td", "[" + t.shape.join(", ") + "]"));
    tr.appendChild(el("td", fmt(t.mean)));
    tr.appendChild(el("td", fmt(t.std)));
    const td = el("td");
    if (t.histogram) td.appendChild(histogram(t.histogram.counts));
    tr.appendChild(td);
    body.appendChild(tr);
  }
}

async function refreshImage() {
  status("running…");
  try {
    const [url, options] = imageRequest("/api/models/" + state.model.id + "/predict", {});
    const p = await (await api(url, options)).json();
    const body = $("predictions").querySelector("tbody");
    body.replaceChildren();
    p.top.forEach((t, i) => {
      const tr = el("tr");
      tr.appendChild(el("td", String(i + 1)));
      tr.appendChild(el("td", t.label));
      tr.appendChild(el("td", t.probability.toFixed(4)));
      body.appendChild(tr);
    });
    await showLayer();
    status("ready");
  } catch (e) {
    status(e.message, true);
  }
}

async function selectLayer(name) {
  state.layer = name;
  for (const li of $("tree").children) li.classList.toggle("selected", li.dataset.layer === name);
  if (!hasImage()) {
    status("pick or drop an image first");
    return;
  }
  try {
    await showLayer();
    status("ready");
  } catch (e) {
    status(e.message, true);
  }
}

// Fetches the layer's grid and statistics, then shows both at once; an answer that arrives after a
// later click or image (requests overlap) is dropped, so the page never mixes two layers.
let showSerial = 0;
async function showLayer() {
  const serial = ++showSerial;
  const layer = state.layer;
  const path = "/api/models/" + state.model.id + "/features";
  const [pngUrl, pngOptions] = imageRequest(path, { layer: layer, format: "png" });
  const [jsonUrl, jsonOptions] = imageRequest(path, { layer: layer, format: "json" });
  const [blob, doc] = await Promise.all([
    api(pngUrl, pngOptions).then((r) => r.blob()),
    api(jsonUrl, jsonOptions).then((r) => r.json()),
  ]);
  if (serial !== showSerial) return;
  const l = doc.images[0].layers[0];
  $("layer-title").textContent = "Feature maps: " + l.name + " [" + l.shape.join(", ") + "]";
  $("layer-stats").textContent = "mean " + l.mean.toPrecision(4) + ", max " + l.max.toPrecision(4) +
    ", zeros " + (100 * l.zero_fraction).toFixed(1) + "%, dead channels " + l.dead_channels;
  const grid = $("grid");
  if (grid.src) URL.revokeObjectURL(grid.src);
  grid.src = URL.createObjectURL(blob);
  grid.dataset.layer = layer;
}

function setUpload(file) {
  file.arrayBuffer().then((bytes) => {
    state.upload = bytes;
    state.image = null;
    $("images").selectedIndex = -1;
    refreshImage();
  }, (e) => status("cannot read " + file.name + ": " + e.message, true));
}

function setUpDrop() {
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer.files.length) setUpload(e.dataTransfer.files[0]);
  });
  $("file").addEventListener("change", (e) => { if (e.target.files.length) setUpload(e.target.files[0]); });
}

// Opens the image a link names (#image=NAME&layer=L; the layer: clicks its tree entry), else the
// first listed image.
async function applyHash(names) {
  const want = new URLSearchParams(location.hash.slice(1));
  const image = want.get("image") || names[0];
  if (image) {
    $("images").value = image;
    state.image = image;
    await refreshImage();
  }
  if (want.has("layer")) {
    const li = [...$("tree").children].find((e) => e.dataset.layer === want.get("layer"));
    if (li) li.click();
  }
}

setUpDrop();
Promise.all([loadModels(), loadImages()])
  .then(([, names]) => applyHash(names))
  .then(() => status("ready"), (e) => status(e.message, true));
