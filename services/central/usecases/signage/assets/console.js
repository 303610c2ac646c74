// Remote staff console (use case C): polls the queue and this person's calls, takes/holds/transfers/
// ends calls, and offers WebRTC media to the signage of the call being served (one at a time:
// taking another call holds the current one). Central only relays the SDP; media is browser to browser.
"use strict";
(function () {
  const POLL_MS = 700;
  const root = document.getElementById("console");
  if (!root) return;
  const $ = (id) => document.getElementById(id);
  const L = root.dataset;
  const ICE = JSON.parse(root.dataset.ice || "[]");
  const mayServe = root.dataset.mayServe === "yes";
  const pcs = {};  // call id -> {pc, epoch}
  let after = 0, localStream = null, mine = [];
  window.anshinConsole = { pcs };  // for tests and diagnostics

  // Polling and actions run one at a time, so a poll that started before a take cannot close the new call's media.
  let busy = Promise.resolve();
  function serial(fn) { const p = busy.then(fn, fn); busy = p.catch(() => {}); return p; }

  function say(text) { $("console-status").textContent = text; }

  async function post(path, json) {
    const r = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": L.csrf },
                                  body: JSON.stringify(json || {}) });
    const body = await r.json().catch(() => ({}));
    if (!r.ok) {
      const detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail || r.status);
      say(L.lFailed.replace("{detail}", detail));
      throw new Error(detail);
    }
    return body;
  }

  function button(label, onClick) {
    const b = document.createElement("button");
    b.type = "button"; b.textContent = label; b.disabled = !mayServe;
    b.addEventListener("click", () => { serial(onClick).catch(() => {}); });
    return b;
  }

  function closeMedia(id) {
    const entry = pcs[id];
    if (entry) { entry.pc.close(); delete pcs[id]; }
    if (!Object.keys(pcs).length) $("remote-video").srcObject = null;
  }

  function iceDone(conn) {
    return new Promise((resolve) => {
      if (conn.iceGatheringState === "complete") return resolve();
      const check = () => { if (conn.iceGatheringState === "complete") { conn.removeEventListener("icegatheringstatechange", check); resolve(); } };
      conn.addEventListener("icegatheringstatechange", check);
      setTimeout(resolve, 3000);
    });
  }

  async function offer(call) {
    closeMedia(call.id);
    const conn = new RTCPeerConnection({ iceServers: ICE });
    pcs[call.id] = { pc: conn, epoch: call.epoch };
    conn.ontrack = (ev) => { $("remote-video").srcObject = ev.streams[0]; };
    try {
      if (!localStream) { localStream = await navigator.mediaDevices.getUserMedia({ audio: true, video: true }); $("local-video").srcObject = localStream; }
      localStream.getTracks().forEach((t) => conn.addTrack(t, localStream));
    } catch (e) {
      say(L.lNoMedia.replace("{detail}", e.message));
      conn.addTransceiver("audio", { direction: "recvonly" }); conn.addTransceiver("video", { direction: "recvonly" });
    }
    await conn.setLocalDescription(await conn.createOffer());
    await iceDone(conn);
    if (!pcs[call.id] || pcs[call.id].pc !== conn) return;
    await post("/signage/console/calls/" + call.id + "/signal", { kind: "offer", epoch: call.epoch, sdp: conn.localDescription.sdp });
  }

  async function act(call, action, json) {
    if (action === "take") {  // one conversation at a time: hold the one in progress first
      for (const c of mine) if (c.state === "active" && c.id !== call.id) await act(c, "hold");
    }
    const updated = await post("/signage/console/calls/" + call.id + "/actions/" + action, json);
    if (action === "take") { mine = mine.filter((c) => c.id !== updated.id).concat([updated]); await offer(updated); }
    else closeMedia(call.id);
    await refresh();
  }

  function renderQueue(queue) {
    const rows = $("queue-rows");
    rows.textContent = "";
    if (!queue.length) { const tr = rows.insertRow(); const td = tr.insertCell(); td.colSpan = 3; td.textContent = L.lEmpty; return; }
    for (const c of queue) {
      const tr = rows.insertRow();
      tr.dataset.callId = c.id; tr.dataset.store = c.store_id;
      tr.insertCell().textContent = c.store_id;
      tr.insertCell().textContent = Math.round(c.wait_s);
      tr.insertCell().appendChild(button(L.lTake, () => act(c, "take")));
    }
  }

  function renderMine(calls) {
    const list = $("mine-rows");
    list.textContent = "";
    if (!calls.length) { const li = document.createElement("li"); li.textContent = L.lNoCalls; list.appendChild(li); }
    for (const c of calls) {
      const li = document.createElement("li");
      li.dataset.callId = c.id; li.dataset.store = c.store_id; li.dataset.state = c.state;
      li.appendChild(document.createTextNode(c.store_id + " — " + (c.state === "active" ? L.lActive : L.lHeld) + " "));
      li.appendChild(c.state === "active" ? button(L.lHold, () => act(c, "hold")) : button(L.lResume, () => act(c, "take")));
      li.appendChild(button(L.lTransfer, () => act(c, "transfer", { to: $("transfer-to").value })));
      li.appendChild(button(L.lEnd, () => act(c, "end")));
      list.appendChild(li);
    }
  }

  function renderColleagues(names) {
    const sel = $("transfer-to");
    const current = sel.value;
    sel.textContent = "";
    for (const n of names) { const o = document.createElement("option"); o.value = n; o.textContent = n; sel.appendChild(o); }
    if (names.includes(current)) sel.value = current;
  }

  function renderFigures(figures) {
    const rows = $("figure-rows");
    rows.textContent = "";
    for (const f of figures) {
      const tr = rows.insertRow();
      for (const v of [f.store_id, f.waiting, f.handled, f.abandoned, f.mean_wait_s === null ? "–" : f.mean_wait_s.toFixed(1)]) tr.insertCell().textContent = v;
    }
  }

  async function refresh() {
    const r = await fetch("/signage/console/state?after=" + after);
    if (!r.ok) return;
    const s = await r.json();
    after = s.after;
    mine = s.mine;
    for (const m of s.messages) {
      const entry = pcs[m.call_id];
      if (m.kind === "answer" && entry && entry.epoch === m.body.epoch && entry.pc.signalingState === "have-local-offer") {
        await entry.pc.setRemoteDescription({ type: "answer", sdp: m.body.sdp });
      }
    }
    const open = new Set(s.mine.filter((c) => c.state === "active").map((c) => c.id));
    for (const id of Object.keys(pcs)) if (!open.has(Number(id))) closeMedia(id);
    // no media session yet (after a reload), or a new one (the customer moved to their phone): offer
    for (const c of s.mine) if (c.state === "active" && (!pcs[c.id] || pcs[c.id].epoch !== c.epoch)) await offer(c);
    renderQueue(s.queue); renderMine(s.mine); renderColleagues(s.colleagues); renderFigures(s.figures);
  }

  async function loop() {
    for (;;) {
      try { await serial(refresh); } catch (e) { /* next round */ }
      await new Promise((res) => setTimeout(res, POLL_MS));
    }
  }

  $("push-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const json = { store_id: f.get("store_id"), kind: f.get("kind"), title: f.get("title") || "" };
    if (f.get("url")) json.url = f.get("url");
    post("/signage/console/push", json).then(() => say(L.lSent)).catch(() => {});
  });
  $("broadcast-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    post("/signage/console/broadcast", { store_ids: f.getAll("store_ids"), text: f.get("text") }).then(() => say(L.lSent)).catch(() => {});
  });

  loop();
})();
