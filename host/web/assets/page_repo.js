// A repository: tags, tag history (restore), settings (description,
// visibility, permissions, delete), usage logs, and the manifest view.
import { get, post, put, del, repoPath } from "./api.js";
import { h, replace, field, input, select, table, link, tabs, button, busy, say, nextId,
  confirmDialog, formDialog, copyable, alertBox } from "./dom.js";
import { bytes, when, isoTitle, shortDigest } from "./format.js";
import { activityChart } from "./chart.js";
import { permissionsEditor } from "./perms.js";
import { manifestView } from "./page_manifest.js";

const PAGE = 50;

export function pullCommand(repo, tag) {
  return "podman pull " + location.host + "/" + repo + ":" + tag;
}

function repoUrl(repo, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  return "/repository/" + repoPath(repo) + (s ? "?" + s : "");
}

export async function repoPage(ctx) {
  const repo = ctx.params[0];
  const tab = ctx.query.get("tab") || "tags";
  const manifest = ctx.query.get("manifest");
  // The tag page's own call starts beside the repository's, not after it.
  const tagsCall = !manifest && tab === "tags" ? tagPage(ctx, repo) : null;
  if (tagsCall) tagsCall.catch(() => {});  // reported by tagsTab, or moot if info fails
  const info = await get("repository/" + repoPath(repo), { includeTags: false });
  if (!ctx.live()) return;
  document.title = repo + " · quayd";
  const items = [["tags", "Tags", repoUrl(repo)],
    ["history", "Tag history", repoUrl(repo, { tab: "history" })],
    ["logs", "Usage logs", repoUrl(repo, { tab: "logs" })]];
  if (info.can_admin) items.push(["settings", "Settings", repoUrl(repo, { tab: "settings" })]);
  const body = h("section", { class: "tab-body" });
  replace(ctx.main,
    h("div", { class: "head" },
      h("h1", null, h("span", { class: "ns" }, link("/user/" + encodeURIComponent(info.namespace),
        info.namespace), "/"), info.name),
      h("span", { class: "badge " + (info.is_public ? "public" : "private") },
        info.is_public ? "public" : "private"),
      ctx.me.anonymous ? null : starButton(ctx, repo, info)),
    info.description ? h("p", { class: "desc" }, info.description) : null,
    tabs("Repository", items, manifest ? "" : tab),
    body);
  const rctx = { ...ctx, repo, info, body, tagsCall };
  if (manifest) return manifestView(rctx, manifest);
  if (tab === "history") return historyTab(rctx);
  if (tab === "logs") return logsTab(rctx, "repository/" + repoPath(repo));
  if (tab === "settings" && info.can_admin) return settingsTab(rctx);
  return tagsTab(rctx);
}

function starButton(ctx, repo, info) {
  let starred = !!info.is_starred;
  const btn = button(starred ? "Unstar" : "Star", () => busy(btn, async () => {
    if (starred) await del("user/starred/" + repoPath(repo));
    else await post("user/starred", { namespace: info.namespace, repository: info.name });
    starred = !starred;
    btn.textContent = starred ? "Unstar" : "Star";
    say(starred ? "Starred " + repo + "." : "No longer starred.");
  }));
  return btn;
}

function tagPage(ctx, repo) {
  const page = Math.max(1, parseInt(ctx.query.get("page") || "1", 10) || 1);
  const filter = ctx.query.get("filter") || "";
  return get("repository/" + repoPath(repo) + "/tag/", { onlyActiveTags: true,
    limit: PAGE, page, filter_tag_name: filter ? "like:" + filter : "" });
}

async function tagsTab(ctx) {
  const { repo, info, body } = ctx;
  const page = Math.max(1, parseInt(ctx.query.get("page") || "1", 10) || 1);
  const filter = ctx.query.get("filter") || "";
  const data = await (ctx.tagsCall || tagPage(ctx, repo));
  if (!ctx.live()) return;
  const tags = data.tags || [];

  const pull = h("div", { class: "pull" });
  const showPull = (tag) => replace(pull, h("h2", { class: "small" }, "Pull ", h("code", null, tag)),
    copyable("Pull command", pullCommand(repo, tag)));
  if (tags.length) showPull(tags[0].name);

  const search = input({ type: "search", name: "filter", value: filter,
    placeholder: "part of a tag name" });
  const form = h("form", { class: "toolbar", role: "search" }, field("Filter tags", search),
    h("button", { type: "submit" }, "Filter"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    ctx.navigate(repoUrl(repo, { filter: search.value.trim() }));
  });

  const rows = tags.map((t) => {
    const actions = h("td", { class: "actions-cell" },
      button("Pull", () => showPull(t.name), { "aria-label": "Show pull command for " + t.name }));
    if (info.can_write) {
      actions.append(
        button("Add tag", (e) => retag(ctx, t, e.currentTarget),
          { "aria-label": "Add another tag to the manifest of " + t.name }),
        button("Set expiry", (e) => setExpiry(ctx, t, e.currentTarget),
          { "aria-label": "Set the expiry of " + t.name }),
        button("Delete", (e) => deleteTag(ctx, t, e.currentTarget),
          { class: "danger", "aria-label": "Delete tag " + t.name }));
    }
    return h("tr", { dataset: { tag: t.name } },
      h("th", { scope: "row" }, t.name),
      h("td", null, bytes(t.size)),
      h("td", { title: isoTitle(t.last_modified) }, when(t.last_modified)),
      h("td", null, link(repoUrl(repo, { manifest: t.manifest_digest }),
        h("code", { title: t.manifest_digest }, shortDigest(t.manifest_digest))),
      t.is_manifest_list ? h("span", { class: "badge" }, "index") : null),
      h("td", null, t.expiration ? when(t.expiration) : "never"),
      actions);
  });
  const pager = h("nav", { class: "pager", "aria-label": "Tag pages" },
    page > 1 ? link(repoUrl(repo, { filter, page: String(page - 1) }), "Previous page") : null,
    h("span", null, "Page " + page),
    data.has_additional ? link(repoUrl(repo, { filter, page: String(page + 1) }), "Next page") : null);
  replace(body, pull, form,
    table({ text: "Tags of " + repo }, ["Tag", "Size", "Last modified", "Manifest", "Expires",
      "Actions"], rows, { class: "tags" }), pager);
}

async function deleteTag(ctx, t, btn) {
  if (!(await confirmDialog("Delete tag " + t.name + "?",
    "The tag stops resolving at once. It stays in the tag history and can be restored " +
    "there until the recovery window passes.", "Delete tag"))) return;
  await busy(btn, async () => {
    await del("repository/" + repoPath(ctx.repo) + "/tag/" + encodeURIComponent(t.name));
    say("Deleted tag " + t.name + ".");
    ctx.navigate(location.pathname + location.search, { replaceState: true });
  });
}

async function retag(ctx, t, btn) {
  const name = await formDialog("Add a tag to " + shortDigest(t.manifest_digest), (form) => {
    const inp = input({ name: "tag", required: true, pattern: "[A-Za-z0-9_][A-Za-z0-9_.\\-]{0,127}" });
    form.append(field("New tag name", inp, "Points at the same manifest as " + t.name + "."));
    return () => inp.value.trim();
  }, "Add tag");
  if (!name) return;
  await busy(btn, async () => {
    await put("repository/" + repoPath(ctx.repo) + "/tag/" + encodeURIComponent(name),
      { manifest_digest: t.manifest_digest });
    say("Tag " + name + " now points at " + shortDigest(t.manifest_digest) + ".");
    ctx.navigate(location.pathname + location.search, { replaceState: true });
  });
}

// Quay's changeTag with `expiration`: Unix seconds, or null for none.
async function setExpiry(ctx, t, btn) {
  const current = t.expiration ? new Date(t.expiration) : null;
  const pad = (n) => String(n).padStart(2, "0");
  const local = (d) => d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) +
    "T" + pad(d.getHours()) + ":" + pad(d.getMinutes());
  const choice = await formDialog("Expiry of " + t.name, (form) => {
    const at = input({ type: "datetime-local", name: "when",
      value: current ? local(current) : "", min: local(new Date()) });
    const never = h("input", { type: "checkbox", name: "never", id: nextId("never"),
      checked: !current });
    form.append(field("Expires at (your local time)", at,
      "The tag stops resolving then; it stays in the tag history."),
    h("div", { class: "field check" }, never, h("label", { for: never.id }, "Never expires")));
    at.addEventListener("input", () => { never.checked = !at.value; });
    return () => ({ never: never.checked, when: at.value });
  }, "Save expiry");
  if (!choice) return;
  const expiration = choice.never || !choice.when
    ? null : Math.floor(new Date(choice.when).getTime() / 1000);
  await busy(btn, async () => {
    await put("repository/" + repoPath(ctx.repo) + "/tag/" + encodeURIComponent(t.name),
      { expiration });
    say(expiration === null ? "Tag " + t.name + " never expires."
      : "Tag " + t.name + " expires " + new Date(expiration * 1000).toLocaleString() + ".");
    ctx.navigate(location.pathname + location.search, { replaceState: true });
  });
}

async function historyTab(ctx) {
  const { repo, info, body } = ctx;
  const page = Math.max(1, parseInt(ctx.query.get("page") || "1", 10) || 1);
  const only = ctx.query.get("tag") || "";
  const data = await get("repository/" + repoPath(repo) + "/tag/", { limit: PAGE, page,
    specificTag: only });
  if (!ctx.live()) return;
  const tagBox = input({ name: "tag", value: only, placeholder: "exact tag name" });
  const form = h("form", { class: "toolbar", role: "search" }, field("Only the tag", tagBox),
    h("button", { type: "submit" }, "Show"));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    ctx.navigate(repoUrl(repo, { tab: "history", tag: tagBox.value.trim() }));
  });
  const rows = (data.tags || []).map((t) => {
    // end_ts in the future is a live tag's expiry, not its end.
    const ended = t.end_ts !== undefined && t.end_ts !== null && t.end_ts * 1000 <= Date.now();
    const action = ended && info.can_write
      ? button("Restore", (e) => restore(ctx, t, e.currentTarget),
        { "aria-label": "Restore " + t.name + " to " + shortDigest(t.manifest_digest) })
      : null;
    return h("tr", { dataset: { tag: t.name, ended: ended ? "1" : "" } },
      h("th", { scope: "row" }, t.name),
      h("td", null, link(repoUrl(repo, { manifest: t.manifest_digest }),
        h("code", null, shortDigest(t.manifest_digest)))),
      h("td", { title: isoTitle(t.start_ts) }, when(t.start_ts)),
      h("td", { title: isoTitle(t.end_ts) }, ended ? when(t.end_ts) : h("span", { class: "badge public" }, "current")),
      h("td", null, action));
  });
  const pager = h("nav", { class: "pager", "aria-label": "History pages" },
    page > 1 ? link(repoUrl(repo, { tab: "history", tag: only, page: String(page - 1) }), "Previous page") : null,
    h("span", null, "Page " + page),
    data.has_additional ? link(repoUrl(repo, { tab: "history", tag: only, page: String(page + 1) }), "Next page") : null);
  replace(body, h("p", { class: "muted" }, "Every tag version, newest first: a tag that " +
    "was deleted or moved can be restored to the manifest it pointed at."), form,
    table({ text: "Tag history of " + repo }, ["Tag", "Manifest", "From", "Until", "Action"],
      rows, { class: "history" }), pager);
}

async function restore(ctx, t, btn) {
  await busy(btn, async () => {
    await post("repository/" + repoPath(ctx.repo) + "/tag/" + encodeURIComponent(t.name) +
      "/restore", { manifest_digest: t.manifest_digest });
    say("Restored " + t.name + " to " + shortDigest(t.manifest_digest) + ".");
    ctx.navigate(location.pathname + location.search, { replaceState: true });
  });
}

async function settingsTab(ctx) {
  const { repo, info, body } = ctx;
  const base = "repository/" + repoPath(repo);
  const alert = alertBox();
  const desc = h("textarea", { name: "description", rows: 3 }, info.description || "");
  const descForm = h("form", { class: "card" }, h("h2", null, "Description"),
    field("Description", desc),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Save description")));
  descForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    await busy(e.submitter, async () => {
      await put(base, { description: desc.value });
      say("Description saved.");
    });
  });
  const vis = select({ name: "visibility" }, [["private", "Private"], ["public", "Public"]],
    info.is_public ? "public" : "private");
  const visForm = h("form", { class: "card" }, h("h2", null, "Visibility"),
    field("Who can pull", vis, "Public repositories can be pulled by anyone, signed in or not."),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Change visibility")));
  visForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    await busy(e.submitter, async () => {
      await post(base + "/changevisibility", { visibility: vis.value });
      say("The repository is now " + vis.value + ".");
    });
  });
  const perms = h("div", { class: "card" });
  const danger = h("div", { class: "card danger-zone" }, h("h2", null, "Delete repository"),
    h("p", null, "Deletes the repository, its tags and history. Its blobs go at the next " +
      "garbage collection."),
    button("Delete " + repo, async (e) => {
      if (!(await confirmDialog("Delete " + repo + "?", "This cannot be undone.",
        "Delete repository"))) return;
      await busy(e.target, async () => {
        await del(base);
        say("Deleted " + repo + ".");
        ctx.navigate("/");
      });
    }, { class: "danger" }));
  replace(body, alert, descForm, visForm, perms, danger);
  await permissionsEditor(ctx, perms, repo, info);
}

// Usage logs of a repository, organization, user or the whole registry
// (base: the API path the logs and aggregatelogs routes hang off).
export async function logsTab(ctx, base) {
  const next = ctx.query.get("next") || "";
  const [agg, logs] = await Promise.all([
    get(base + "/aggregatelogs").catch((e) => ({ error: e })),
    get(base + "/logs", { next_page: next })]);
  if (!ctx.live()) return;
  const rows = (logs.logs || []).map((l) => h("tr", null,
    h("td", { title: isoTitle(l.datetime) }, when(l.datetime)),
    h("td", null, h("code", null, l.kind)),
    h("td", null, l.performer ? l.performer.name : "(anonymous)"),
    h("td", null, describe(l)),
    h("td", null, l.ip || "")));
  const q = new URLSearchParams(location.search);
  const pager = h("nav", { class: "pager", "aria-label": "Log pages" });
  if (next) { q.delete("next"); pager.append(link(location.pathname + "?" + q, "Newest")); }
  if (logs.next_page) {
    q.set("next", logs.next_page);
    pager.append(link(location.pathname + "?" + q, "Older entries"));
  }
  replace(ctx.body,
    agg.error ? h("p", { class: "muted" }, "No activity chart: " + agg.error.message)
      : activityChart(agg.aggregated),
    table({ text: "Log entries" }, ["When", "Action", "By", "Details", "Address"], rows,
      { class: "logs" }), pager);
}

function describe(l) {
  const m = l.metadata || {};
  const parts = [];
  for (const k of ["repo", "namespace", "tag", "username", "robot", "team", "role", "manifest_digest", "visibility"]) {
    if (m[k] === undefined || m[k] === null || m[k] === "") continue;
    parts.push(k + "=" + (k === "manifest_digest" ? shortDigest(m[k]) : m[k]));
  }
  return parts.join(" ");
}

