// The permission editor of a repository's settings: users and robots, and
// teams of an organization's repository, each with read, write or admin.
import { get, put, del, repoPath } from "./api.js";
import { h, replace, field, input, select, table, button, busy, say, nextId } from "./dom.js";

const ROLES = [["read", "Read"], ["write", "Write"], ["admin", "Admin"]];

// A text input that suggests users, robots (and teams of `namespace` when
// asked) as the user types, from GET /api/v1/entities/{prefix} (a datalist:
// the browser's own keyboard-usable suggestions).
export function entityInput(attrs, namespace, { teams = false } = {}) {
  const list = h("datalist", { id: nextId("entities") });
  const el = input({ ...attrs, list: list.id, autocomplete: "off" });
  let timer = 0;
  let asked = "";
  el.addEventListener("input", () => {
    clearTimeout(timer);
    const prefix = el.value.trim();
    if (!prefix || prefix === asked) return;
    timer = setTimeout(async () => {
      asked = prefix;
      try {
        const got = await get("entities/" + encodeURIComponent(prefix), { namespace,
          includeTeams: teams, includeOrgs: false });
        replace(list, (got.results || []).map((r) => h("option", { value: r.name },
          r.kind)));
      } catch {
        // Suggestions are a convenience; typing the name still works.
      }
    }, 150);
  });
  el.entityList = list;
  return el;
}

export async function permissionsEditor(ctx, box, repo, info) {
  const base = "repository/" + repoPath(repo) + "/permissions/";
  const [users, teams] = await Promise.all([get(base + "user/"),
    info.is_organization ? get(base + "team/") : Promise.resolve({ permissions: {} })]);
  if (!ctx.live()) return;
  const reload = () => permissionsEditor(ctx, box, repo, info);
  const row = (kind, p) => {
    const path = base + (kind === "team" ? "team/" : "user/") + encodeURIComponent(p.name);
    const role = select({ "aria-label": "Role of " + p.name }, ROLES, p.role);
    role.addEventListener("change", () => busy(role, async () => {
      await put(path, { role: role.value });
      say(p.name + " now has " + role.value + " on " + repo + ".");
    }));
    return h("tr", null, h("th", { scope: "row" }, p.name),
      h("td", null, kind === "team" ? "team" : p.is_robot ? "robot" : "user"),
      h("td", null, role),
      h("td", null, button("Remove", (e) => busy(e.target, async () => {
        await del(path);
        say("Removed " + p.name + "'s permission.");
        await reload();
      }), { class: "danger", "aria-label": "Remove the permission of " + p.name })));
  };
  const rows = [
    ...Object.values(users.permissions || {}).map((p) => row("user", p)),
    ...Object.values(teams.permissions || {}).map((p) => row("team", p)),
  ];
  const kinds = [["user", "User"], ["robot", "Robot"]];
  if (info.is_organization) kinds.push(["team", "Team"]);
  const kind = select({ name: "kind" }, kinds, "user");
  const name = entityInput({ name: "name", required: true }, info.namespace,
    { teams: !!info.is_organization });
  const role = select({ name: "role" }, ROLES, "read");
  const form = h("form", { class: "toolbar" }, field("Kind", kind),
    field("Name", name, "A user, a robot (" + info.namespace + "+name) or a team."),
    field("Role", role), h("button", { type: "submit" }, "Grant"), name.entityList);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    let who = name.value.trim();
    if (kind.value === "robot" && !who.includes("+")) who = info.namespace + "+" + who;
    await busy(e.submitter, async () => {
      await put(base + (kind.value === "team" ? "team/" : "user/") + encodeURIComponent(who),
        { role: role.value });
      say("Granted " + role.value + " to " + who + ".");
      await reload();
    });
  });
  replace(box, h("h2", null, "Permissions"),
    table({ text: "Who may use " + repo }, ["Name", "Kind", "Role", ""], rows, { class: "perms" }),
    form);
}
