// The photo page: albums, a grid, a viewer, uploads and pending photos, over the service's V3.0 API.
// Plain JavaScript, no build step, nothing from elsewhere. Credentials: the HttpOnly "Y" cookie the browser
// keeps (never read here) plus the WSSID, kept in localStorage so that reloads and new tabs stay signed in.
"use strict";
(() => {
  const APPID = document.querySelector('meta[name="photoservice-appid"]').content;
  const STORAGE_KEY = "photoservice.session";
  const PARALLEL_UPLOADS = 2;
  const $ = (id) => document.getElementById(id);

  const state = {
    session: null,          // {wssid, user, premium}
    albums: [],             // AlbumList entries
    albumId: "all",         // "all" or an album id (string)
    photos: [],             // the grid, newest first
    pending: [],            // the owner's photos waiting for approval
    viewer: {list: [], index: -1, pending: false, back: false},
    queue: [],              // files chosen for upload
    uploading: false,
    routeSeq: 0,
  };

  // ------------------------------------------------------------------------------------------ helpers
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (name === "class") node.className = value;
      else if (name === "text") node.textContent = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }

  const numberFormat = new Intl.NumberFormat(undefined, {maximumFractionDigits: 1});
  const signedFormat = new Intl.NumberFormat(undefined, {maximumFractionDigits: 1, signDisplay: "exceptZero"});
  const dateTimeFormat = new Intl.DateTimeFormat(undefined, {dateStyle: "long", timeStyle: "short"});
  const shortDateFormat = new Intl.DateTimeFormat(undefined, {dateStyle: "medium"});
  const plural = new Intl.PluralRules(undefined);

  function count(n, one, many) { return `${n} ${plural.select(n) === "one" ? one : many}`; }
  function bytes(n) {
    if (n < 1024 * 1024) return `${numberFormat.format(Math.max(1, Math.round(n / 1024)))} KB`;
    return `${numberFormat.format(n / 1024 / 1024)} MB`;
  }
  function setStatus(id, text, kind) {
    const node = $(id);
    node.textContent = text || "";
    node.classList.toggle("error", kind === "error");
    node.classList.toggle("ok", kind === "ok");
  }
  function image(photo, ...types) {
    for (const type of types) {
      const found = (photo.ImageList || []).find((i) => i.type === type);
      if (found) return found;
    }
    return null;
  }
  // up.photos.upload photos carry src_big / src / src_small, uploadPhotos ones screen / thumb.
  const large = (p) => image(p, "screen", "src_big", "src", "thumb", "src_small");
  const small = (p) => image(p, "thumb", "src_small", "src", "screen", "src_big");
  const title = (p) => (p.Caption || "").trim();
  const stem = (name) => name.replace(/\.[^.]*$/, "");

  // ------------------------------------------------------------------------------------------ EXIF for people
  function number(text) {  // "147/32", "-2/3", "17.4", "50" -> a number, or null
    const m = /^\s*(-?\d+(?:\.\d+)?)(?:\s*\/\s*(-?\d+(?:\.\d+)?))?\s*$/.exec(text || "");
    if (!m) return null;
    const den = m[2] === undefined ? 1 : parseFloat(m[2]);
    return den ? parseFloat(m[1]) / den : null;
  }
  function cameraName(text) {  // "Canon. Canon EOS 5D Mark II." -> "Canon EOS 5D Mark II"
    if (!text) return null;
    const parts = text.trim().replace(/\.$/, "").split(/\.\s+/);
    const make = parts[0].trim(), model = parts.slice(1).join(". ").trim();
    if (!model) return make;
    const brand = make.split(/\s+/)[0].toLowerCase();
    return model.toLowerCase().startsWith(brand) ? model : `${make} ${model}`;
  }
  function exposure(seconds) {  // as ExifTool prints it: 1/250 below a quarter second, else 0.5, 2, 1.3
    if (seconds === null || seconds <= 0) return null;
    return seconds < 0.25001 ? `1/${Math.round(1 / seconds)} s` : `${numberFormat.format(seconds)} s`;
  }
  function flash(text) {
    const value = number(text);
    if (value === null || value & 0x20) return null;  // 0x20: the camera has no flash
    return value & 1 ? "Fired" : "Did not fire";
  }
  function localTime(iso) {
    if (!iso) return null;
    const when = new Date(iso);  // "...Z" is UTC; without an offset it is the time as the camera recorded it
    return Number.isNaN(when.getTime()) ? null : when;
  }
  function photoDetails(p) {
    const exif = p.EXIF || {};
    const rows = [];
    const add = (label, value) => { if (value) rows.push([label, value]); };
    add("Camera", cameraName(exif.Camera));
    const apex = number(exif.Aperture);  // the APEX value: f-number = 2 ** (apex / 2)
    add("Aperture", apex !== null ? `f/${numberFormat.format(Math.pow(2, apex / 2))}` : null);
    add("Exposure", exposure(number(exif.Exposure)));
    const bias = number(exif.ExposureBias);
    add("Exposure bias", bias !== null ? `${signedFormat.format(bias)} EV` : null);
    const focal = number(exif.FocalLength);
    add("Focal length", focal ? `${numberFormat.format(focal)} mm` : null);
    const zoom = number(exif.ZoomRatio);
    add("Digital zoom", zoom && zoom > 1 ? `${numberFormat.format(zoom)}×` : null);
    add("Flash", flash(exif.Flash));
    const taken = exif.Date ? localTime(p.CreateTime) : null;
    add("Taken", taken ? dateTimeFormat.format(taken) : null);
    add("Size", p.hrWidth && p.hrHeight ? `${p.hrWidth} × ${p.hrHeight} px` : null);
    const uploaded = localTime(p.UploadTime);
    add("Uploaded", uploaded ? dateTimeFormat.format(uploaded) : null);
    return rows;
  }

  // ------------------------------------------------------------------------------------------ the API
  class ApiError extends Error {
    constructor(status, message) { super(message); this.status = status; }
  }
  function errorText(data, status) {
    if (data && data.Error && data.Error.Message) return data.Error.Message.join(" ");
    if (status === 0) return "The service cannot be reached. Check the connection and try again.";
    return `The service answered with HTTP ${status}.`;
  }
  function apiUrl(call, params) {
    const query = new URLSearchParams({appid: APPID, WSSID: state.session ? state.session.wssid : "", output: "json"});
    for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null) query.set(k, v);
    return `/V3.0/${call}?${query}`;
  }
  async function api(call, params, method) {
    let resp;
    try {
      resp = await fetch(apiUrl(call, params), {method: method || "GET", credentials: "same-origin"});
    } catch (err) {
      throw new ApiError(0, errorText(null, 0));
    }
    const data = await resp.json().catch(() => null);
    if (!resp.ok) {
      if (resp.status === 401 && state.session && call !== "logout") sessionEnded();
      throw new ApiError(resp.status, errorText(data, resp.status));
    }
    return data;
  }

  // ------------------------------------------------------------------------------------------ session
  function loadSession() {
    try {
      const saved = JSON.parse(localStorage.getItem(STORAGE_KEY) || "null");
      return saved && typeof saved.wssid === "string" ? saved : null;
    } catch (err) {
      return null;
    }
  }
  function saveSession(session) {
    state.session = session;
    try { localStorage.setItem(STORAGE_KEY, JSON.stringify(session)); } catch (err) { /* private mode */ }
  }
  function forgetSession() {
    state.session = null;
    try { localStorage.removeItem(STORAGE_KEY); } catch (err) { /* private mode */ }
  }
  function showSignIn(message, kind) {
    closeViewer(true);
    $("app").hidden = true;
    $("account").hidden = true;
    $("sign-in-view").hidden = false;
    setStatus("login-status", message || "", kind);
    $("password").value = "";
    ($("username").value ? $("password") : $("username")).focus();
  }
  function sessionEnded() {
    forgetSession();
    resetApp();
    showSignIn("Your session has ended. Sign in again to go on.", "error");
  }
  function resetApp() {
    for (const item of state.queue) URL.revokeObjectURL(item.preview);
    Object.assign(state, {albums: [], photos: [], pending: [], queue: [], albumId: "all"});
    $("queue-list").replaceChildren();
    $("queue").hidden = true;
    $("gallery").replaceChildren();
    $("album-list").replaceChildren();
    $("pending").hidden = true;
  }

  $("login").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const username = $("username").value.trim(), password = $("password").value;
    if (!username || !password) {
      setStatus("login-status", "Enter your user name and your password.", "error");
      (username ? $("password") : $("username")).focus();
      return;
    }
    $("login-button").disabled = true;
    setStatus("login-status", "Signing in…");
    try {
      const body = new URLSearchParams({appid: APPID, username, password, output: "json"});
      let resp;
      try {
        resp = await fetch("/V3.0/login", {method: "POST", body, credentials: "same-origin"});
      } catch (err) {
        throw new ApiError(0, errorText(null, 0));
      }
      const data = await resp.json().catch(() => null);
      if (!resp.ok) throw new ApiError(resp.status, errorText(data, resp.status));
      const login = data.LoginResponse;
      $("password").value = "";
      saveSession({wssid: login.WSSID, user: login.User, premium: login.Premium === "true"});
      setStatus("login-status", "");
      await enterApp();
    } catch (err) {
      setStatus("login-status", err.message, "error");
      $("password").select();
    } finally {
      $("login-button").disabled = false;
    }
  });

  $("sign-out").addEventListener("click", async () => {
    $("sign-out").disabled = true;
    try {
      await api("logout", {}, "POST");
    } catch (err) {
      /* already signed out on the server: forget it here all the same */
    } finally {
      $("sign-out").disabled = false;
    }
    forgetSession();
    resetApp();
    history.replaceState(null, "", location.pathname);
    showSignIn("You are signed out.", "ok");
  });

  async function enterApp() {
    $("sign-in-view").hidden = true;
    $("app").hidden = false;
    $("account").hidden = false;
    $("who").textContent = state.session.user;
    await Promise.all([loadAlbums(), loadPending()]).catch(showGridError);
    await route();
  }

  // ------------------------------------------------------------------------------------------ albums
  async function loadAlbums() {
    const data = await api("listAlbums");
    state.albums = data.AlbumList;
    renderAlbums();
  }
  function albumName(id) {
    const album = state.albums.find((a) => a.id === id);
    return album ? album.name : null;
  }
  function renderAlbums() {
    const list = $("album-list");
    const entry = (id, name, size, cover) => {
      const current = state.albumId === id;
      const coverNode = el("img", {class: cover ? "cover" : "cover none", src: cover || "/static/icon.svg", alt: ""});
      const label = size === null ? name : `${name}, ${count(size, "photo", "photos")}`;
      return el("li", {}, el("a", {href: id === "all" ? "#all" : `#album=${id}`, "aria-current": current ? "page" : null,
                                   "aria-label": label, "data-album": id},
        coverNode, el("span", {class: "name", text: name}), el("span", {class: "count", text: size === null ? "" : size})));
    };
    const latest = state.albums.find((a) => a.cover);
    list.replaceChildren(entry("all", "All photos", null, latest ? latest.cover : ""),
                         ...state.albums.map((a) => entry(a.id, a.name, a.size, a.cover)));
    $("albums-empty").hidden = state.albums.length > 0;
    renderUploadTargets();
  }
  function renderUploadTargets() {
    const select = $("upload-album");
    const keep = select.value;
    select.replaceChildren(el("option", {value: "", text: "No album"}),
                           ...state.albums.map((a) => el("option", {value: a.id, text: a.name})));
    select.value = state.albums.some((a) => a.id === keep) ? keep : (state.albumId === "all" ? "" : state.albumId);
  }

  $("new-album-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const name = $("new-album").value.trim();
    if (!name) {
      setStatus("album-status", "Give the album a name first.", "error");
      $("new-album").focus();
      return;
    }
    $("create-album").disabled = true;
    try {
      const data = await api("createAlbum", {name}, "POST");
      $("new-album").value = "";
      setStatus("album-status", `Created “${name}”.`, "ok");
      await loadAlbums();
      location.hash = `album=${data.AlbumList[0].id}`;
    } catch (err) {
      setStatus("album-status", err.message, "error");
    } finally {
      $("create-album").disabled = false;
    }
  });

  // ------------------------------------------------------------------------------------------ grid
  function showGridError(err) {
    if (err && err.status === 401) return;  // sessionEnded() has taken over
    $("grid-status").textContent = err ? err.message : "";
    $("grid-status").hidden = !err;
  }
  async function showAlbum(id) {
    const seq = ++state.routeSeq;
    let notice = null;  // said once the photos are in; an older message goes when another album is shown
    if (id !== "all" && !state.albums.some((a) => a.id === id)) {
      await loadAlbums();
      if (!state.albums.some((a) => a.id === id)) {
        notice = new ApiError(400, "That album does not exist, or it is not yours. Here are all your photos.");
        id = "all";
      }
    }
    state.albumId = id;
    $("gallery").setAttribute("aria-busy", "true");
    try {
      const data = await api("listPhotos", id === "all" ? {} : {aid: id});
      if (seq !== state.routeSeq) return;
      state.photos = data.PhotoList.Photo.slice().reverse();
      showGridError(notice);
      renderAlbums();
      renderGrid();
    } catch (err) {
      showGridError(err);
    } finally {
      $("gallery").removeAttribute("aria-busy");
    }
  }
  function renderGrid() {
    const name = state.albumId === "all" ? "All photos" : albumName(state.albumId);
    $("album-title").textContent = name;
    document.title = `${name} · Photos`;
    const pendingIds = new Set(state.pending.map((p) => p.id));
    const waiting = state.photos.filter((p) => pendingIds.has(p.id)).length;
    $("album-count").textContent = state.photos.length
      ? count(state.photos.length, "photo", "photos") + (waiting ? `, ${waiting} waiting for your approval` : "")
      : "";
    $("gallery").replaceChildren(...state.photos.map((p) => tile(p, pendingIds.has(p.id))));
    const empty = state.photos.length === 0;
    $("empty").hidden = !empty;
    if (empty) {
      $("empty-text").textContent = state.albumId === "all"
        ? "No photos yet. Drag photos onto this page, or choose them with Add photos. " +
          "Albums on the left keep them in order."
        : `“${name}” is empty. Drag photos onto this page, or choose them with Add photos: they go into this album.`;
    }
  }
  function frame(p, alt) {
    const thumb = small(p), big = large(p);
    const box = el("div", {class: "frame"});
    if (thumb) box.append(el("img", {class: "placeholder", src: thumb.url, alt: ""}));
    if (big && big !== thumb) {
      const img = el("img", {class: "screen", src: big.url, alt: alt || "", loading: "lazy", decoding: "async"});
      img.addEventListener("load", () => img.classList.add("loaded"));
      box.append(img);
    }
    return box;
  }
  function tile(p, pending) {
    const caption = title(p);
    const taken = p.EXIF && p.EXIF.Date ? localTime(p.CreateTime) : null;
    const meta = [taken ? shortDateFormat.format(taken) : null, pending ? "Waiting for your approval" : null]
      .filter(Boolean).join(" · ");
    return el("li", {}, el("a", {class: "tile", href: `#photo=${p.id}`, "data-id": p.id},
      frame(p, ""),
      el("p", {class: caption ? "caption" : "caption untitled", text: caption || "Untitled"}),
      meta ? el("p", {class: "meta", text: meta}) : null));
  }

  // ------------------------------------------------------------------------------------------ pending photos
  async function loadPending() {
    const data = await api("listPhotos", {status: "pending"});
    state.pending = data.PhotoList.Photo;
    renderPending();
  }
  function renderPending() {
    const n = state.pending.length;
    $("pending").hidden = n === 0;
    $("pending-heading").textContent = `${count(n, "photo waits", "photos wait")} for your approval`;
    $("pending-list").replaceChildren(...state.pending.map((p, index) => {
      const caption = title(p) || "Untitled";
      return el("li", {"data-id": p.id},
        el("a", {class: "tile", href: `#photo=${p.id}`, "aria-label": `Look at ${caption}`}, frame(p, ""),
           el("p", {class: "caption", text: caption})),
        el("div", {class: "buttons"},
          el("button", {type: "button", class: "primary approve", "aria-label": `Approve ${caption}`, text: "Approve",
                        onclick: () => decide(p, true)}),
          el("button", {type: "button", class: "danger reject", "aria-label": `Reject ${caption}`, text: "Reject",
                        onclick: () => decide(p, false)})));
    }));
  }
  async function decide(photo, approve) {
    const caption = title(photo) || "this photo";
    if (!approve && !confirm(`Reject “${caption}”? It is deleted for good.`)) return;
    try {
      await api(approve ? "approvePhoto" : "rejectPhoto", {pid: photo.id}, "POST");
    } catch (err) {
      showGridError(err);
      return;
    }
    const inViewer = $("viewer").open && state.viewer.list[state.viewer.index] === photo;
    await Promise.all([loadPending(), loadAlbums()]).catch(showGridError);
    await showAlbum(state.albumId);
    if (inViewer) {
      if (state.pending.length && state.viewer.pending) openViewer(state.pending, 0, true);
      else closeViewer();
    }
  }

  // ------------------------------------------------------------------------------------------ viewer
  const viewer = $("viewer");
  function openViewer(list, index, pending) {
    Object.assign(state.viewer, {list, index, pending: Boolean(pending)});
    const p = list[index];
    const thumb = small(p), big = large(p);
    const img = $("viewer-image");
    img.classList.remove("loaded");
    const shown = big || thumb;
    if (shown) {  // the box takes the photo's shape at once; the thumb fills it, blurred, until the image is in
      $("viewer-photo").style.setProperty("--w", shown.width);
      $("viewer-photo").style.setProperty("--h", shown.height);
    }
    $("viewer-thumb").src = thumb ? thumb.url : "";
    $("viewer-thumb").hidden = !thumb;
    img.alt = title(p) || "Untitled photo";
    img.src = big ? big.url : "";
    $("viewer-caption").textContent = title(p) || "Untitled";
    $("viewer-description").textContent = p.Description || "";
    $("viewer-description").hidden = !p.Description;
    $("viewer-tags").replaceChildren(...(p.TagList || []).map((t) => el("li", {text: t})));
    $("viewer-tags").hidden = !(p.TagList || []).length;
    $("viewer-position").textContent = `${index + 1} of ${list.length}` + (pending ? " waiting for approval" : "");
    $("viewer-details").replaceChildren(...photoDetails(p).flatMap(([k, v]) => [el("dt", {text: k}), el("dd", {text: v})]));
    const full = image(p, "full");
    $("viewer-full").hidden = !full;
    if (full) {
      $("viewer-full").href = full.url;
      $("viewer-full").textContent = `Open the original (${full.width} × ${full.height}, ${bytes(full.size)})`;
    }
    $("viewer-pending").hidden = !pending;
    $("viewer-prev").disabled = index <= 0;
    $("viewer-next").disabled = index >= list.length - 1;
    if (!viewer.open) {
      viewer.showModal();
      $("viewer-close").focus();
    }
    for (const near of [list[index + 1], list[index - 1]]) {  // the neighbours, ready before they are asked for
      const src = near && large(near);
      if (src) new Image().src = src.url;
    }
  }
  $("viewer-image").addEventListener("load", () => $("viewer-image").classList.add("loaded"));
  function step(delta) {
    const {list, index, pending} = state.viewer;
    const next = index + delta;
    if (!viewer.open || next < 0 || next >= list.length) return;
    openViewer(list, next, pending);
    history.replaceState(null, "", `#photo=${list[next].id}`);
  }
  function closeViewer(quiet) {
    if (!viewer.open) return;
    viewer.close();
    if (quiet) return;
    if (state.viewer.back) {
      state.viewer.back = false;
      history.back();  // to the album the photo was opened from; the browser's Back button does the same
    } else {
      history.replaceState(null, "", state.albumId === "all" ? "#all" : `#album=${state.albumId}`);
      showAlbum(state.albumId);
    }
  }
  async function openPhotoById(id, cameFromPage) {
    const inPending = state.pending.findIndex((p) => p.id === id);
    let index = state.photos.findIndex((p) => p.id === id);
    if (index < 0 && inPending >= 0) {
      openViewer(state.pending, inPending, true);
    } else {
      if (index < 0) {  // a link from elsewhere: look among all the photos
        await showAlbum("all");
        index = state.photos.findIndex((p) => p.id === id);
      } else if (!$("gallery").children.length) {
        renderGrid();
      }
      if (index < 0) {
        showGridError(new ApiError(404, "That photo does not exist, or it is not yours."));
        history.replaceState(null, "", "#all");
        return;
      }
      openViewer(state.photos, index, false);
    }
    state.viewer.back = cameFromPage;
  }
  viewer.addEventListener("cancel", (ev) => { ev.preventDefault(); closeViewer(); });  // Esc
  $("viewer-close").addEventListener("click", () => closeViewer());
  $("viewer-prev").addEventListener("click", () => step(-1));
  $("viewer-next").addEventListener("click", () => step(1));
  $("viewer-approve").addEventListener("click", () => decide(state.viewer.list[state.viewer.index], true));
  $("viewer-reject").addEventListener("click", () => decide(state.viewer.list[state.viewer.index], false));
  viewer.addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowLeft") { ev.preventDefault(); step(-1); }
    if (ev.key === "ArrowRight") { ev.preventDefault(); step(1); }
  });
  viewer.addEventListener("click", (ev) => { if (ev.target.classList.contains("stage")) closeViewer(); });
  let touchX = null;
  viewer.addEventListener("touchstart", (ev) => { touchX = ev.touches[0].clientX; }, {passive: true});
  viewer.addEventListener("touchend", (ev) => {
    if (touchX === null) return;
    const dx = ev.changedTouches[0].clientX - touchX;
    touchX = null;
    if (Math.abs(dx) > 50) step(dx < 0 ? 1 : -1);
  });

  // ------------------------------------------------------------------------------------------ routing
  let lastHash = null;
  async function route() {
    if (!state.session) return;
    const hash = location.hash.replace(/^#/, "");
    const previous = lastHash;
    lastHash = hash;
    const match = /^(album|photo)=(\d{1,19})$/.exec(hash);
    if (match && match[1] === "photo") {
      const cameFromPage = previous !== null && !previous.startsWith("photo=");
      await openPhotoById(match[2], cameFromPage);
      return;
    }
    closeViewer(true);
    await showAlbum(match ? match[2] : "all");
    if (previous !== null && previous !== hash) $("content").focus({preventScroll: true});
  }
  window.addEventListener("hashchange", () => { route().catch(showGridError); });

  // ------------------------------------------------------------------------------------------ uploads
  function addFiles(files) {
    if (!state.session) return;
    for (const file of files) {
      const item = {file, caption: stem(file.name), description: "", tags: "", state: "ready", preview: ""};
      if (/^image\//.test(file.type)) item.preview = URL.createObjectURL(file);  // shown here only
      item.node = queueItem(item);
      state.queue.push(item);
      $("queue-list").append(item.node);
    }
    renderUploadTargets();
    updateQueue();
    $("queue").hidden = state.queue.length === 0;
    if (files.length) $("queue").scrollIntoView({block: "nearest"});
  }
  function queueItem(item) {
    const n = state.queue.length;
    const field = (label, key, tag) => {
      // uploadPhotos takes these in the query string: kept short enough for any server's request line
      const input = el(tag || "input", {type: tag ? null : "text", id: `${key}-${n}`, class: key,
                                        maxlength: {caption: 200, description: 1000, tags: 300}[key]});
      input.value = item[key];
      input.addEventListener("input", () => { item[key] = input.value; });
      if (tag) input.rows = 1;
      return el("label", {}, label, input);
    };
    const result = el("p", {class: "result", role: "status"});
    const progress = el("progress", {max: 100, value: 0, hidden: true, "aria-label": `Upload of ${item.file.name}`});
    const remove = el("button", {type: "button", class: "quiet remove", "aria-label": `Remove ${item.file.name}`,
                                 text: "✕", onclick: () => removeItem(item)});
    const preview = el("img", {class: "preview", alt: ""});
    if (item.preview) preview.src = item.preview;
    preview.addEventListener("error", () => preview.replaceWith(el("div", {class: "preview"})));  // not a picture
    const node = el("li", {class: "queue-item ready"},
      item.preview ? preview : el("div", {class: "preview"}),
      el("div", {},
        el("div", {class: "file", text: item.file.name}, " ", el("small", {text: bytes(item.file.size)})),
        el("div", {class: "fields"},
          field("Caption", "caption"), field("Description", "description", "textarea"),
          field("Tags, comma-separated", "tags")),
        progress, result),
      remove);
    Object.assign(item, {progress, result, remove});
    return node;
  }
  function removeItem(item) {
    if (item.state === "sending") return;
    URL.revokeObjectURL(item.preview);
    item.node.remove();
    state.queue = state.queue.filter((i) => i !== item);
    $("queue").hidden = state.queue.length === 0;
    updateQueue();
  }
  function setItem(item, stateName, text) {
    item.state = stateName;
    item.node.className = `queue-item ${stateName}`;
    item.progress.hidden = stateName !== "sending";
    item.remove.disabled = stateName === "sending";
    item.result.textContent = text || "";
    item.result.className = `result ${stateName === "done" ? "ok" : stateName === "failed" ? "error" : ""}`;
  }
  function updateQueue() {
    const ready = state.queue.filter((i) => i.state === "ready").length;
    $("upload-button").textContent = ready ? `Upload ${count(ready, "photo", "photos")}` : "Upload";
    $("upload-button").disabled = state.uploading || ready === 0;
    $("clear-queue").disabled = state.uploading;
    $("queue-heading").textContent = ready || state.uploading ? "Ready to upload" : "Uploaded";
  }
  function problem(message) {  // one picture per request: "Picture 0 (part 0) is ..." is about this very file
    const text = message.replace(/^Picture 0 \(part \d+\) /, "This file ").replace(/^Invalid picture: /, "");
    return /[.!?]$/.test(text) ? text : `${text}.`;
  }
  function send(item, albumId) {
    return new Promise((resolve) => {
      const params = {caption0: item.caption, desc0: item.description || null, tag0: item.tags || null};
      if (albumId) params.aid = albumId;
      const form = new FormData();
      form.append("pic0", item.file, item.file.name);
      const xhr = new XMLHttpRequest();
      xhr.open("POST", apiUrl("uploadPhotos", params));
      xhr.withCredentials = true;
      setItem(item, "sending", "Uploading…");
      item.progress.value = 0;
      xhr.upload.addEventListener("progress", (e) => {
        if (!e.lengthComputable) return;
        const percent = Math.round(100 * e.loaded / e.total);
        item.progress.value = percent;
        item.result.textContent = percent < 100 ? `Uploading… ${percent}%` : "Processing…";
      });
      xhr.addEventListener("load", () => {
        let data = null;
        try { data = JSON.parse(xhr.responseText); } catch (err) { /* not JSON */ }
        if (xhr.status === 200 && data && data.PhotoList) {
          const p = data.PhotoList.Photo[0];
          const where = albumId ? ` in “${albumName(albumId) || "the album"}”` : "";
          setItem(item, "done", `Stored${where}: “${title(p) || "Untitled"}”, ${p.hrWidth} × ${p.hrHeight} px.`);
          item.result.append(" ", el("a", {href: `#photo=${p.id}`, text: "View"}));
          item.photoId = p.id;
        } else {
          if (xhr.status === 401) sessionEnded();
          setItem(item, "failed", `Not stored: ${problem(errorText(data, xhr.status))} Nothing of this file was kept.`);
        }
        resolve();
      });
      xhr.addEventListener("error", () => {
        setItem(item, "failed", `Not stored: the connection failed. Nothing of this file was kept.`);
        resolve();
      });
      xhr.send(form);
    });
  }
  $("upload-button").addEventListener("click", async () => {
    const todo = state.queue.filter((i) => i.state === "ready");
    if (!todo.length || state.uploading) return;
    state.uploading = true;
    updateQueue();
    setStatus("upload-status", `Uploading ${count(todo.length, "photo", "photos")}…`);
    const albumId = $("upload-album").value;
    let next = 0;
    const worker = async () => { while (next < todo.length) await send(todo[next++], albumId); };
    await Promise.all(Array.from({length: Math.min(PARALLEL_UPLOADS, todo.length)}, worker));
    state.uploading = false;
    if (!state.session) return;
    const stored = todo.filter((i) => i.state === "done").length, failed = todo.length - stored;
    setStatus("upload-status", failed
      ? `${count(stored, "photo", "photos")} stored, ${failed} not stored (see above).`
      : `${count(stored, "photo", "photos")} stored.`, failed ? "error" : "ok");
    updateQueue();
    await loadAlbums().catch(showGridError);
    const target = albumId || "all";
    if (stored && state.albumId !== target) location.hash = albumId ? `album=${albumId}` : "all";
    else await showAlbum(state.albumId);
  });
  $("clear-queue").addEventListener("click", () => {
    for (const item of state.queue.slice()) removeItem(item);
    setStatus("upload-status", "");
  });
  $("files").addEventListener("change", () => {
    addFiles(Array.from($("files").files));
    $("files").value = "";  // choosing the same file again is a new choice
  });

  // drag and drop, anywhere on the page
  const hasFiles = (ev) => ev.dataTransfer && Array.from(ev.dataTransfer.types || []).includes("Files");
  let dragDepth = 0;
  document.addEventListener("dragenter", (ev) => {
    if (!hasFiles(ev) || !state.session) return;
    dragDepth += 1;
    $("drop").hidden = false;
  });
  document.addEventListener("dragleave", (ev) => {
    if (!hasFiles(ev)) return;
    dragDepth = Math.max(0, dragDepth - 1);
    if (!dragDepth) $("drop").hidden = true;
  });
  document.addEventListener("dragover", (ev) => {
    if (!hasFiles(ev)) return;
    ev.preventDefault();
    ev.dataTransfer.dropEffect = state.session ? "copy" : "none";
  });
  document.addEventListener("drop", (ev) => {
    if (!hasFiles(ev)) return;
    ev.preventDefault();
    dragDepth = 0;
    $("drop").hidden = true;
    addFiles(Array.from(ev.dataTransfer.files));
  });

  // ------------------------------------------------------------------------------------------ start
  async function start() {
    const saved = loadSession();
    if (!saved) {
      showSignIn();
      return;
    }
    state.session = saved;
    try {
      const data = await api("getSession");
      saveSession({...saved, user: data.Session.User, premium: data.Session.Premium === "true"});
    } catch (err) {
      if (err.status !== 401) showSignIn(err.message, "error");  // 401: sessionEnded() has said it
      return;
    }
    await enterApp();
  }
  start().catch(showGridError);
})();
