// The superuser panel: users (create, disable, delete, reset password),
// organizations, registry-wide logs and size.
import { get, post, put, del } from "./api.js";
import { h, replace, field, input, select, table, tabs, button, busy, say, confirmDialog,
  formDialog, copyable, link } from "./dom.js";
import { bytes } from "./format.js";
import { withFreshLogin } from "./page_user.js";
import { showMessages } from "./messages.js";
import { logsTab } from "./page_repo.js";

export async function superuserPage(ctx) {
  if (!(ctx.me.super_user || ctx.me.global_readonly_super_user)) {
    document.title = "Superuser · quayd";
    replace(ctx.main, h("h1", null, "Superuser panel"),
      h("p", null, "Only superusers (SUPER_USERS in the configuration) may open this page."));
    return;
  }
  document.title = "Superuser · quayd";
  const tab = ctx.query.get("tab") || "users";
  const body = h("section", { class: "tab-body" });
  replace(ctx.main, h("h1", null, "Superuser panel"),
    tabs("Superuser", [["users", "Users", "/superuser"],
      ["orgs", "Organizations", "/superuser?tab=orgs"],
      ["messages", "Messages", "/superuser?tab=messages"],
      ["logs", "Registry logs", "/superuser?tab=logs"]], tab), body);
  const sctx = { ...ctx, body };
  if (tab === "orgs") return withFreshLogin(() => orgsTab(sctx));
  if (tab === "messages") return messagesTab(sctx);
  if (tab === "logs") return withFreshLogin(() => logsTab(sctx, "superuser"));
  return withFreshLogin(() => usersTab(sctx));
}

const reloadHere = (ctx) => ctx.navigate(location.pathname + location.search, { replaceState: true });

async function usersTab(ctx) {
  const next = ctx.query.get("next") || "";
  const [data, size] = await Promise.all([get("superuser/users/", { next_page: next }),
    get("superuser/registrysize/").catch(() => null)]);
  if (!ctx.live()) return;
  const base = (u) => "superuser/users/" + encodeURIComponent(u.username);
  const rows = (data.users || []).map((u) => h("tr", null,
    h("th", { scope: "row" }, u.username), h("td", null, u.email),
    h("td", null, u.enabled ? "enabled" : h("span", { class: "badge private" }, "disabled")),
    h("td", null, u.super_user ? "superuser" : ""),
    h("td", { class: "actions-cell" },
      button(u.enabled ? "Disable" : "Enable", (e) => busy(e.target, async () => {
        await put(base(u), { enabled: !u.enabled });
        say((u.enabled ? "Disabled " : "Enabled ") + u.username + ".");
        reloadHere(ctx);
      }), { "aria-label": (u.enabled ? "Disable " : "Enable ") + u.username }),
      button("Reset password", async (e) => {
        const pw = await formDialog("New password for " + u.username, (form) => {
          const p = input({ type: "password", name: "password", required: true, minlength: 8,
            autocomplete: "new-password" });
          form.append(field("New password", p));
          return () => p.value;
        }, "Set password");
        if (!pw) return;
        await busy(e.target, async () => {
          await put(base(u), { password: pw });
          say("Password of " + u.username + " changed.");
        });
      }, { "aria-label": "Reset the password of " + u.username }),
      button("Delete", async (e) => {
        if (!(await confirmDialog("Delete " + u.username + "?",
          "Deletes the user and its repositories.", "Delete user"))) return;
        await busy(e.target, async () => {
          await del(base(u));
          say("Deleted " + u.username + ".");
          reloadHere(ctx);
        });
      }, { class: "danger", "aria-label": "Delete " + u.username }))));
  const name = input({ name: "username", required: true });
  const email = input({ name: "email", type: "email", required: true });
  const created = h("div", { "aria-live": "polite" });
  const form = h("form", { class: "toolbar" }, field("New user", name), field("E-mail", email),
    h("button", { type: "submit" }, "Create user"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    await busy(e.submitter, async () => {
      const got = await post("superuser/users/", { username: name.value.trim(),
        email: email.value.trim() });
      replace(created, h("div", { class: "card notice" },
        h("h2", null, "Created " + got.username),
        h("p", null, "Its first password (shown once):"),
        copyable("Password", got.password, { secret: true })));
      form.reset();
    });
  });
  const pager = h("nav", { class: "pager", "aria-label": "User pages" },
    next ? link("/superuser", "First page") : null,
    data.next_page ? link("/superuser?next=" + encodeURIComponent(data.next_page), "Next page") : null);
  replace(ctx.body, size ? h("p", null, "Registry size: " + bytes(size.size_bytes)) : null,
    created, table({ text: "Users" }, ["User", "E-mail", "State", "Role", "Actions"], rows,
      { class: "users" }), pager, form);
}

async function orgsTab(ctx) {
  const data = await get("superuser/organizations/");
  if (!ctx.live()) return;
  const rows = (data.organizations || []).map((o) => h("tr", null,
    h("th", { scope: "row" }, link("/organization/" + encodeURIComponent(o.name), o.name)),
    h("td", null, o.email || ""),
    h("td", null, button("Delete", async (e) => {
      if (!(await confirmDialog("Delete organization " + o.name + "?",
        "Deletes its repositories, teams and robots.", "Delete organization"))) return;
      await busy(e.target, async () => {
        await del("superuser/organizations/" + encodeURIComponent(o.name));
        say("Deleted " + o.name + ".");
        reloadHere(ctx);
      });
    }, { class: "danger", "aria-label": "Delete organization " + o.name }))));
  replace(ctx.body, table({ text: "Organizations" }, ["Organization", "E-mail", ""], rows));
}

async function messagesTab(ctx) {
  const data = await get("messages");
  if (!ctx.live()) return;
  const rows = (data.messages || []).map((m) => h("tr", null,
    h("td", null, m.severity), h("td", null, m.content),
    h("td", null, button("Delete", (e) => busy(e.target, async () => {
      await withFreshLogin(() => del("message/" + encodeURIComponent(m.uuid)));
      say("Deleted the message.");
      await showMessages();
      reloadHere(ctx);
    }), { class: "danger", "aria-label": "Delete the message " + m.content.slice(0, 40) }))));
  const content = h("textarea", { name: "content", rows: 2, required: true });
  const severity = select({ name: "severity" },
    [["info", "Information"], ["warning", "Warning"], ["error", "Error"]], "info");
  const form = h("form", { class: "card" }, h("h2", null, "New message"),
    field("Message", content, "Shown as plain text above every page, to everyone."),
    field("Severity", severity),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Post message")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    await busy(e.submitter, async () => {
      await withFreshLogin(() => post("messages", { message: { content: content.value.trim(),
        severity: severity.value, media_type: "text/plain" } }));
      say("Posted the message.");
      await showMessages();
      reloadHere(ctx);
    });
  });
  replace(ctx.body, table({ text: "Global messages" }, ["Severity", "Message", ""], rows,
    { class: "messages-list" }), form);
}
