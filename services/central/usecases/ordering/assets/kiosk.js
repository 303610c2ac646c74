// The kiosk ordering page: basket, idempotent order submission, and the air-touch cursor.
// Air-touch events come from the kiosk's own bridge (edge/usecases/airtouch/bridge.py) as
// Server-Sent Events: {kind: move|press|release|lost, x, y (page px), distance_cm, via}.
(() => {
  "use strict";
  const root = document.getElementById("kiosk");
  if (!root) return;
  const d = root.dataset;
  const basket = new Map(); // sku -> {name, price, qty}
  const lines = document.getElementById("basket-lines");
  const empty = document.getElementById("basket-empty");
  const total = document.getElementById("basket-total");
  const place = document.getElementById("order-place");
  const status = document.getElementById("order-status");
  const cursor = document.getElementById("airtouch-cursor");
  const yen = (amount) => d.yen.replace("{amount}", String(amount));
  let viaAir = false; // true while a click is being delivered by an air-touch press
  let usedAir = false; // this basket was (partly) filled by air-touch
  let pending = null; // the order being sent: its id is kept across retries

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    const h = Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
  }

  function render() {
    lines.replaceChildren();
    let sum = 0;
    for (const [sku, item] of basket) {
      sum += item.price * item.qty;
      const li = document.createElement("li");
      li.dataset.sku = sku;
      const label = document.createElement("span");
      label.textContent = `${item.name} × ${item.qty}`;
      const minus = document.createElement("button");
      minus.type = "button"; minus.textContent = "−"; minus.title = d.remove; minus.setAttribute("aria-label", `${d.remove}: ${item.name}`);
      minus.addEventListener("click", () => { changed(); item.qty -= 1; if (item.qty <= 0) basket.delete(sku); render(); });
      li.append(label, minus);
      lines.append(li);
    }
    empty.hidden = basket.size > 0;
    total.textContent = yen(sum);
    place.disabled = basket.size === 0 || pending !== null;
  }

  function changed() { if (viaAir) usedAir = true; if (pending === null) status.textContent = ""; }

  for (const button of document.querySelectorAll(".kiosk-item")) {
    button.addEventListener("click", () => {
      changed();
      const sku = button.dataset.sku;
      const item = basket.get(sku) || { name: button.dataset.name, price: Number(button.dataset.price), qty: 0 };
      if (item.qty < 20) item.qty += 1;
      basket.set(sku, item);
      render();
    });
  }
  document.getElementById("order-clear").addEventListener("click", () => { changed(); if (pending === null) { basket.clear(); usedAir = false; render(); } });

  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

  async function submit() {
    if (basket.size === 0 || pending !== null) return;
    if (viaAir) usedAir = true;
    pending = {
      order_id: uuid(), kiosk_id: d.kiosk,
      source: d.source === "phone" ? "phone" : (usedAir ? "airtouch" : "touch"),
      lines: Array.from(basket, ([sku, item]) => ({ sku, qty: item.qty })),
    };
    render();
    status.textContent = d.sending;
    // The same order_id on every try: if an answer was lost, central answers the first order again.
    for (let attempt = 0; attempt < 6; attempt++) {
      let response = null;
      try {
        response = await fetch(`/kiosk/${encodeURIComponent(d.store)}/orders`, {
          method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(pending),
        });
      } catch (_) { response = null; }
      if (response && (response.status === 200 || response.status === 201)) {
        const order = await response.json();
        status.textContent = `${d.placed} ${order.number}`;
        status.dataset.orderId = order.order_id;
        basket.clear(); usedAir = false; pending = null; render();
        return;
      }
      if (response && response.status !== 429 && response.status < 500) break; // refused: retrying cannot help
      status.textContent = d.retrying;
      await sleep(Math.min(8000, 500 * 2 ** attempt));
    }
    status.textContent = d.failed;
    pending = null; render();
  }
  place.addEventListener("click", submit);
  render();

  // ---- air-touch
  if (!d.airtouch) return;
  let source = null;
  let hideTimer = null;
  function connect() {
    source = new EventSource(`${d.airtouch}/events`);
    source.onmessage = (message) => {
      let e;
      try { e = JSON.parse(message.data); } catch (_) { return; }
      if (typeof e.x !== "number" || typeof e.y !== "number") return;
      if (e.kind === "lost") { cursor.hidden = true; return; }
      cursor.hidden = false;
      cursor.style.left = `${e.x}px`;
      cursor.style.top = `${e.y}px`;
      cursor.classList.toggle("near", typeof e.distance_cm === "number" && e.distance_cm < 10);
      if (e.kind === "press") press(e.x, e.y);
    };
    source.onerror = () => { cursor.hidden = true; }; // EventSource reconnects by itself
  }
  function press(x, y) {
    cursor.classList.add("pressed");
    clearTimeout(hideTimer);
    hideTimer = setTimeout(() => cursor.classList.remove("pressed"), 250);
    const target = document.elementFromPoint(x, y);
    const button = target && target.closest("button");
    if (!button || button.disabled) return;
    button.classList.add("airtouch-pressed");
    setTimeout(() => button.classList.remove("airtouch-pressed"), 300);
    viaAir = true;
    try { button.click(); } finally { viaAir = false; }
  }
  connect();
})();
