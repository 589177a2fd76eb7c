// The chat page's one script: copy, pin, export (see kzqa/serve/page/__init__.py).
(() => {
  if (window.kzqaReady) return;
  window.kzqaReady = true;
  const KEY = "kzqa-collection";
  const decode = (b64) => new TextDecoder().decode(Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)));
  const load = () => { try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; } };
  const save = (items) => { localStorage.setItem(KEY, JSON.stringify(items)); show(); };
  const say = (text) => { const s = document.getElementById("kzqa-collection-status"); if (s) s.textContent = text; };
  const style = () => {
    const checked = document.querySelector("#kzqa-style input:checked");
    return checked ? checked.value : "plain";
  };

  const pinned = (items, item) => items.some((i) => i.id === item.id && i.question === item.question);
  const pinOf = (button) => {
    if (button.kzqaValue !== button.value) { button.kzqaValue = button.value; button.kzqaItem = JSON.parse(decode(button.value)); }
    return button.kzqaItem;
  };

  // Every Pin button says whether its quote is in the collection: after a pin, an unpin, a
  // clear, and on answers shown later. (Writes only what differs: the observer below calls it.)
  function markPins(items) {
    document.querySelectorAll("button.kzqa-pin").forEach((button) => {
      const is = pinned(items, pinOf(button));
      const text = is ? "Pinned ✓" : "Pin";
      if (button.textContent !== text) button.textContent = text;
      if (is && button.getAttribute("aria-pressed") !== "true") button.setAttribute("aria-pressed", "true");
      if (!is && button.hasAttribute("aria-pressed")) button.removeAttribute("aria-pressed");
    });
  }

  function show() {
    const list = document.getElementById("kzqa-collection-list");
    const count = document.getElementById("kzqa-collection-count");
    if (!list || !count) return;
    const items = load();
    markPins(items);
    count.textContent = items.length ? `${items.length} quote${items.length > 1 ? "s" : ""} pinned.`
                                     : "No quotes pinned yet: press “Pin” under a quote.";
    list.replaceChildren(...items.map((item, i) => {
      const li = document.createElement("li");
      const q = document.createElement("div");
      q.textContent = `“${item.preview}” — ${item.source}`;
      const un = document.createElement("button");
      un.type = "button"; un.textContent = "Unpin";
      un.setAttribute("aria-label", `Unpin quote ${i + 1}`);
      un.addEventListener("click", () => { const all = load(); all.splice(i, 1); save(all); say("Unpinned."); });
      li.append(q, un);
      return li;
    }));
  }

  async function copy(text) {
    try { await navigator.clipboard.writeText(text); return true; } catch (e) {
      const area = document.createElement("textarea");
      area.value = text; document.body.append(area); area.select();
      const ok = document.execCommand("copy"); area.remove(); return ok;
    }
  }

  async function exportAs(format) {
    const items = load();
    if (!items.length) { say("Nothing to export: pin quotes first."); return; }
    const chosen = style();
    const body = {items: items.map((i) => ({question: i.question, passage_id: i.id})), format, style: chosen};
    const root = (window.gradio_config && window.gradio_config.root) || "";
    const response = await fetch(`${root.replace(/\/$/, "")}/api/export`, {method: "POST",
      headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
    if (!response.ok) {
      let message = `export failed (HTTP ${response.status})`;
      try { message = (await response.json()).error || message; } catch (e) {}
      say(message); return;
    }
    const text = await response.text();
    const disposition = response.headers.get("content-disposition") || "";
    const name = (disposition.match(/filename="([^"]+)"/) || [null, "kzqa-export.txt"])[1];
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], {type: response.headers.get("content-type") || "text/plain"}));
    link.download = name; document.body.append(link); link.click(); link.remove();
    window.kzqaLastExport = {format, style: chosen, name, text};
    say(`Saved ${name} (${items.length} quote${items.length > 1 ? "s" : ""}, ${chosen} citations).`);
  }

  document.addEventListener("click", async (event) => {
    const button = event.target.closest("button");
    if (!button) return;
    const kind = ["kzqa-copy", "kzqa-pin", "kzqa-export", "kzqa-clear"].find((c) => button.classList.contains(c));
    if (kind === "kzqa-copy") {
      const text = decode(button.value);
      const ok = await copy(text);
      window.kzqaLastCopy = text;
      const label = button.dataset.label || (button.dataset.label = button.textContent);  // pressed twice: still its own
      button.textContent = ok ? "Copied ✓" : "Copy failed";
      setTimeout(() => { button.textContent = label; }, 1500);
    } else if (kind === "kzqa-pin") {
      const item = pinOf(button);
      const all = load();
      if (!pinned(all, item)) { all.push(item); save(all); }
      say(`Pinned: ${all.length} quote${all.length > 1 ? "s" : ""} in your collection.`);
    } else if (kind === "kzqa-export") {
      exportAs(button.value);
    } else if (kind === "kzqa-clear") {
      save([]); say("Collection cleared.");
    }
  });
  // The collection panel is rendered by Gradio after this script runs: fill it once it is there.
  new MutationObserver(() => {
    const list = document.getElementById("kzqa-collection-list");
    if (list && !list.dataset.shown) { list.dataset.shown = "1"; show(); }
    if (document.querySelector("button.kzqa-pin")) markPins(load());
  }).observe(document.documentElement, {childList: true, subtree: true});
})();
