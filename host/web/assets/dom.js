// Small DOM helpers: elements built from data (never from HTML strings, so
// nothing the server returns can become markup), labelled form fields,
// tables, dialogs and the status line.

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
      else if (k === "class") el.className = v;
      else if (k === "for") el.htmlFor = v;
      else if (k === "value") el.value = v;
      else if (k === "checked") el.checked = !!v;
      else if (k === "dataset") Object.assign(el.dataset, v);
      else el.setAttribute(k, v === true ? "" : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

export function replace(el, ...children) {
  clear(el);
  append(el, children);
  return el;
}

let uid = 0;
export const nextId = (p = "f") => p + "-" + ++uid;

// A labelled control. `control` is an input/select/textarea element.
export function field(label, control, hint) {
  if (!control.id) control.id = nextId();
  let hintEl = null;
  if (hint) {
    hintEl = h("small", { id: control.id + "-hint", class: "hint" }, hint);
    control.setAttribute("aria-describedby", hintEl.id);
  }
  return h("div", { class: "field" }, h("label", { for: control.id }, label), control, hintEl);
}

export function input(attrs) { return h("input", { type: "text", ...attrs }); }

export function select(attrs, options, selected) {
  return h("select", attrs,
    options.map(([value, text]) => h("option", { value, selected: value === selected }, text)));
}

export function button(text, onclick, attrs = {}) {
  return h("button", { type: "button", onclick, ...attrs }, text);
}

// An in-page link handled by the router.
export function link(href, ...children) {
  return h("a", { href, "data-nav": true }, ...children);
}

// A table with a caption (for screen readers), header cells and rows.
export function table(caption, headers, rows, attrs = {}) {
  return h("div", { class: "table-wrap" },
    h("table", attrs,
      h("caption", { class: caption.visible ? "" : "sr-only" }, caption.text || caption),
      h("thead", null, h("tr", null, headers.map((x) => h("th", { scope: "col" }, x)))),
      h("tbody", null, rows.length ? rows : h("tr", null,
        h("td", { colspan: headers.length, class: "muted" }, "Nothing here yet.")))));
}

// The page's one status line (aria-live): confirmations and errors in words.
export function say(text, kind = "ok") {
  const el = document.getElementById("status");
  el.className = "status " + kind;
  replace(el, text);
  clearTimeout(say.timer);
  if (kind === "ok") say.timer = setTimeout(() => { el.className = "status"; clear(el); }, 6000);
}

export function sayError(err) {
  say(err && err.message ? err.message : String(err), "error");
}

// An inline alert for a form (role=alert, read out when set).
export function alertBox() {
  const box = h("p", { class: "alert", role: "alert", hidden: true });
  box.show = (msg) => { box.hidden = !msg; replace(box, msg || ""); };
  return box;
}

// A modal dialog; resolves to true (confirmed) or false. <dialog> gives
// focus trapping and Escape for free.
export function confirmDialog(title, text, confirmText = "Confirm", danger = true) {
  return new Promise((resolve) => {
    const ok = button(confirmText, () => dlg.close("ok"), { class: danger ? "danger" : "primary" });
    const dlg = h("dialog", { "aria-labelledby": nextId("dlg") },
      h("h2", { id: "dlg-" + uid }, title), h("p", null, text),
      h("div", { class: "actions" }, button("Cancel", () => dlg.close("cancel")), ok));
    dlg.addEventListener("close", () => { resolve(dlg.returnValue === "ok"); dlg.remove(); });
    document.body.append(dlg);
    dlg.showModal();
    ok.focus();
  });
}

// A dialog with a form; `build(form)` adds fields and returns a function
// that reads them. Resolves to that value or null when cancelled.
export function formDialog(title, build, submitText = "Save") {
  return new Promise((resolve) => {
    const alert = alertBox();
    const form = h("form", { method: "dialog" });
    const read = build(form);
    const dlg = h("dialog", { "aria-label": title }, h("h2", null, title), alert, form);
    form.append(h("div", { class: "actions" },
      button("Cancel", () => { dlg.close(); resolve(null); }),
      h("button", { type: "submit", class: "primary" }, submitText)));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      resolve(read());
      dlg.close();
    });
    dlg.addEventListener("close", () => { dlg.remove(); resolve(null); });
    document.body.append(dlg);
    dlg.showModal();
    const first = form.querySelector("input,select,textarea");
    if (first) first.focus();
  });
}

// A read-only value with a copy button (pull commands, tokens).
export function copyable(label, value, { secret = false } = {}) {
  const out = h("input", { type: "text", readonly: true, value, class: "mono copy-value",
    "aria-label": label, spellcheck: "false" });
  const btn = button("Copy", async () => {
    try {
      await navigator.clipboard.writeText(value);
    } catch {
      out.select();
      document.execCommand("copy");
    }
    btn.textContent = "Copied";
    setTimeout(() => { btn.textContent = "Copy"; }, 1500);
  }, { "aria-label": "Copy " + label.toLowerCase() });
  return h("div", { class: "copy" + (secret ? " secret" : "") }, out, btn);
}

// Tabs as links (each tab is a URL, so Back works and a tab can be shared).
export function tabs(label, items, current) {
  return h("nav", { class: "tabs", "aria-label": label },
    items.map(([key, text, href]) => h("a", { href, "data-nav": true,
      "aria-current": key === current ? "page" : null }, text)));
}

// Runs an async action from a button, disabling it meanwhile and reporting
// failures in the status line.
export async function busy(btn, fn) {
  if (btn) btn.disabled = true;
  try {
    return await fn();
  } catch (e) {
    sayError(e);
    return undefined;
  } finally {
    if (btn) btn.disabled = false;
  }
}
