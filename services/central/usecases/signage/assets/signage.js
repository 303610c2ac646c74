// Signage client (use case C). Signs in with the display's store-bound device key (kept in local
// storage; "#key=..." once sets it and is removed from the address), polls its mailbox on central
// and answers the remote staff's WebRTC offers. Media goes browser to browser; central only relays SDP.
// On a customer's phone (data-mode="phone", /signage/phone#t=...) the same script continues one call:
// the link's one-time secret is exchanged for a session secret kept in this tab's session storage.
"use strict";
(function () {
  const body = document.body;
  const PHONE = body.dataset.mode === "phone";
  const KEY_STORE = PHONE ? "anshin_signage_phone" : "anshin_signage_key";
  const store = PHONE ? sessionStorage : localStorage;
  const POLL_MS = 500;
  const $ = (id) => document.getElementById(id);
  const L = body.dataset;
  let key = null, config = null, after = 0, callId = null, epoch = 0, pc = null, localStream = null, polling = false;
  window.anshinSignage = { get pc() { return pc; }, get callId() { return callId; } };  // for tests and diagnostics

  const fragment = new URLSearchParams(location.hash.slice(1)).get(PHONE ? "t" : "key");
  if (fragment) {
    store.setItem(KEY_STORE, fragment);
    history.replaceState(null, "", location.pathname + location.search);
  }
  key = store.getItem(KEY_STORE);

  function show(id) { for (const s of ["sign-in", "idle", "call", "gone"]) $(s).hidden = s !== id; }
  function gone(text) { polling = false; closeMedia(); $("gone-text").textContent = text; show("gone"); }
  function status(text) { $("call-status").textContent = text; }

  async function api(path, options) {
    const opts = Object.assign({ headers: {} }, options || {});
    opts.headers.Authorization = "Bearer " + key;
    if (opts.json !== undefined) { opts.body = JSON.stringify(opts.json); opts.headers["Content-Type"] = "application/json"; }
    const r = await fetch("/api/v1/signage" + path, opts);
    if (r.status === 401 || r.status === 403) { signIn(true); throw new Error("refused"); }
    if (!r.ok) throw new Error(path + ": " + r.status);
    return r.json();
  }

  function signIn(refused) {
    if (PHONE) { gone(L.lLinkGone); return; }
    polling = false;
    show("sign-in");
    $("key-error").hidden = !refused;
    $("key-error").textContent = refused ? L.lRefused : "";
  }

  $("key-form").addEventListener("submit", (e) => {
    e.preventDefault();
    key = $("device-key").value.trim();
    localStorage.setItem(KEY_STORE, key);
    start();
  });
  $("fullscreen").addEventListener("click", () => { if (document.documentElement.requestFullscreen) document.documentElement.requestFullscreen().catch(() => {}); });

  async function start() {
    if (!key) { signIn(false); return; }
    try { config = await api("/device"); } catch (e) { return; }
    after = config.after;
    $("store-name").textContent = config.store_name;
    $("phone-qr").src = config.phone_qr;
    $("recording-notice").hidden = !config.recording;
    if (PHONE) {
      if (config.session_token) { key = config.session_token; store.setItem(KEY_STORE, key); }
      callId = config.call.id; epoch = 0;
      show("call");
      status(config.call.state === "active" ? L.lConnected : config.call.state === "held" ? L.lOnHold : L.lWaiting);
    } else {
      show("idle");
    }
    if (!polling) { polling = true; poll(); }
  }

  function closeMedia() {
    if (pc) { pc.close(); pc = null; }
    $("remote-video").srcObject = null;
  }

  function endCall(text) {
    closeMedia();
    if (localStream) { localStream.getTracks().forEach((t) => t.stop()); localStream = null; $("local-video").srcObject = null; }
    callId = null; epoch = 0;
    $("call-phone").hidden = true;
    if (PHONE) { gone(text); return; }
    status(text);
    setTimeout(() => { if (callId === null) show("idle"); }, 3000);
  }

  $("talk").addEventListener("click", async () => {
    const call = await api("/calls", { method: "POST" });
    callId = call.id; epoch = 0;
    show("call"); status(L.lWaiting);
    const phone = await api("/calls/" + call.id + "/phone", { method: "POST" }).catch(() => null);
    if (phone && callId === call.id) { $("call-phone-qr").src = phone.qr; $("call-phone-qr").dataset.link = phone.link; $("call-phone").hidden = false; }
  });
  $("hang-up").addEventListener("click", async () => {
    if (callId !== null) { const id = callId; endCall(L.lEnded); await api("/calls/" + id + "/end", { method: "POST" }).catch(() => {}); }
  });

  function iceDone(conn) {
    return new Promise((resolve) => {
      if (conn.iceGatheringState === "complete") return resolve();
      const check = () => { if (conn.iceGatheringState === "complete") { conn.removeEventListener("icegatheringstatechange", check); resolve(); } };
      conn.addEventListener("icegatheringstatechange", check);
      setTimeout(resolve, 3000);  // a slow STUN/TURN server: send what was gathered
    });
  }

  async function answer(offer) {
    closeMedia();
    epoch = offer.epoch;
    const conn = new RTCPeerConnection({ iceServers: config.ice_servers });
    pc = conn;
    conn.ontrack = (ev) => { $("remote-video").srcObject = ev.streams[0]; };
    try {
      if (!localStream) { localStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true }); $("local-video").srcObject = localStream; }
      localStream.getTracks().forEach((t) => conn.addTrack(t, localStream));
    } catch (e) { status(L.lNoMedia.replace("{detail}", e.message)); }
    await conn.setRemoteDescription({ type: "offer", sdp: offer.sdp });
    await conn.setLocalDescription(await conn.createAnswer());
    await iceDone(conn);
    if (pc !== conn) return;  // superseded meanwhile (hold, a new offer)
    await api("/calls/" + callId + "/signal", { method: "POST", json: { kind: "answer", epoch: offer.epoch, sdp: conn.localDescription.sdp } }).catch(() => {});
    status(L.lConnected);
  }

  function showPushed(content) {
    $("pushed").hidden = false;
    $("pushed-title").textContent = content.title || "";
    $("pushed-route").textContent = "";
    const link = content.url ? new URL(content.url, location.origin).href : "";
    $("pushed-link").textContent = link;
    $("pushed-qr").hidden = !content.qr;
    if (content.qr) $("pushed-qr").src = content.qr;
    if (content.kind === "route") {
      const q = new URLSearchParams({ lang: L.lang });
      if (content.start) q.set("start", content.start);
      if (content.end) q.set("end", content.end);
      // the floor-guide map fragment is this server's own page (B); shown as the customer page shows it
      fetch(content.url + "/map?" + q.toString()).then((r) => r.ok ? r.text() : "").then((html) => {
        const doc = new DOMParser().parseFromString(html, "text/html");
        const box = $("pushed-route");
        box.textContent = "";
        for (const n of Array.from(doc.body.childNodes)) box.appendChild(document.importNode(n, true));
      }).catch(() => {});
    }
  }

  async function handle(m) {
    const b = m.body;
    if (m.kind === "announce") { $("announcement-text").textContent = b.text; $("announcement").hidden = false; return; }
    if (m.kind === "push") { showPushed(b); return; }
    if (m.call_id !== callId) return;
    if (m.kind === "offer" && b.epoch >= epoch) { await answer(b); return; }
    if (m.kind === "hold" || m.kind === "transfer") { closeMedia(); status(L.lOnHold); return; }
    if (m.kind === "moved") { if (!PHONE) endCall(L.lMoved); return; }
    if (m.kind === "end") { endCall(L.lEnded); }
  }

  async function poll() {
    while (polling) {
      try {
        const q = "?after=" + after + (callId !== null ? "&call_id=" + callId : "");
        const r = await api("/inbox" + q);
        after = r.after;
        for (const m of r.messages) await handle(m);
        if (r.call && (r.call.state === "ended" || r.call.state === "abandoned") && callId === r.call.id) endCall(L.lEnded);
      } catch (e) { if (e.message === "refused") return; }
      await new Promise((res) => setTimeout(res, POLL_MS));
    }
  }

  start();
})();
