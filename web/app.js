// thumbflow console page. Talks to /api only; every string that comes from a user (object
// keys, file names, error messages naming them) goes into the page through textContent or
// element properties, never as markup.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const state = { images: new Map(), nextPageToken: "", filters: { since: "", until: "", status: "" }, current: null };

  // --- small helpers -------------------------------------------------------------------
  function el(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function baseName(key) {
    const s = String(key || "");
    const i = s.lastIndexOf("/");
    return i >= 0 ? s.slice(i + 1) : s;
  }

  function bytes(n) {
    if (!(n >= 0)) return "";
    if (n < 1024) return n + " B";
    if (n < 1024 * 1024) return (n / 1024).toFixed(1) + " KiB";
    return (n / 1024 / 1024).toFixed(1) + " MiB";
  }

  function when(iso) {
    const d = new Date(iso);
    return isNaN(d) ? String(iso || "") : d.toLocaleString();
  }

  async function api(path, options) {
    const res = await fetch(path, Object.assign({ credentials: "same-origin" }, options || {}));
    if (res.status === 401) {
      window.location.assign("/login");
      throw new Error("not logged in");
    }
    let body = null;
    try {
      body = await res.json();
    } catch (e) {
      body = null;
    }
    if (!res.ok) throw new Error((body && body.error) || "HTTP " + res.status);
    return body;
  }

  function imageUrl(id, suffix) {
    return "/api/images/" + encodeURIComponent(id) + (suffix || "");
  }

  // --- gallery -------------------------------------------------------------------------
  function matchesFilters(r) {
    const f = state.filters;
    if (f.status && r.status !== f.status) return false;
    const day = String(r.uploadDate || "").slice(0, 10);
    if (f.since && day && day < f.since) return false;
    if (f.until && day && day > f.until) return false;
    return true;
  }

  function paintPlaceholder(canvas, hash) {
    if (!hash || !window.BlurHash || !window.BlurHash.isValid(hash)) return;
    try {
      const w = 32, h = 32;
      const pixels = window.BlurHash.decode(hash, w, h, 1);
      canvas.width = w;
      canvas.height = h;
      const ctx = canvas.getContext("2d");
      const data = ctx.createImageData(w, h);
      data.data.set(pixels);
      ctx.putImageData(data, 0, 0);
    } catch (e) {
      /* a bad hash leaves the plain background */
    }
  }

  function card(r) {
    const li = el("li", "card " + (r.status || "pending"));
    li.dataset.id = r.imageId;
    const open = el("button", "card-open");
    open.type = "button";
    const name = baseName(r.originalImage || r.key);
    open.setAttribute("aria-label", "Details of " + name);
    const thumb = el("span", "thumb");
    if (r.dominantColour && /^#[0-9a-fA-F]{6}$/.test(r.dominantColour)) thumb.style.backgroundColor = r.dominantColour;
    const canvas = el("canvas", "placeholder");
    canvas.setAttribute("aria-hidden", "true");
    paintPlaceholder(canvas, r.blurhash);
    thumb.appendChild(canvas);
    if (r.status === "processed" && r.links && r.links.renditions && r.renditions && r.renditions.length) {
      const img = el("img");
      img.alt = "";
      img.decoding = "async";
      img.addEventListener("load", () => img.classList.add("loaded"));
      img.src = r.links.renditions[r.renditions[0].name];
      thumb.appendChild(img);
    } else if (r.status === "failed") {
      thumb.appendChild(el("span", "badge bad", "failed"));
    } else {
      thumb.appendChild(el("span", "badge wait", r.retrying ? "retrying" : "processing"));
    }
    open.appendChild(thumb);
    open.appendChild(el("span", "name", name));
    const info = r.image && r.image.width ? r.image.width + "\u00d7" + r.image.height + " " + (r.image.format || "") : "";
    open.appendChild(el("span", "sub", [info, when(r.uploadDate)].filter(Boolean).join(" \u00b7 ")));
    open.addEventListener("click", () => showDetail(r.imageId));
    li.appendChild(open);
    if (r.status === "failed") {
      li.appendChild(el("p", "reason", (r.errorKind ? r.errorKind + ": " : "") + (r.errorMessage || "")));
      const retry = el("button", "retry", "Retry");
      retry.type = "button";
      retry.setAttribute("aria-label", "Retry " + name);
      retry.addEventListener("click", () => retryImage(r.imageId, retry));
      li.appendChild(retry);
    }
    return li;
  }

  function upsert(r, atTop) {
    const gallery = $("gallery");
    const old = gallery.querySelector('li[data-id="' + CSS.escape(r.imageId) + '"]');
    if (!matchesFilters(r) && r.status) {
      if (old) old.remove();
      state.images.delete(r.imageId);
      updateEmpty();
      return;
    }
    const prev = state.images.get(r.imageId);
    if (prev && !r.status && prev.status && !r.retrying) return;  // a late "uploaded" never hides a result
    state.images.set(r.imageId, r);
    const fresh = card(r);
    if (old) old.replaceWith(fresh);
    else if (atTop) gallery.prepend(fresh);
    else gallery.appendChild(fresh);
    updateEmpty();
  }

  function removeCard(id) {
    const old = $("gallery").querySelector('li[data-id="' + CSS.escape(id) + '"]');
    if (old) old.remove();
    state.images.delete(id);
    updateEmpty();
  }

  function updateEmpty() {
    $("empty").hidden = $("gallery").children.length > 0;
  }

  async function loadImages(append) {
    const q = new URLSearchParams();
    const f = state.filters;
    if (f.since) q.set("since", f.since);
    if (f.until) q.set("until", f.until);
    if (f.status) q.set("status", f.status);
    if (append && state.nextPageToken) q.set("pageToken", state.nextPageToken);
    $("list-error").hidden = true;
    try {
      const body = await api("/api/images?" + q.toString());
      if (!append) {
        $("gallery").replaceChildren();
        state.images.clear();
      }
      for (const r of body.images) upsert(r, false);
      state.nextPageToken = body.nextPageToken || "";
      $("more").hidden = !state.nextPageToken;
    } catch (e) {
      $("list-error").textContent = "Cannot load the images: " + e.message;
      $("list-error").hidden = false;
    }
    updateEmpty();
  }

  async function retryImage(id, button) {
    if (button) button.disabled = true;
    // Shown as retrying before the request: its result can arrive on the event stream before
    // the answer to the POST does, and must not be overwritten by it.
    const before = state.images.get(id);
    if (before) upsert(Object.assign({}, before, { status: "", retrying: true }), false);
    try {
      await api(imageUrl(id, "/retry"), { method: "POST" });
    } catch (e) {
      alertText("Retry failed: " + e.message);
      if (before && state.images.get(id) && state.images.get(id).retrying) upsert(before, false);
      if (button) button.disabled = false;
    }
  }

  function alertText(message) {
    const p = $("list-error");
    p.textContent = message;
    p.hidden = false;
  }

  // --- detail view ---------------------------------------------------------------------
  function addMeta(dl, label, value) {
    if (value === undefined || value === null || value === "") return;
    dl.appendChild(el("dt", null, label));
    dl.appendChild(el("dd", null, value));
  }

  async function showDetail(id) {
    let r;
    try {
      r = await api(imageUrl(id));
    } catch (e) {
      alertText("Cannot open the image: " + e.message);
      return;
    }
    state.current = r;
    const dialog = $("detail");
    $("detail-title").textContent = baseName(r.originalImage);
    const img = $("detail-img");
    const renditions = r.renditions || [];
    if (renditions.length) {
      const biggest = renditions.reduce((a, b) => (b.width * b.height > a.width * a.height ? b : a));
      img.src = r.links.renditions[biggest.name];
      img.hidden = false;
    } else {
      img.removeAttribute("src");
      img.hidden = true;
    }
    const dl = $("detail-meta");
    dl.replaceChildren();
    addMeta(dl, "Status", r.status);
    addMeta(dl, "Key", r.originalImage);
    addMeta(dl, "Image id", r.imageId);
    addMeta(dl, "Uploaded", when(r.uploadDate));
    addMeta(dl, "Size", bytes(r.sourceBytes));
    const info = r.image || {};
    if (info.width) addMeta(dl, "Dimensions", info.width + " \u00d7 " + info.height);
    addMeta(dl, "Format", info.format);
    addMeta(dl, "Colour space", info.colourSpace);
    if (info.frames > 1) addMeta(dl, "Frames", info.frames);
    addMeta(dl, "Orientation", info.orientation);
    addMeta(dl, "Camera", [info.cameraMake, info.cameraModel].filter(Boolean).join(" "));
    addMeta(dl, "Taken", info.captureTime);
    addMeta(dl, "Dominant colour", r.dominantColour);
    addMeta(dl, "BlurHash", r.blurhash);
    addMeta(dl, "Attempts", r.attempts);
    if (r.processingMs) addMeta(dl, "Processing", Math.round(r.processingMs) + " ms");
    const ul = $("detail-renditions");
    ul.replaceChildren();
    for (const rr of renditions) {
      const li = el("li");
      const a = el("a", null, rr.name);
      a.href = r.links.renditions[rr.name];
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      li.appendChild(a);
      li.appendChild(el("span", "sub", " " + rr.width + "\u00d7" + rr.height + " " + rr.format + ", " + bytes(rr.bytes)));
      ul.appendChild(li);
    }
    if (!renditions.length) ul.appendChild(el("li", "sub", "none"));
    const reason = $("detail-reason");
    reason.hidden = r.status !== "failed";
    reason.textContent = r.status === "failed" ? (r.errorKind || "") + ": " + (r.errorMessage || "") : "";
    $("detail-original").href = r.links.original;
    $("detail-retry").hidden = r.status !== "failed";
    $("detail-retry").disabled = false;
    if (!dialog.open) dialog.showModal();
    $("detail-close").focus();
  }

  function wireDetail() {
    const dialog = $("detail");
    $("detail-close").addEventListener("click", () => dialog.close());
    dialog.addEventListener("click", (e) => {
      if (e.target === dialog) dialog.close();  // a click on the backdrop
    });
    $("detail-retry").addEventListener("click", async () => {
      if (!state.current) return;
      await retryImage(state.current.imageId, $("detail-retry"));
      dialog.close();
    });
    $("detail-delete").addEventListener("click", async () => {
      const r = state.current;
      if (!r) return;
      if (!window.confirm("Delete " + baseName(r.originalImage) + ", its renditions and its record?")) return;
      try {
        await api(imageUrl(r.imageId), { method: "DELETE" });
        removeCard(r.imageId);
        dialog.close();
      } catch (e) {
        alertText("Delete failed: " + e.message);
      }
    });
  }

  // --- upload --------------------------------------------------------------------------
  function upload(file) {
    const li = el("li", "upload-row");
    li.appendChild(el("span", "name", file.name));
    const bar = el("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", "Upload of " + file.name);
    li.appendChild(bar);
    const status = el("span", "sub", "waiting");
    li.appendChild(status);
    $("progress").prepend(li);
    const form = new FormData();
    form.append("file", file, file.name);
    const xhr = new XMLHttpRequest();
    xhr.open("POST", "/api/uploads");
    xhr.upload.addEventListener("progress", (e) => {
      if (e.lengthComputable) {
        bar.value = Math.round((e.loaded / e.total) * 100);
        status.textContent = bytes(e.loaded) + " of " + bytes(e.total);
      }
    });
    xhr.addEventListener("load", () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch (e) {
        body = null;
      }
      if (xhr.status === 202 && body) {
        bar.value = 100;
        status.textContent = "uploaded, processing";
        li.classList.add("done");
        for (const u of body.uploads) {
          li.dataset.id = u.imageId;
          upsert({ imageId: u.imageId, originalImage: u.key, status: "" }, true);
        }
      } else {
        li.classList.add("failed");
        status.textContent = (body && body.error) || "HTTP " + xhr.status;
        if (xhr.status === 401) window.location.assign("/login");
      }
    });
    xhr.addEventListener("error", () => {
      li.classList.add("failed");
      status.textContent = "network error";
    });
    xhr.send(form);
  }

  function wireUpload() {
    const drop = $("drop");
    const input = $("file-input");
    // A real button opens the picker (Enter and Space work natively); a click anywhere on the
    // zone does too.
    drop.addEventListener("click", () => input.click());
    $("pick").addEventListener("click", (e) => {
      e.stopPropagation();
      input.click();
    });
    input.addEventListener("change", () => {
      for (const f of input.files) upload(f);
      input.value = "";
    });
    ["dragenter", "dragover"].forEach((t) =>
      drop.addEventListener(t, (e) => {
        e.preventDefault();
        drop.classList.add("over");
      })
    );
    ["dragleave", "drop"].forEach((t) => drop.addEventListener(t, () => drop.classList.remove("over")));
    drop.addEventListener("drop", (e) => {
      e.preventDefault();
      const files = e.dataTransfer ? e.dataTransfer.files : [];
      for (const f of files) upload(f);
    });
    // A file dropped beside the zone must not navigate away from the page.
    window.addEventListener("dragover", (e) => e.preventDefault());
    window.addEventListener("drop", (e) => e.preventDefault());
  }

  // --- figures, alarms, chart ----------------------------------------------------------
  async function loadStatus() {
    try {
      const s = await api("/api/status");
      const parts = [];
      if (s.queue) parts.push("queued " + (s.queue.queued || 0), "in progress " + (s.queue.leased || 0), "dead letters " + (s.queue.failed || 0));
      if (s.workers) parts.push("workers " + s.workers.busy + "/" + s.workers.running + " busy");
      $("figures").textContent = parts.join(" \u00b7 ");
    } catch (e) {
      $("figures").textContent = "figures unavailable";
    }
  }

  async function loadAlarms() {
    const p = $("alarm");
    try {
      const a = await api("/api/alarms");
      p.className = "alarm";
      if (!a.enabled) {
        p.textContent = "Alarms off";
        return;
      }
      const firing = a.alarms.filter((x) => x.state === "ALARM");
      if (firing.length) {
        p.classList.add("firing");
        p.textContent = "ALARM: " + firing.map((x) => x.name).join(", ");
        p.title = firing.map((x) => x.reason).join("\n");
      } else {
        p.classList.add("ok");
        const waiting = a.alarms.filter((x) => x.state !== "OK").length;
        p.textContent = "Alarms OK (" + a.alarms.length + " rule" + (a.alarms.length === 1 ? "" : "s") + (waiting ? ", " + waiting + " without data" : "") + ")";
        p.title = "";
      }
    } catch (e) {
      p.textContent = "Alarms unavailable";
    }
  }

  function drawChart(buckets) {
    const canvas = $("chart");
    const ratio = window.devicePixelRatio || 1;
    const cssW = canvas.clientWidth || 600, cssH = canvas.clientHeight || 140;
    canvas.width = Math.round(cssW * ratio);
    canvas.height = Math.round(cssH * ratio);
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, cssW, cssH);
    const styles = getComputedStyle(document.documentElement);
    const ok = styles.getPropertyValue("--ok").trim() || "#2e7d32";
    const bad = styles.getPropertyValue("--bad").trim() || "#c62828";
    const ink = styles.getPropertyValue("--muted").trim() || "#666";
    const max = Math.max(1, ...buckets.map((b) => b.processed + b.failed));
    const left = 28, bottom = 18, top = 6;
    const w = (cssW - left) / buckets.length, h = cssH - bottom - top;
    ctx.fillStyle = ink;
    ctx.font = "11px system-ui, sans-serif";
    ctx.fillText(String(max), 2, top + 10);
    ctx.fillText("0", 2, top + h);
    ctx.fillText("-60 min", left, cssH - 4);
    ctx.fillText("now", cssW - 24, cssH - 4);
    let processed = 0, failed = 0;
    buckets.forEach((b, i) => {
      processed += b.processed;
      failed += b.failed;
      const hp = (b.processed / max) * h, hf = (b.failed / max) * h;
      const x = left + i * w + 1;
      ctx.fillStyle = ok;
      ctx.fillRect(x, top + h - hp, Math.max(1, w - 2), hp);
      ctx.fillStyle = bad;
      ctx.fillRect(x, top + h - hp - hf, Math.max(1, w - 2), hf);
    });
    $("sum-processed").textContent = processed;
    $("sum-failed").textContent = failed;
    canvas.setAttribute("aria-label", "Last hour: " + processed + " processed and " + failed + " failed images");
  }

  async function loadActivity() {
    try {
      const a = await api("/api/activity?minutes=60");
      drawChart(a.buckets);
    } catch (e) {
      /* the chart keeps its last figures */
    }
  }

  let refreshTimer = null;
  function refreshSoon() {
    if (refreshTimer) return;
    refreshTimer = setTimeout(() => {
      refreshTimer = null;
      loadStatus();
      loadActivity();
      loadAlarms();
    }, 500);
  }

  // --- live updates --------------------------------------------------------------------
  function connect() {
    const live = $("live");
    const source = new EventSource("/api/events");
    source.addEventListener("open", () => {
      live.textContent = "live";
      live.classList.add("on");
    });
    source.addEventListener("error", () => {
      live.textContent = "reconnecting";
      live.classList.remove("on");
    });
    const record = (e) => {
      const r = JSON.parse(e.data);
      const id = r.imageId;
      r.links = {
        self: imageUrl(id),
        original: imageUrl(id, "/original"),
        renditions: Object.fromEntries((r.renditions || []).map((x) => [x.name, imageUrl(id, "/renditions/" + encodeURIComponent(x.name))])),
      };
      upsert(r, !state.images.has(id));
      // The upload's own row says how it ended.
      const row = $("progress").querySelector('li[data-id="' + CSS.escape(id) + '"] .sub');
      if (row) row.textContent = r.status === "processed" ? "processed" : "failed: " + (r.errorKind || "");
      if (state.current && state.current.imageId === id && $("detail").open) showDetail(id);
      refreshSoon();
    };
    source.addEventListener("processed", record);
    source.addEventListener("failed", record);
    source.addEventListener("uploaded", (e) => {
      const u = JSON.parse(e.data);
      if (!state.images.has(u.imageId)) upsert({ imageId: u.imageId, originalImage: u.key, status: "" }, true);
      refreshSoon();
    });
    source.addEventListener("deleted", (e) => {
      removeCard(JSON.parse(e.data).imageId);
      refreshSoon();
    });
    source.addEventListener("retry-queued", () => refreshSoon());
    source.addEventListener("resync", () => loadImages(false));
  }

  // --- start ---------------------------------------------------------------------------
  function wireFilters() {
    const form = $("filters");
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      state.filters = { since: $("f-since").value, until: $("f-until").value, status: $("f-status").value };
      loadImages(false);
    });
    form.addEventListener("reset", () => {
      state.filters = { since: "", until: "", status: "" };
      setTimeout(() => loadImages(false), 0);
    });
    $("more").addEventListener("click", () => loadImages(true));
  }

  function start() {
    wireUpload();
    wireFilters();
    wireDetail();
    loadImages(false);
    loadStatus();
    loadAlarms();
    loadActivity();
    connect();
    setInterval(refreshSoon, 15000);
    window.addEventListener("resize", () => loadActivity());
  }

  document.addEventListener("DOMContentLoaded", start);
})();
