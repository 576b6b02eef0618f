#!/usr/bin/env python3
"""OAuth end to end over real HTTP: quayd started here, a redirect URI served
by a listener on 127.0.0.1, the authorization-code and implicit grants, code
reuse and redirect mismatch refused, CSRF required, scopes capping the token.

Usage: oauth_flows.py QUAYD_BINARY   (exit 0 pass, 1 fail)
"""
import base64
import http.cookiejar
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.error
import urllib.parse
import urllib.request

QUAYD = sys.argv[1]
failures = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what, flush=True)
    if not cond:
        failures.append(what)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


class Callback(http.server.BaseHTTPRequestHandler):
    hits = []

    def do_GET(self):
        Callback.hits.append(self.path)
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def call(opener, method, url, body=None, headers=None, form=None):
    data = None
    headers = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with opener.open(req, timeout=10) as r:
            return r.status, dict(r.headers), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode()


def main():
    work = tempfile.mkdtemp(prefix="quayd-oauth-")
    server = None
    try:
        with open(os.path.join(work, "config.yaml"), "w") as f:
            f.write("FEATURE_USER_INITIALIZE: true\npassword_hash_cost: minimum\n")
        server = subprocess.Popen(
            [QUAYD, "serve", "--config", os.path.join(work, "config.yaml"), "--data-dir",
             os.path.join(work, "data"), "--listen", "127.0.0.1:0", "--no-fsync",
             "--gc-interval", "0"],
            stdout=subprocess.PIPE, stderr=open(os.path.join(work, "server.log"), "w"), text=True)
        line = server.stdout.readline()
        m = re.search(r"listening on 127\.0\.0\.1:(\d+)", line)
        if not m:
            print("FAIL quayd did not start: " + line)
            return 1
        base = "http://127.0.0.1:%s" % m.group(1)

        cb = http.server.HTTPServer(("127.0.0.1", 0), Callback)
        threading.Thread(target=cb.serve_forever, daemon=True).start()
        redirect = "http://127.0.0.1:%d/cb" % cb.server_address[1]

        plain = urllib.request.build_opener()
        st, _, body = call(plain, "POST", base + "/api/v1/user/initialize",
                           {"username": "alice", "password": "alice-password",
                            "email": "alice@example.com", "access_token": True})
        check(st == 200, "initialize the first user")
        admin = {"Authorization": "Bearer " + json.loads(body)["access_token"]}
        st, _, _ = call(plain, "POST", base + "/api/v1/organization/",
                        {"name": "acme", "email": "o@example.com"}, admin)
        check(st == 201, "create organization")
        st, _, body = call(plain, "POST", base + "/api/v1/organization/acme/applications",
                           {"name": "ci-bot", "redirect_uri": redirect,
                            "application_uri": "http://127.0.0.1/"}, admin)
        check(st == 200, "register an application")
        app = json.loads(body)
        client_id, secret = app["client_id"], app["client_secret"]
        check(len(client_id) >= 20 and len(secret) >= 40, "client id and secret issued")

        # A browser: cookie jar, redirects followed except where we read Location.
        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        no_follow = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
        st, headers, _ = call(browser, "POST", base + "/api/v1/signin",
                              {"username": "alice", "password": "alice-password"})
        check(st == 200 and any(c.name == "quay_session" for c in jar), "sign in sets the session")

        q = urllib.parse.urlencode({"response_type": "code", "client_id": client_id,
                                    "redirect_uri": redirect, "scope": "repo:read user:read",
                                    "state": "s-123"})
        st, _, page = call(browser, "GET", base + "/oauth/authorize?" + q)
        check(st == 200 and "Authorize ci-bot" in page, "consent page shown on first authorize")
        fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page))
        check("_csrf_token" in fields, "consent form carries the CSRF token")

        no_csrf = {k: v for k, v in fields.items() if k != "_csrf_token"}
        st, _, _ = call(no_follow, "POST", base + "/oauth/authorizeapp", form=no_csrf)
        check(st == 403, "authorizeapp without the CSRF token is refused (%d)" % st)

        Callback.hits.clear()
        st, _, _ = call(browser, "POST", base + "/oauth/authorizeapp", form=fields)
        check(st == 200 and len(Callback.hits) == 1, "approval redirects to the client")
        got = urllib.parse.parse_qs(urllib.parse.urlparse(Callback.hits[0]).query) if Callback.hits else {}
        code = got.get("code", [""])[0]
        check(bool(code) and got.get("state") == ["s-123"], "code delivered and state echoed")

        def exchange(code, redirect_uri=redirect, sec=secret, basic=False):
            form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
            headers = {}
            if basic:
                headers["Authorization"] = "Basic " + base64.b64encode(
                    ("%s:%s" % (client_id, sec)).encode()).decode()
            else:
                form.update({"client_id": client_id, "client_secret": sec})
            return call(plain, "POST", base + "/oauth/access_token", form=form, headers=headers)

        st, _, body = exchange(code)
        check(st == 200, "code exchanged for a token")
        token = json.loads(body).get("access_token", "") if st == 200 else ""
        check(json.loads(body).get("token_type") == "Bearer" if st == 200 else False, "token_type Bearer")
        st, _, body = exchange(code)
        check(st == 400 and json.loads(body).get("error") == "invalid_grant", "code reuse refused")

        bearer = {"Authorization": "Bearer " + token}
        st, _, body = call(plain, "GET", base + "/api/v1/user/", headers=bearer)
        check(st == 200 and json.loads(body).get("username") == "alice", "token reads the user")
        st, _, _ = call(plain, "POST", base + "/api/v1/repository",
                        {"namespace": "alice", "repository": "x", "visibility": "private",
                         "description": ""}, bearer)
        check(st == 403, "scopes cap the token: repo:read cannot create (%d)" % st)
        st, _, _ = call(plain, "POST", base + "/api/v1/organization/acme/applications",
                        {"name": "other"}, bearer)
        check(st == 403, "scopes cap the token: no org:admin (%d)" % st)

        # Already granted: straight through, no consent page.
        Callback.hits.clear()
        st, _, _ = call(browser, "GET", base + "/oauth/authorize?" + q)
        check(st == 200 and len(Callback.hits) == 1, "granted scopes skip the consent page")
        code2 = urllib.parse.parse_qs(urllib.parse.urlparse(Callback.hits[0]).query).get("code", [""])[0] if Callback.hits else ""
        st, _, body = exchange(code2, redirect_uri=redirect + "/elsewhere")
        check(st == 400 and json.loads(body).get("error") == "invalid_grant",
              "exchange with another redirect_uri refused")
        st, _, body = exchange(code2, sec="wrong-secret")
        check(st == 401 and json.loads(body).get("error") == "invalid_client", "wrong secret refused")
        # A refused exchange (wrong redirect URI) used the code up: a new one.
        Callback.hits.clear()
        call(browser, "GET", base + "/oauth/authorize?" + q)
        code3 = urllib.parse.parse_qs(urllib.parse.urlparse(Callback.hits[0]).query).get("code", [""])[0] if Callback.hits else ""
        st, _, _ = exchange(code3, basic=True)
        check(st == 200, "client credentials in Basic accepted")

        # Implicit grant: the token comes back in the fragment.
        qi = urllib.parse.urlencode({"response_type": "token", "client_id": client_id,
                                     "redirect_uri": redirect, "scope": "repo:read",
                                     "state": "imp"})
        st, headers, _ = call(no_follow, "GET", base + "/oauth/authorize?" + qi)
        loc = headers.get("Location", "")
        frag = urllib.parse.parse_qs(urllib.parse.urlparse(loc).fragment)
        check(st == 302 and loc.startswith(redirect + "#") and frag.get("access_token")
              and frag.get("state") == ["imp"], "implicit grant redirects with a token fragment")
        if frag.get("access_token"):
            st, _, _ = call(plain, "GET", base + "/api/v1/user/",
                            headers={"Authorization": "Bearer " + frag["access_token"][0]})
            check(st == 403, "implicit token without user:read cannot read the user (%d)" % st)

        # Redirect mismatch: shown here, never redirected.
        qm = urllib.parse.urlencode({"response_type": "code", "client_id": client_id,
                                     "redirect_uri": "http://127.0.0.1:1/evil", "scope": "repo:read"})
        st, headers, _ = call(no_follow, "GET", base + "/oauth/authorize?" + qm)
        check(st == 400 and "Location" not in headers, "redirect mismatch refused without redirect")

        # Deny: back to the client with error=access_denied.
        q3 = urllib.parse.urlencode({"response_type": "code", "client_id": client_id,
                                     "redirect_uri": redirect, "scope": "repo:admin",
                                     "state": "d"})
        st, _, page = call(browser, "GET", base + "/oauth/authorize?" + q3)
        fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', page))
        st, headers, _ = call(no_follow, "POST", base + "/oauth/denyapp", form=fields)
        check(st == 302 and "error=access_denied" in headers.get("Location", "")
              and "state=d" in headers.get("Location", ""), "deny redirects with access_denied")

        # Anonymous authorize: no redirect, a sign-in message.
        st, headers, _ = call(urllib.request.build_opener(NoRedirect), "GET", base + "/oauth/authorize?" + q)
        check(st == 401 and "Location" not in headers, "authorize needs a session")

        # The token logs in on /v2 as $oauthtoken.
        auth = base64.b64encode(("$oauthtoken:" + token).encode()).decode()
        st, _, body = call(plain, "GET", base + "/v2/auth?service=127.0.0.1&scope=repository:alice/x:pull",
                           headers={"Authorization": "Basic " + auth})
        check(st == 200 and "token" in json.loads(body), "OAuth token logs in on /v2/auth as $oauthtoken")

        # Authorized applications: listed, then revoked (the token stops working).
        st, _, body = call(plain, "GET", base + "/api/v1/user/authorizations", headers=admin)
        auths = json.loads(body).get("authorizations", []) if st == 200 else []
        check(any(a["application"]["clientId"] == client_id for a in auths), "authorization listed")
        st, _, _ = call(plain, "DELETE", base + "/api/v1/user/authorizations/" + client_id, headers=admin)
        check(st == 204, "authorization revoked")
        st, _, _ = call(plain, "GET", base + "/api/v1/user/", headers=bearer)
        check(st == 401, "revoked token refused (%d)" % st)
    finally:
        if server:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        if failures and os.environ.get("E2E_KEEP"):
            print("kept " + work)
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
