// The repository list (mine, an organization's, public, starred, search)
// and the create-repository form. One page of the API's listing at a time:
// "Next page" follows the API's sealed cursor (next_page).
import { get, post, repoPath } from "./api.js";
import { h, replace, field, input, select, table, link, alertBox } from "./dom.js";
import { when, isoTitle } from "./format.js";

function repoHref(r) {
  return "/repository/" + repoPath(r.namespace + "/" + r.name);
}

function listUrl(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  return location.pathname + (s ? "?" + s : "");
}

export async function repoListPage(ctx) {
  const q = ctx.query;
  const me = ctx.me;
  const orgs = (me.organizations || []).map((o) => o.name);
  const scope = q.get("scope") || (me.anonymous ? "public" : "mine");
  const search = q.get("q") || "";
  const sort = q.get("sort") || "name";
  const next = q.get("next") || "";
  return listRepos(ctx, { scope, search, sort, next, orgs, title: "Repositories" });
}

export async function namespacePage(ctx) {
  const ns = ctx.params[0];
  const q = ctx.query;
  return listRepos(ctx, { scope: "ns:" + ns, search: "", sort: q.get("sort") || "name",
    next: q.get("next") || "", orgs: [], title: ns, fixed: true });
}

async function listRepos(ctx, { scope, search, sort, next, orgs, title, fixed }) {
  document.title = title + " · quayd";
  const me = ctx.me;
  let data, query;
  if (search) {
    query = { query: search, next_page: next || undefined, includeUsage: true };
    data = await get("find/repositories", query);
    data.repositories = (data.results || []).map((r) => ({ ...r,
      namespace: r.namespace && typeof r.namespace === "object" ? r.namespace.name : r.namespace }));
  } else {
    if (scope === "public") query = { public: true };
    else if (scope === "starred") query = { starred: true };
    else if (scope === "mine") query = { namespace: me.username };
    else query = { namespace: scope.replace(/^(org|ns):/, "") };
    query.last_modified = true;
    if (next) query.next_page = next;
    data = await get("repository", query);
  }
  if (!ctx.live()) return;
  const repos = (data.repositories || []).slice();
  // Sorting covers the page shown (the API pages by name).
  if (sort === "modified") {
    repos.sort((a, b) => (b.last_modified || 0) - (a.last_modified || 0));
  }

  const controls = h("form", { class: "toolbar", role: "search" });
  let scopeSel = null;
  if (!fixed) {
    const options = [];
    if (!me.anonymous) options.push(["mine", "Mine (" + me.username + ")"]);
    for (const o of orgs) options.push(["org:" + o, "Organization " + o]);
    options.push(["public", "Public"]);
    if (!me.anonymous) options.push(["starred", "Starred"]);
    scopeSel = select({ name: "scope" }, options, scope);
    controls.append(field("Show", scopeSel));
  }
  const searchBox = input({ name: "q", type: "search", value: search,
    placeholder: "name or description" });
  const sortSel = select({ name: "sort" },
    [["name", "Name"], ["modified", "Last modified"]], sort);
  controls.append(fixed ? null : field("Search", searchBox), field("Sort by", sortSel),
    h("button", { type: "submit" }, "Apply"));
  controls.addEventListener("submit", (e) => {
    e.preventDefault();
    ctx.navigate(listUrl({ scope: scopeSel && scopeSel.value !== "mine" ? scopeSel.value : "",
      q: fixed ? "" : searchBox.value.trim(), sort: sortSel.value === "name" ? "" : sortSel.value }));
  });
  sortSel.addEventListener("change", () => controls.requestSubmit());
  if (scopeSel) scopeSel.addEventListener("change", () => controls.requestSubmit());

  const rows = repos.map((r) => h("tr", null,
    h("td", null, link(repoHref(r), h("span", { class: "ns" }, r.namespace + "/"), r.name)),
    h("td", null, h("span", { class: "badge " + (r.is_public ? "public" : "private") },
      r.is_public ? "public" : "private")),
    h("td", { class: "desc" }, r.description || ""),
    h("td", { title: isoTitle(r.last_modified) }, when(r.last_modified))));

  const more = data.next_page || (data.has_additional && data.next_page);
  const pager = h("nav", { class: "pager", "aria-label": "Pages" },
    next ? link(listUrl({ scope: scope === "mine" || fixed ? "" : scope, q: search,
      sort: sort === "name" ? "" : sort }), "First page") : null,
    more ? link(listUrl({ scope: scope === "mine" || fixed ? "" : scope, q: search,
      sort: sort === "name" ? "" : sort, next: data.next_page }), "Next page") : null);

  replace(ctx.main,
    h("div", { class: "head" }, h("h1", null, fixed ? "Repositories of " + title : title),
      me.anonymous ? null : link("/new", h("span", { class: "button primary" }, "Create repository"))),
    controls,
    table({ text: search ? "Search results for " + search : "Repositories" },
      ["Name", "Visibility", "Description", "Last modified"], rows, { class: "repos" }),
    pager);
}

export async function createRepoPage(ctx) {
  document.title = "New repository · quayd";
  if (ctx.me.anonymous) {
    ctx.navigate("/signin?next=/new", { replaceState: true });
    return;
  }
  const me = ctx.me;
  const namespaces = [[me.username, me.username],
    ...(me.organizations || []).map((o) => [o.name, o.name])];
  const alert = alertBox();
  const ns = select({ name: "namespace" }, namespaces, ctx.query.get("namespace") || me.username);
  const name = input({ name: "name", required: true, pattern: "[a-z0-9]+([._\\-\\/][a-z0-9]+)*" });
  const desc = h("textarea", { name: "description", rows: 3 });
  const vis = select({ name: "visibility" }, [["private", "Private"], ["public", "Public"]],
    "private");
  const form = h("form", { class: "card narrow" },
    field("Namespace", ns), field("Name", name, "Lower-case letters, digits and separators."),
    field("Description", desc), field("Visibility", vis),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, "Create")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    alert.show("");
    try {
      await post("repository", { namespace: ns.value, repository: name.value.trim(),
        description: desc.value, visibility: vis.value, repo_kind: "image" });
      ctx.navigate("/repository/" + repoPath(ns.value + "/" + name.value.trim()));
    } catch (err) {
      alert.show(err.message);
    }
  });
  replace(ctx.main, h("h1", null, "Create a repository"), alert, form,
    h("p", { class: "muted" }, "A push with skopeo, podman or docker also creates one."));
  name.focus();
}
