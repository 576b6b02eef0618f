// The signed-in user's settings: password and e-mail, a new organization, app-specific tokens
// (the secret shown once), authorized OAuth applications, own robots.
import { get, post, put, del, forgetUser } from "./api.js";
import { h, replace, field, input, table, tabs, button, busy, say, confirmDialog, formDialog,
  copyable, alertBox } from "./dom.js";
import { when } from "./format.js";
import { robotsSection } from "./page_org.js";

// Runs fn; when the API wants a fresh login (a session older than
// FRESH_LOGIN_TIMEOUT), asks for the password, verifies it, and retries once.
export async function withFreshLogin(fn) {
  try {
    return await fn();
  } catch (e) {
    if (!(e.status === 401 && e.type === "fresh_login_required")) throw e;
    const password = await formDialog("Confirm your password", (form) => {
      const p = input({ type: "password", name: "password", autocomplete: "current-password",
        required: true });
      form.append(h("p", null, "This action needs a recent sign-in."), field("Password", p));
      return () => p.value;
    }, "Confirm");
    if (!password) throw new Error("Cancelled.");
    await post("signin/verify", { password });
    return await fn();
  }
}

export async function settingsPage(ctx) {
  if (ctx.me.anonymous) {
    ctx.navigate("/signin?next=/settings", { replaceState: true });
    return;
  }
  document.title = "Settings · quayd";
  const tab = ctx.query.get("tab") || "account";
  const body = h("section", { class: "tab-body" });
  replace(ctx.main, h("h1", null, "Settings of " + ctx.me.username),
    tabs("Settings", [["account", "Account", "/settings"],
      ["tokens", "App tokens", "/settings?tab=tokens"],
      ["apps", "Authorized applications", "/settings?tab=apps"],
      ["robots", "Robot accounts", "/settings?tab=robots"]], tab), body);
  if (tab === "tokens") return tokensTab(ctx, body);
  if (tab === "apps") return authorizedTab(ctx, body);
  if (tab === "robots") return robotsSection(ctx, null, body);
  return accountTab(ctx, body);
}

function accountTab(ctx, body) {
  const alert = alertBox();
  const pw = input({ type: "password", name: "password", autocomplete: "new-password",
    required: true, minlength: 8 });
  const pw2 = input({ type: "password", name: "password2", autocomplete: "new-password",
    required: true, minlength: 8 });
  const form = h("form", { class: "card narrow" }, h("h2", null, "Change password"),
    field("New password", pw), field("New password again", pw2),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Change password")));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    alert.show("");
    if (pw.value !== pw2.value) { alert.show("The two passwords differ."); return; }
    await busy(e.submitter, async () => {
      await withFreshLogin(() => put("user/", { password: pw.value }));
      form.reset();
      say("Password changed.");
    });
  });
  const email = input({ type: "email", name: "email", value: ctx.me.email || "", required: true });
  const emailForm = h("form", { class: "card narrow" }, h("h2", null, "E-mail"),
    field("E-mail address", email),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Save e-mail")));
  emailForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    await busy(e.submitter, async () => {
      await withFreshLogin(() => put("user/", { email: email.value.trim() }));
      say("E-mail saved.");
    });
  });
  const orgName = input({ name: "org", required: true, pattern: "[a-z0-9][a-z0-9_.\\-]+" });
  const orgEmail = input({ name: "org_email", type: "email" });
  const orgForm = h("form", { class: "card narrow" }, h("h2", null, "Create an organization"),
    field("Organization name", orgName), field("Organization e-mail", orgEmail),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Create organization")));
  orgForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    await busy(e.submitter, async () => {
      const name = orgName.value.trim();
      await post("organization/", { name, email: orgEmail.value.trim() || undefined });
      forgetUser();
      ctx.navigate("/organization/" + encodeURIComponent(name));
    });
  });
  replace(body, alert, form, emailForm, orgForm);
}

async function tokensTab(ctx, body) {
  const data = await withFreshLogin(() => get("user/apptoken"));
  if (!ctx.live()) return;
  const shown = h("div", { "aria-live": "polite" });
  const rows = (data.tokens || []).map((t) => h("tr", null,
    h("th", { scope: "row" }, t.title), h("td", null, when(t.created)),
    h("td", null, when(t.last_accessed)), h("td", null, t.expiration ? when(t.expiration) : "never"),
    h("td", null, button("Revoke", async (e) => {
      if (!(await confirmDialog("Revoke " + t.title + "?", "Clients using it are refused at once.",
        "Revoke"))) return;
      await busy(e.target, async () => {
        await withFreshLogin(() => del("user/apptoken/" + encodeURIComponent(t.uuid)));
        say("Revoked " + t.title + ".");
        await tokensTab(ctx, body);
      });
    }, { class: "danger", "aria-label": "Revoke token " + t.title }))));
  const title = input({ name: "title", required: true });
  const form = h("form", { class: "toolbar" }, field("Token title", title),
    h("button", { type: "submit" }, "Create token"));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    await busy(e.submitter, async () => {
      const got = await withFreshLogin(() => post("user/apptoken", { title: title.value.trim() }));
      await tokensTab(ctx, body);
      body.prepend(h("div", { class: "card notice" }, h("h2", null, "Token " + got.token.title),
        h("p", null, "Copy it now; it is not shown again. Log in with your user name and this token."),
        copyable("App token", got.token.token_code, { secret: true })));
    });
  });
  replace(body, shown, table({ text: "App-specific tokens" }, ["Title", "Created", "Last used",
    "Expires", ""], rows, { class: "tokens" }), form);
}

async function authorizedTab(ctx, body) {
  const data = await get("user/authorizations");
  if (!ctx.live()) return;
  const rows = (data.authorizations || []).map((a) => h("tr", null,
    h("th", { scope: "row" }, a.application.name),
    h("td", null, a.application.organization ? a.application.organization.name : ""),
    h("td", null, a.scopes),
    h("td", null, button("Revoke", async (e) => {
      if (!(await confirmDialog("Revoke " + a.application.name + "?",
        "Its tokens stop working.", "Revoke"))) return;
      await busy(e.target, async () => {
        await del("user/authorizations/" + encodeURIComponent(a.uuid));
        say("Revoked " + a.application.name + ".");
        await authorizedTab(ctx, body);
      });
    }, { class: "danger", "aria-label": "Revoke " + a.application.name }))));
  replace(body, table({ text: "Applications you authorized" }, ["Application", "Organization",
    "Scopes", ""], rows, { class: "authorizations" }));
}
