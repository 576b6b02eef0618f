// The UI's entry point: a client-side router over the History API. quayd
// answers every UI path with index.html; this module picks the page, which
// renders into <main> from /api/v1 calls.
import { currentUser, forgetUser, post, resetCsrf } from "./api.js";
import { showMessages } from "./messages.js";
import { h, replace, button, link, sayError } from "./dom.js";
import { signinPage, signupPage, setupPage } from "./page_signin.js";
import { repoListPage, namespacePage, createRepoPage } from "./page_repos.js";
import { repoPage } from "./page_repo.js";
import { orgPage, teamPage } from "./page_org.js";
import { settingsPage } from "./page_user.js";
import { superuserPage } from "./page_superuser.js";

const routes = [
  [/^\/$/, repoListPage],
  [/^\/signin$/, signinPage],
  [/^\/signup$/, signupPage],
  [/^\/setup$/, setupPage],
  [/^\/new$/, createRepoPage],
  [/^\/repository\/(.+?)\/?$/, repoPage],
  [/^\/organization\/([^/]+)\/teams\/([^/]+)$/, teamPage],
  [/^\/organization\/([^/]+)\/?$/, orgPage],
  [/^\/user\/([^/]+)\/?$/, namespacePage],
  [/^\/settings$/, settingsPage],
  [/^\/superuser$/, superuserPage],
];

let generation = 0;

export function navigate(url, { replaceState = false } = {}) {
  if (replaceState) history.replaceState(null, "", url);
  else history.pushState(null, "", url);
  render(true);
}

function renderNav(me) {
  const nav = document.getElementById("nav");
  if (me.anonymous) {
    replace(nav, h("ul", null,
      h("li", null, link("/", "Explore")),
      h("li", null, link("/signin", "Sign in")),
      h("li", null, link("/signup", "Create account"))));
    return;
  }
  const signout = button("Sign out", async () => {
    try {
      await post("signout");
    } catch (e) {
      sayError(e);
    }
    resetCsrf();
    forgetUser();
    navigate("/signin");
  }, { class: "link" });
  replace(nav, h("ul", null,
    h("li", null, link("/", "Repositories")),
    h("li", null, link("/new", "New repository")),
    (me.organizations || []).length ? h("li", null,
      h("details", { class: "menu" }, h("summary", null, "Organizations"),
        h("ul", null, me.organizations.map((o) =>
          h("li", null, link("/organization/" + encodeURIComponent(o.name), o.name)))))) : null,
    me.super_user || me.global_readonly_super_user
      ? h("li", null, link("/superuser", "Superuser")) : null,
    h("li", null, link("/settings", me.username)),
    h("li", null, signout)));
}

async function render(moved) {
  const mine = ++generation;
  document.body.dataset.ready = "";
  const main = document.getElementById("main");
  const path = decodeURI(location.pathname);
  let me;
  try {
    me = await currentUser();
  } catch (e) {
    me = { anonymous: true };
    sayError(e);
  }
  if (mine !== generation) return;
  renderNav(me);
  const ctx = {
    main,
    me,
    query: new URLSearchParams(location.search),
    live: () => mine === generation,
    navigate,
    params: [],
  };
  let page = null;
  for (const [re, fn] of routes) {
    const m = re.exec(path);
    if (m) {
      page = fn;
      ctx.params = m.slice(1);
      break;
    }
  }
  const started = performance.now();
  try {
    if (!page) {
      document.title = "Not found · quayd";
      replace(main, h("h1", null, "Page not found"), h("p", null, link("/", "Back to the start")));
    } else {
      await page(ctx);
    }
  } catch (e) {
    if (mine !== generation) return;
    // Not signed in, or the session ended (expired, account disabled): sign
    // in again and come back. A stale session's fresh-login refusal is not that.
    let signedOut = false;
    if (e && e.status === 401 && e.type !== "fresh_login_required") {
      if (!me.anonymous) {
        forgetUser();
        me = await currentUser().catch(() => me);
        if (mine !== generation) return;
      }
      signedOut = !!me.anonymous;
    }
    if (signedOut) {
      resetCsrf();
      navigate("/signin?next=" + encodeURIComponent(location.pathname + location.search),
        { replaceState: true });
      return;
    }
    document.title = "Error · quayd";
    // Denied and missing read alike: the page does not tell which.
    const hidden = e && (e.status === 403 || e.status === 404);
    replace(main, h("h1", null, hidden ? "Not found" : "Something went wrong"),
      h("p", { role: "alert" }, hidden
        ? "There is nothing here, or your account may not see it."
        : e && e.message ? e.message : String(e)),
      h("p", null, link("/", "Back to the start")));
  }
  if (mine !== generation) return;
  // For tests and the benchmark: the page is rendered and usable.
  document.body.dataset.ready = path;
  document.body.dataset.readyAt = String(Math.round(performance.now()));
  document.body.dataset.renderMs = String(Math.round(performance.now() - started));
  if (moved) {
    const h1 = main.querySelector("h1");
    if (h1) { h1.tabIndex = -1; h1.focus(); } else main.focus();
  }
}

document.addEventListener("click", (e) => {
  const a = e.target.closest("a[data-nav]");
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey ||
      e.altKey || a.target) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin) return;
  e.preventDefault();
  navigate(url.pathname + url.search + url.hash);
});
window.addEventListener("popstate", () => render(true));

showMessages();
render(false);
