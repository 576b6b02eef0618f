// The registry's global messages (superusers post them, anyone may read
// them): fetched once per page load and after a change, shown as plain text
// above every page.
import { get } from "./api.js";
import { h, replace, clear } from "./dom.js";

export async function showMessages() {
  const box = document.getElementById("messages");
  try {
    const got = await get("messages");
    replace(box, (got.messages || []).map((m) => h("p", {
      class: "message " + (["info", "warning", "error"].includes(m.severity) ? m.severity : "info"),
      role: m.severity === "error" ? "alert" : null }, m.content)));
  } catch {
    clear(box);  // the page works without them
  }
}
