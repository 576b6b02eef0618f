// An organization: teams (roles, members), robots (token shown on create
// and regenerate, their permissions), default permissions, OAuth
// applications and the organization's logs. Also the user's own robots
// (robotsSection with org = null).
import { get, post, put, del, repoPath } from "./api.js";
import { h, replace, field, input, select, table, link, tabs, button, busy, say,
  confirmDialog, formDialog, copyable } from "./dom.js";
import { when } from "./format.js";
import { logsTab } from "./page_repo.js";
import { entityInput } from "./perms.js";

const TEAM_ROLES = [["member", "Member"], ["creator", "Creator"], ["admin", "Admin"]];
const REPO_ROLES = [["read", "Read"], ["write", "Write"], ["admin", "Admin"]];

const orgUrl = (org, tab) => "/organization/" + encodeURIComponent(org) + (tab ? "?tab=" + tab : "");
const reloadHere = (ctx) => ctx.navigate(location.pathname + location.search, { replaceState: true });

export async function orgPage(ctx) {
  const org = ctx.params[0];
  const tab = ctx.query.get("tab") || "teams";
  const info = await get("organization/" + encodeURIComponent(org));
  if (!ctx.live()) return;
  document.title = org + " · quayd";
  const items = [["teams", "Teams", orgUrl(org)],
    ["repos", "Repositories", "/user/" + encodeURIComponent(org)]];
  if (info.is_admin) {
    items.push(["members", "Members", orgUrl(org, "members")],
      ["robots", "Robot accounts", orgUrl(org, "robots")],
      ["defaults", "Default permissions", orgUrl(org, "defaults")],
      ["apps", "OAuth applications", orgUrl(org, "apps")],
      ["logs", "Logs", orgUrl(org, "logs")]);
  }
  const body = h("section", { class: "tab-body" });
  replace(ctx.main, h("div", { class: "head" }, h("h1", null, "Organization " + org),
    info.is_admin ? h("span", { class: "badge" }, "you administer it") : null),
  tabs("Organization", items, tab), body);
  const octx = { ...ctx, org, info, body };
  if (info.is_admin) {
    if (tab === "members") return membersTab(octx);
    if (tab === "robots") return robotsSection(octx, org, body);
    if (tab === "defaults") return defaultsTab(octx);
    if (tab === "apps") return appsTab(octx);
    if (tab === "logs") return logsTab(octx, "organization/" + encodeURIComponent(org));
  }
  return teamsTab(octx);
}

function teamsTab(ctx) {
  const { org, info, body } = ctx;
  const teams = info.ordered_teams
    ? info.ordered_teams.map((n) => info.teams[n]) : Object.values(info.teams || {});
  const rows = teams.map((t) => h("tr", null,
    h("th", { scope: "row" }, link("/organization/" + encodeURIComponent(org) + "/teams/" +
      encodeURIComponent(t.name), t.name)),
    h("td", null, t.role), h("td", null, String(t.member_count ?? "")),
    h("td", null, t.description || "")));
  const parts = [table({ text: "Teams of " + org }, ["Team", "Role", "Members", "Description"],
    rows, { class: "teams" })];
  if (info.is_admin) {
    const name = input({ name: "team", required: true, pattern: "[a-z][a-z0-9_]+" });
    const role = select({ name: "role" }, TEAM_ROLES, "member");
    const form = h("form", { class: "toolbar" }, field("New team", name), field("Role", role),
      h("button", { type: "submit" }, "Create team"));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      await busy(e.submitter, async () => {
        await put("organization/" + encodeURIComponent(org) + "/team/" +
          encodeURIComponent(name.value.trim()), { role: role.value, description: "" });
        say("Created team " + name.value.trim() + ".");
        reloadHere(ctx);
      });
    });
    parts.push(form);
  }
  replace(body, parts);
}

async function membersTab(ctx) {
  const { org, body } = ctx;
  const base = "organization/" + encodeURIComponent(org) + "/members";
  const data = await get(base);
  if (!ctx.live()) return;
  const rows = (data.members || []).map((m) => h("tr", null,
    h("th", { scope: "row" }, m.name),
    h("td", null, (m.teams || []).map((t) => t.name).join(", ")),
    h("td", null, button("Remove from " + org, async (e) => {
      if (!(await confirmDialog("Remove " + m.name + " from " + org + "?",
        "Removes the user from every team and every permission in " + org + ".", "Remove"))) return;
      await busy(e.target, async () => {
        await del(base + "/" + encodeURIComponent(m.name));
        say("Removed " + m.name + " from " + org + ".");
        reloadHere(ctx);
      });
    }, { class: "danger", "aria-label": "Remove " + m.name + " from " + org }))));
  replace(body, h("p", { class: "muted" }, "Users in at least one team of " + org +
    ". Add members on a team's page."),
  table({ text: "Members of " + org }, ["Member", "Teams", ""], rows, { class: "org-members" }));
}

export async function teamPage(ctx) {
  const [org, team] = ctx.params;
  const base = "organization/" + encodeURIComponent(org) + "/team/" + encodeURIComponent(team);
  const [info, members] = await Promise.all([get("organization/" + encodeURIComponent(org)),
    get(base + "/members")]);
  if (!ctx.live()) return;
  document.title = team + " · " + org + " · quayd";
  const t = (info.teams || {})[team] || { name: team, role: "member" };
  const parts = [h("p", null, link(orgUrl(org), "← " + org)),
    h("h1", null, "Team " + team)];
  if (members.can_edit) {
    const role = select({ name: "role" }, TEAM_ROLES, t.role);
    const desc = input({ name: "description", value: t.description || "" });
    const roleForm = h("form", { class: "toolbar" }, field("Team role", role,
      "Admin: everything in the organization. Creator: may create repositories. Member: only what is granted."),
    field("Team description", desc), h("button", { type: "submit" }, "Save team"));
    roleForm.addEventListener("submit", async (e) => {
      e.preventDefault();
      await busy(e.submitter, async () => {
        await put(base, { role: role.value, description: desc.value });
        say("Team " + team + " is now " + role.value + ".");
      });
    });
    parts.push(roleForm);
  } else {
    parts.push(h("p", null, "Role: " + t.role));
  }
  const rows = (members.members || []).map((m) => h("tr", null,
    h("th", { scope: "row" }, m.name), h("td", null, m.is_robot ? "robot" : "user"),
    h("td", null, members.can_edit ? button("Remove", (e) => busy(e.target, async () => {
      await del(base + "/members/" + encodeURIComponent(m.name));
      say("Removed " + m.name + " from " + team + ".");
      reloadHere(ctx);
    }), { class: "danger", "aria-label": "Remove " + m.name + " from the team" }) : null)));
  parts.push(table({ text: "Members of " + team }, ["Member", "Kind", ""], rows, { class: "members" }));
  if (members.can_edit) {
    const who = entityInput({ name: "member", required: true }, org);
    const form = h("form", { class: "toolbar" }, field("Add member", who,
      "A user name, or a robot " + org + "+name."),
    h("button", { type: "submit" }, "Add"), who.entityList);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      await busy(e.submitter, async () => {
        await put(base + "/members/" + encodeURIComponent(who.value.trim()));
        say("Added " + who.value.trim() + " to " + team + ".");
        reloadHere(ctx);
      });
    });
    parts.push(form);
    parts.push(h("div", { class: "card danger-zone" }, button("Delete team " + team, async (e) => {
      if (!(await confirmDialog("Delete team " + team + "?", "Its members lose what the team grants.",
        "Delete team"))) return;
      await busy(e.target, async () => {
        await del(base);
        say("Deleted team " + team + ".");
        ctx.navigate(orgUrl(org));
      });
    }, { class: "danger" })));
  }
  replace(ctx.main, parts);
}

// Robots of an organization (org) or of the signed-in user (org null).
export async function robotsSection(ctx, org, box, justMade = null) {
  const base = org ? "organization/" + encodeURIComponent(org) + "/robots" : "user/robots";
  const ns = org || ctx.me.username;
  const data = await get(base);
  if (!ctx.live()) return;
  const tokenBox = h("div", { class: "token-box", "aria-live": "polite" });
  const showToken = (robot) => replace(tokenBox, h("div", { class: "card notice" },
    h("h2", null, "Token of " + robot.name),
    h("p", null, "Copy it now: quayd keeps only a hash, so it cannot show it again. Log in with ",
      h("code", null, robot.name), " as the user name and this token as the password."),
    copyable("Robot token", robot.token, { secret: true })));
  const shortOf = (name) => name.slice(name.indexOf("+") + 1);
  const rows = (data.robots || []).map((r) => h("tr", { dataset: { robot: r.name } },
    h("th", { scope: "row" }, r.name), h("td", null, r.description || ""),
    h("td", null, when(r.created)),
    h("td", { class: "actions-cell" },
      button("Permissions", (e) => busy(e.target, () => robotPermissions(ctx, base, r)),
        { "aria-label": "Permissions of " + r.name }),
      button("Regenerate token", async (e) => {
        if (!(await confirmDialog("Regenerate the token of " + r.name + "?",
          "The current token stops working at once.", "Regenerate"))) return;
        await busy(e.target, async () => {
          const got = await post(base + "/" + encodeURIComponent(shortOf(r.name)) + "/regenerate");
          showToken(got);
        });
      }, { "aria-label": "Regenerate the token of " + r.name }),
      button("Delete", async (e) => {
        if (!(await confirmDialog("Delete " + r.name + "?", "Clients using its token are refused.",
          "Delete robot"))) return;
        await busy(e.target, async () => {
          await del(base + "/" + encodeURIComponent(shortOf(r.name)));
          say("Deleted " + r.name + ".");
          reloadHere(ctx);
        });
      }, { class: "danger", "aria-label": "Delete " + r.name }))));
  const name = input({ name: "robot", required: true, pattern: "[a-z][a-z0-9_]{1,254}" });
  const desc = input({ name: "description" });
  const form = h("form", { class: "toolbar" }, field("New robot name", name, ns + "+name"),
    field("Description", desc), h("button", { type: "submit" }, "Create robot"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    await busy(e.submitter, async () => {
      const got = await put(base + "/" + encodeURIComponent(name.value.trim()),
        { description: desc.value });
      say("Created " + got.name + ".");
      await robotsSection(ctx, org, box, got);
    });
  });
  replace(box, h("h2", null, "Robot accounts"), tokenBox,
    table({ text: "Robot accounts of " + ns }, ["Robot", "Description", "Created", "Actions"],
      rows, { class: "robots" }), form);
  if (justMade) showToken(justMade);
}

async function robotPermissions(ctx, base, r) {
  const short = r.name.slice(r.name.indexOf("+") + 1);
  const data = await get(base + "/" + encodeURIComponent(short) + "/permissions");
  await formDialog("Permissions of " + r.name, (form) => {
    const rows = (data.permissions || []).map((p) => h("tr", null,
      h("td", null, link("/repository/" + repoPath(p.repository.namespace + "/" + p.repository.name),
        p.repository.namespace + "/" + p.repository.name)), h("td", null, p.role)));
    form.append(table({ text: "Repositories " + r.name + " may use" }, ["Repository", "Role"], rows),
      h("p", { class: "muted" }, "Grant more in a repository's Settings tab."));
    return () => true;
  }, "Close");
}

async function defaultsTab(ctx) {
  const { org, body } = ctx;
  const base = "organization/" + encodeURIComponent(org) + "/prototypes";
  const data = await get(base);
  if (!ctx.live()) return;
  const rows = (data.prototypes || []).map((p) => h("tr", null,
    h("td", null, p.activating_user ? p.activating_user.name : "anyone"),
    h("td", null, (p.delegate.kind === "team" ? "team " : "") + p.delegate.name),
    h("td", null, prototypeRole(ctx, base, p)),
    h("td", null, button("Delete", (e) => busy(e.target, async () => {
      await del(base + "/" + encodeURIComponent(p.id));
      say("Deleted the default permission.");
      reloadHere(ctx);
    }), { class: "danger", "aria-label": "Delete the default permission for " + p.delegate.name }))));
  const creator = input({ name: "creator", placeholder: "anyone" });
  const kind = select({ name: "kind" }, [["user", "User or robot"], ["team", "Team"]], "team");
  const who = input({ name: "delegate", required: true });
  const role = select({ name: "role" }, REPO_ROLES, "read");
  const form = h("form", { class: "toolbar" }, field("When created by", creator,
    "Empty: any creator."), field("Grant to", kind), field("Name", who), field("Role", role),
  h("button", { type: "submit" }, "Add default permission"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const bodyJson = { role: role.value, delegate: { kind: kind.value, name: who.value.trim() } };
    if (creator.value.trim()) bodyJson.activating_user = { name: creator.value.trim() };
    await busy(e.submitter, async () => {
      await post(base, bodyJson);
      say("Added a default permission.");
      reloadHere(ctx);
    });
  });
  replace(body, h("p", { class: "muted" }, "Granted on every new repository of " + org + "."),
    table({ text: "Default permissions" }, ["Creator", "Granted to", "Role", ""], rows), form);
}

function prototypeRole(ctx, base, p) {
  const role = select({ "aria-label": "Role granted to " + p.delegate.name }, REPO_ROLES, p.role);
  role.addEventListener("change", () => busy(role, async () => {
    await put(base + "/" + encodeURIComponent(p.id), { role: role.value });
    say("The default permission now grants " + role.value + ".");
  }));
  return role;
}

async function appsTab(ctx) {
  const { org, body } = ctx;
  const base = "organization/" + encodeURIComponent(org) + "/applications";
  const data = await get(base);
  if (!ctx.live()) return;
  const rows = (data.applications || []).map((a) => h("tr", null,
    h("th", { scope: "row" }, a.name),
    h("td", null, h("code", null, a.client_id)),
    h("td", null, a.redirect_uri),
    h("td", { class: "actions-cell" },
      button("Show secret", (e) => busy(e.target, async () => {
        const got = await get(base + "/" + encodeURIComponent(a.client_id));
        await formDialog("Client secret of " + a.name, (form) => {
          form.append(copyable("Client ID", got.client_id),
            copyable("Client secret", got.client_secret, { secret: true }));
          return () => true;
        }, "Close");
      }), { "aria-label": "Show the client secret of " + a.name }),
      button("Reset secret", async (e) => {
        if (!(await confirmDialog("Reset the secret of " + a.name + "?",
          "The old secret stops working.", "Reset"))) return;
        await busy(e.target, async () => {
          await post(base + "/" + encodeURIComponent(a.client_id) + "/resetclientsecret");
          say("New secret issued for " + a.name + ".");
        });
      }, { "aria-label": "Reset the client secret of " + a.name }),
      button("Delete", async (e) => {
        if (!(await confirmDialog("Delete " + a.name + "?", "Its tokens stop working.",
          "Delete application"))) return;
        await busy(e.target, async () => {
          await del(base + "/" + encodeURIComponent(a.client_id));
          say("Deleted " + a.name + ".");
          reloadHere(ctx);
        });
      }, { class: "danger", "aria-label": "Delete " + a.name }))));
  const name = input({ name: "name", required: true });
  const redirect = input({ name: "redirect_uri", type: "url", required: true });
  const home = input({ name: "application_uri", type: "url" });
  const form = h("form", { class: "toolbar" }, field("Application name", name),
    field("Redirect URI", redirect), field("Home page", home),
    h("button", { type: "submit" }, "Register application"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    await busy(e.submitter, async () => {
      await post(base, { name: name.value.trim(), redirect_uri: redirect.value.trim(),
        application_uri: home.value.trim(), description: "" });
      say("Registered " + name.value.trim() + ".");
      reloadHere(ctx);
    });
  });
  replace(body, table({ text: "OAuth applications of " + org }, ["Name", "Client ID",
    "Redirect URI", "Actions"], rows, { class: "apps" }), form);
}
