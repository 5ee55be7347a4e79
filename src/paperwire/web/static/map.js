// The map of papers, drawn with the vendored deck.gl (WebGL): an even sample of the stored
// layout from /api/map as binary attributes (smooth at 100k points), more points of the
// visible box fetched as one zooms in, cluster labels, the user's library and "For you"
// highlighted. Mode "browse" (/map): a click opens the paper; mode "pick" (onboarding):
// a click shows the cluster's top papers to tick as seeds. Titles are set as text only.
(function () {
  "use strict";
  const el = document.getElementById("paper-map");
  if (!el) return;
  const status = document.getElementById("map-status");
  const tip = document.getElementById("map-tip");
  const panel = document.getElementById("map-panel");
  const countEl = document.getElementById("map-count");
  const mode = el.dataset.mode || "browse";
  const sample = parseInt(el.dataset.sample || "20000", 10);
  const noHover = window.matchMedia && window.matchMedia("(hover: none)").matches;
  const PALETTE = [
    [31, 119, 180], [44, 160, 44], [148, 103, 189], [140, 86, 75], [227, 119, 194], [127, 127, 127],
    [188, 189, 34], [23, 190, 207], [57, 59, 121], [99, 121, 57], [140, 109, 49], [132, 60, 57],
  ];
  const MINE = [230, 85, 13], FORYOU = [214, 39, 40];
  const titles = new Map();
  let base = null, detail = null, deckgl = null, initialZoom = 0, pinned = null, timer = null, controller = null;
  let view = null, labelFrame = 0, labelBoxes = [];
  // A portrait screen shows the (usually wide) map turned a quarter: (x, y) is drawn at (-y, x).
  const turned = el.clientHeight > el.clientWidth * 1.15;
  const toView = (x, y) => (turned ? [-y, x] : [x, y]);
  const boxFromView = ([a, b, c, d]) => (turned ? [b, -c, d, -a] : [a, b, c, d]);

  function say(text) { status.textContent = text; status.hidden = !text; }
  if (!window.deck) { say("The map needs WebGL and JavaScript."); return; }

  function pack(d) {
    const n = d.ids.length, pos = new Float32Array(2 * n), colors = new Uint8Array(4 * n);
    for (let i = 0; i < n; i++) {
      const [vx, vy] = toView(d.x[i], d.y[i]);
      pos[2 * i] = vx; pos[2 * i + 1] = vy;
      const c = PALETTE[d.cluster[i] % PALETTE.length];
      colors[4 * i] = c[0]; colors[4 * i + 1] = c[1]; colors[4 * i + 2] = c[2]; colors[4 * i + 3] = 170;
    }
    return { ids: d.ids, cluster: d.cluster, length: n, attributes: {
      getPosition: { value: pos, size: 2 }, getFillColor: { value: colors, size: 4, normalized: true } } };
  }

  function highlights(d) {
    const at = new Map(d.ids.map((id, i) => [id, i]));
    const out = [];
    for (const [list, kind] of [[d.foryou, "foryou"], [d.mine, "mine"]]) {
      for (const id of list) if (at.has(id)) { const i = at.get(id); out.push({ id, kind, cluster: d.cluster[i], position: toView(d.x[i], d.y[i]) }); }
    }
    return out;
  }

  function pointLayer(id, data, radius) {
    return new deck.ScatterplotLayer({
      id, data, radiusUnits: "pixels", getRadius: radius, radiusMinPixels: 1.5,
    });
  }

  function layers() {
    const out = [pointLayer("points", base.points, 2.5)];
    if (detail) out.push(pointLayer("detail", detail.points, 2.5));
    out.push(new deck.ScatterplotLayer({
      id: "highlights", data: base.highlights, getPosition: (h) => h.position, radiusUnits: "pixels",
      getRadius: (h) => (h.kind === "mine" ? 6 : 5), stroked: true, filled: true, lineWidthUnits: "pixels",
      getLineWidth: 2, getLineColor: (h) => (h.kind === "mine" ? MINE : FORYOU),
      getFillColor: (h) => (h.kind === "mine" ? [...MINE, 120] : [255, 255, 255, 60]),
    }));
    const text = { id: "labels", data: visibleLabels(), getPosition: (c) => toView(c.x, c.y), getText: (c) => short(c.label),
      getPixelOffset: (c) => [c.dx || 0, 0],
      characterSet: "auto", getSize: 13, sizeUnits: "pixels", getColor: [20, 20, 20, 255], background: true,
      getBackgroundColor: [255, 255, 255, 215], backgroundPadding: [4, 2], fontFamily: "system-ui, sans-serif",
      fontWeight: 600 };
    out.push(new deck.TextLayer(text));
    return out;
  }

  const short = (label) => (label.length > 30 ? label.slice(0, 29) + "…" : label);

  // Labels that fit without overlapping at this zoom, the biggest clusters first.
  function visibleLabels() {
    if (!view) return base.clusters;
    const scale = Math.pow(2, view.zoom), w = el.clientWidth, h = el.clientHeight, kept = [], boxes = [];
    for (const c of [...base.clusters].sort((a, b) => b.size - a.size)) {
      const [vx, vy] = toView(c.x, c.y);
      const sx = (vx - view.target[0]) * scale + w / 2, sy = (vy - view.target[1]) * scale + h / 2;
      const half = (short(c.label).length * 7.6 + 10) / 2;
      if (sx < 0 || sx > w || sy < 0 || sy > h) continue;
      // Slide a label that would stick out of the map back inside it.
      const dx = Math.max(0, 4 + half - sx) + Math.min(0, w - 4 - half - sx);
      const box = [sx + dx - half, sy - 11, sx + dx + half, sy + 11];
      if (boxes.some((o) => box[0] < o[2] && o[0] < box[2] && box[1] < o[3] && o[1] < box[3])) continue;
      boxes.push(box); kept.push({ ...c, dx });
    }
    labelBoxes = boxes.map((box, i) => ({ box, cluster: kept[i].id }));
    return kept;
  }

  // Hit tests run on the CPU (a pass over ≤ 2 × 100k positions is well under a millisecond):
  // GPU picking reads pixels back, which software WebGL (no GPU) makes take seconds.
  function pointOf(info) {
    if (!info || !info.coordinate || !view) return null;
    const [cx, cy] = info.coordinate, r = 7 / Math.pow(2, view.zoom);
    let best = -1, bestD = r * r, from = null;
    for (const set of [detail && detail.points, base.points]) {
      if (!set) continue;
      const pos = set.attributes.getPosition.value;
      for (let i = 0; i < set.length; i++) {
        const dx = pos[2 * i] - cx, dy = pos[2 * i + 1] - cy, d = dx * dx + dy * dy;
        if (d < bestD) { bestD = d; best = i; from = set; }
      }
    }
    return best < 0 ? null : { id: from.ids[best], cluster: from.cluster[best] };
  }

  function labelAt(info) {
    const hit = labelBoxes.find(({ box }) => info.x >= box[0] && info.x <= box[2] && info.y >= box[1] && info.y <= box[3]);
    return hit ? hit.cluster : null;
  }

  function showTip(point, x, y, withLink) {
    tip.hidden = false;
    tip.classList.toggle("pinned", withLink);  // only a tapped tip takes clicks (its link)
    // Beside the point, never over it: to its right, or to its left near the right edge.
    tip.style.left = (x + 252 <= el.clientWidth ? x + 12 : Math.max(0, x - 252)) + "px";
    tip.style.top = Math.min(Math.max(y + 12, 0), Math.max(el.clientHeight - 80, 0)) + "px";
    const fill = (info) => {
      tip.replaceChildren();
      const title = document.createElement("strong");
      title.textContent = info.title;
      tip.append(title);
      if (withLink) {
        const a = document.createElement("a");
        a.href = "/map/paper/" + point.id; a.textContent = "Open paper"; a.className = "tip-open";
        tip.append(document.createElement("br"), a);
      }
    };
    if (titles.has(point.id)) { fill(titles.get(point.id)); return; }
    tip.textContent = "…";
    fetch("/api/map/points/" + point.id, { credentials: "same-origin" }).then((r) => (r.ok ? r.json() : null)).then((info) => {
      if (!info) return;
      titles.set(point.id, info);
      if (!tip.hidden && tip.dataset.id === String(point.id)) fill(info);
    });
  }

  function hover(info) {
    if (noHover) return;
    const point = pointOf(info);
    if (!point) { tip.hidden = true; tip.dataset.id = ""; return; }
    if (tip.dataset.id === String(point.id) && !tip.hidden) return;
    tip.dataset.id = String(point.id);
    showTip(point, info.x, info.y, false);
  }

  function click(info) {
    const label = labelAt(info);
    if (label !== null) { openCluster(label); return true; }
    const point = pointOf(info);
    if (!point) return false;
    if (mode === "pick") { openCluster(point.cluster); return true; }
    if (noHover && pinned !== point.id) {  // touch: the first tap shows the title and a link
      pinned = point.id; tip.dataset.id = String(point.id); showTip(point, info.x, info.y, true); return true;
    }
    window.location.href = "/map/paper/" + point.id;
    return true;
  }

  // Onboarding: a ticked paper joins the form's list of seeds (and stays there while
  // other clusters are opened); unticking it in either place takes it out.
  function pick(paper, on) {
    const list = document.getElementById("map-picked");
    const existing = list.querySelector('input[name=seed][value="' + CSS.escape(paper.uid) + '"]');
    if (on && !existing) {
      const label = document.createElement("label");
      label.className = "choice seed";
      const box = document.createElement("input");
      box.type = "checkbox"; box.name = "seed"; box.value = paper.uid; box.checked = true;
      const span = document.createElement("span");
      span.textContent = paper.title;
      label.append(box, " ", span);
      list.append(label);
    } else if (!on && existing) {
      existing.closest("label").remove();
    }
    const none = document.getElementById("map-picked-none");
    if (none) none.hidden = list.querySelector("input[name=seed]") !== null;
  }

  function openCluster(cluster) {
    fetch("/api/map/clusters/" + cluster + "?limit=8", { credentials: "same-origin" })
      .then((r) => (r.ok ? r.json() : null)).then((c) => {
        if (!c || !panel) return;
        document.getElementById("map-panel-title").textContent = c.label;
        document.getElementById("map-panel-size").textContent = c.size + " papers";
        const list = document.getElementById("map-panel-papers");
        list.replaceChildren();
        for (const p of c.papers) {
          if (mode === "pick") {
            const label = document.createElement("label");
            label.className = "choice seed";
            const box = document.createElement("input");
            box.type = "checkbox"; box.value = p.uid;
            const picked = document.querySelector('#pick-seeds input[name=seed][value="' + CSS.escape(p.uid) + '"]');
            box.checked = !!(picked && picked.checked);
            box.addEventListener("change", () => pick(p, box.checked));
            const span = document.createElement("span");
            span.textContent = p.title;
            label.append(box, " ", span);
            list.append(label);
          } else {
            const a = document.createElement("a");
            a.href = p.url; a.textContent = p.title;
            list.append(a);
          }
        }
        panel.hidden = false;
        panel.dataset.cluster = String(c.id);
      });
  }

  function visibleBox() {
    const viewport = deckgl.getViewports()[0];
    if (!viewport) return null;
    const a = viewport.unproject([0, 0]), b = viewport.unproject([viewport.width, viewport.height]);
    return [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[0], b[0]), Math.max(a[1], b[1])];
  }

  function onView({ viewState }) {
    tip.hidden = true; pinned = null; view = viewState;
    cancelAnimationFrame(labelFrame);
    labelFrame = requestAnimationFrame(() => deckgl.setProps({ layers: layers() }));
    clearTimeout(timer);
    if (base.total <= base.count || viewState.zoom < initialZoom + 1) {
      if (detail) { detail = null; deckgl.setProps({ layers: layers() }); }
      return;
    }
    timer = setTimeout(() => {
      const box = visibleBox() && boxFromView(visibleBox());
      if (!box) return;
      if (controller) controller.abort();
      controller = new AbortController();
      fetch("/api/map?sample=" + sample + "&bbox=" + box.map((v) => v.toFixed(3)).join(","),
            { credentials: "same-origin", signal: controller.signal })
        .then((r) => r.json()).then((d) => { detail = { points: pack(d) }; deckgl.setProps({ layers: layers() }); })
        .catch(() => {});
    }, 250);
  }

  function start(d) {
    if (!d.generation || !d.ids.length) { say("No map yet."); return; }
    base = { points: pack(d), highlights: highlights(d), clusters: d.clusters, total: d.total, count: d.count };
    const [x0, y0, x1, y1] = turned ? [-d.bounds[3], d.bounds[0], -d.bounds[1], d.bounds[2]] : d.bounds;
    const w = Math.max(el.clientWidth, 1), h = Math.max(el.clientHeight, 1);
    initialZoom = Math.log2(Math.min(w / Math.max(x1 - x0, 1e-6), h / Math.max(y1 - y0, 1e-6)) * 0.92);
    view = { target: [(x0 + x1) / 2, (y0 + y1) / 2, 0], zoom: initialZoom };
    deckgl = new deck.Deck({
      parent: el, views: new deck.OrthographicView({ id: "map" }),
      initialViewState: { target: [(x0 + x1) / 2, (y0 + y1) / 2, 0], zoom: initialZoom,
                          minZoom: initialZoom - 2, maxZoom: initialZoom + 9 },
      controller: { dragPan: true, scrollZoom: true, touchZoom: true, doubleClickZoom: true, keyboard: true },
      getCursor: ({ isDragging }) => (isDragging ? "grabbing" : "crosshair"),
      onViewStateChange: onView, layers: layers(),
      onHover: hover, onClick: click,
      onAfterRender: () => { if (!el.dataset.drawn) { el.dataset.drawnAt = String(Math.round(performance.now())); el.dataset.drawn = "1"; } },
    });
    say("");
    if (countEl) countEl.textContent = d.count < d.total ? ` · showing ${d.count.toLocaleString()} of ${d.total.toLocaleString()} (zoom in for more)` : ` · ${d.total.toLocaleString()} papers`;
    // For tests and scripts: where a point is on screen.
    window.paperwireMap = {
      ids: d.ids, clusters: d.clusters, deck: deckgl,
      screenOf(id) {
        const i = d.ids.indexOf(id);
        if (i < 0) return null;
        const viewport = deckgl.getViewports()[0];
        return viewport ? viewport.project(toView(d.x[i], d.y[i])) : null;
      },
      // Points well inside the map and clear of every label: [id, x, y] on the map's canvas.
      clearPoints() {
        const viewport = deckgl.getViewports()[0], w = el.clientWidth, h = el.clientHeight, out = [];
        for (let i = 0; i < d.ids.length; i++) {
          const [x, y] = viewport.project(toView(d.x[i], d.y[i]));
          if (x < 20 || y < 20 || x > w - 20 || y > h - 20) continue;
          if (labelBoxes.some(({ box }) => x > box[0] - 8 && x < box[2] + 8 && y > box[1] - 8 && y < box[3] + 8)) continue;
          out.push([d.ids[i], x, y]);
        }
        return out;
      },
    };
  }

  fetch("/api/map?sample=" + sample, { credentials: "same-origin" })
    .then((r) => { if (!r.ok) throw new Error(r.status); return r.json(); })
    .then(start).catch(() => say("The map could not be loaded."));
})();
