// Sign in, create an account, and the first-user setup of an empty registry.
import { api, forgetUser, post, resetCsrf } from "./api.js";
import { h, replace, field, input, alertBox, link } from "./dom.js";

function safeNext(ctx) {
  const next = ctx.query.get("next") || "/";
  // Only paths of this site: never "//host", "/\\host" or a scheme.
  return next.startsWith("/") && !next.startsWith("//") && !next.includes("\\") ? next : "/";
}

// Goes on to `next`: a UI page through the router, anything else of this
// site (the OAuth consent page) as a full page load.
function goNext(ctx) {
  const next = safeNext(ctx);
  if (next.startsWith("/oauth/")) location.assign(next);
  else ctx.navigate(next, { replaceState: true });
}

function authForm(ctx, { title, intro, submit, fields, onSubmit, footer }) {
  document.title = title + " · quayd";
  const alert = alertBox();
  const form = h("form", { class: "card narrow", novalidate: false }, fields,
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary" }, submit)));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const btn = form.querySelector("button[type=submit]");
    btn.disabled = true;
    alert.show("");
    try {
      await onSubmit(new FormData(form));
    } catch (err) {
      alert.show(err.message);
    } finally {
      btn.disabled = false;
    }
  });
  replace(ctx.main, h("h1", null, title), intro ? h("p", null, intro) : null, alert, form, footer);
  const first = form.querySelector("input");
  if (first) first.focus();
}

export async function signinPage(ctx) {
  if (!ctx.me.anonymous) {
    goNext(ctx);
    return;
  }
  authForm(ctx, {
    title: "Sign in",
    submit: "Sign in",
    fields: [
      field("Username", input({ name: "username", autocomplete: "username", required: true })),
      field("Password", input({ name: "password", type: "password",
        autocomplete: "current-password", required: true })),
    ],
    onSubmit: async (fd) => {
      await post("signin", { username: fd.get("username"), password: fd.get("password") });
      forgetUser();
      goNext(ctx);
    },
    footer: h("p", null, "No account? ", link("/signup", "Create one"),
      ". A new registry? ", link("/setup", "Set up the first user"), "."),
  });
}

function accountFields() {
  return [
    field("Username", input({ name: "username", autocomplete: "username", required: true,
      pattern: "[a-z0-9_][a-z0-9_.\\-]*", minlength: 2 }),
      "Lower-case letters, digits, '.', '_' and '-'."),
    field("E-mail", input({ name: "email", type: "email", autocomplete: "email", required: true })),
    field("Password", input({ name: "password", type: "password", autocomplete: "new-password",
      required: true, minlength: 8 }), "At least 8 characters."),
  ];
}

export async function signupPage(ctx) {
  authForm(ctx, {
    title: "Create account",
    submit: "Create account",
    fields: accountFields(),
    onSubmit: async (fd) => {
      try {
        await api("POST", "user/", { username: fd.get("username"), email: fd.get("email"),
          password: fd.get("password") });
      } catch (e) {
        if (e.status === 404) throw new Error("Creating accounts is turned off on this registry (FEATURE_USER_CREATION).");
        throw e;
      }
      forgetUser();
      ctx.navigate("/", { replaceState: true });
    },
    footer: h("p", null, "Already registered? ", link("/signin", "Sign in"), "."),
  });
}

export async function setupPage(ctx) {
  authForm(ctx, {
    title: "Set up this registry",
    intro: "Create the first user of an empty registry. This works only while the registry " +
      "has no users and FEATURE_USER_INITIALIZE is on.",
    submit: "Create the first user",
    fields: accountFields(),
    onSubmit: async (fd) => {
      const user = { username: fd.get("username"), email: fd.get("email"),
        password: fd.get("password") };
      try {
        await post("user/initialize", { ...user, access_token: false });
      } catch (e) {
        if (e.status === 404) throw new Error("First-user setup is off on this registry, or it already has users.");
        throw e;
      }
      resetCsrf();
      await post("signin", { username: user.username, password: user.password });
      forgetUser();
      ctx.navigate("/", { replaceState: true });
    },
  });
}
