#!/usr/bin/python3
"""The web UI's speed on a big registry, in headless Chromium (issue 12).

Starts a quayd of its own on a fresh data folder, adds the user "bench"
(quayd CLI), pushes one image with skopeo to bench/app and bench/tags, stops
quayd and seeds with SQLite, one transaction each (as bench/rest.sh does):
  UI_REPOS  repositories bench/r-00000... (default 10000)
  UI_TAGS   live tags in bench/tags (default 100000), all on its manifest
then serves the folder again, signs in through the UI, and measures, UI_RUNS
times each (default 7), the time from navigation to "interactive" (the
router's data-ready mark: the page's API calls answered and its DOM built):
  ui_repo_list_click   a click on "Repositories" (client-side navigation) -> /
  ui_tag_page_click    a click on the bench/tags link of the list -> its tag page
  ui_repo_list_next_click, ui_tag_page_next_click
                       "Next page" on each (the API's sealed cursor; tag page 2)
  ui_repo_list_load    a full load of / (navigationStart -> ready)
  ui_tag_page_load     a full load of /repository/bench/tags
It prints one line per case (min, median, max ms) and exits 1 when a median
is over UI_BUDGET_MS (default 300).

  bench/ui.py path/to/quayd
"""
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

HERE = os.path.dirname(os.path.abspath(__file__))
QUAYD = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else sys.exit(__doc__)
N_REPOS = int(os.environ.get("UI_REPOS", "10000"))
N_TAGS = int(os.environ.get("UI_TAGS", "100000"))
RUNS = int(os.environ.get("UI_RUNS", "7"))
BUDGET = float(os.environ.get("UI_BUDGET_MS", "300"))
PASSWORD = "bench-" + os.urandom(8).hex()


def log(msg):
    print("[ui-bench %s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def serve(work, data):
    p = subprocess.Popen([QUAYD, "serve", "--config", os.path.join(work, "config.yaml"),
                          "--data-dir", data, "--listen", "127.0.0.1:0", "--no-fsync",
                          "--gc-interval", "0", "--log-level", "warn"],
                         stdout=subprocess.PIPE, stderr=open(os.path.join(work, "server.log"), "a"),
                         text=True)
    m = re.search(r"listening on (127\.0\.0\.1:\d+)", p.stdout.readline())
    if not m:
        sys.exit("quayd did not start")
    return p, m.group(1)


def stop(p):
    p.terminate()
    p.wait(30)


def main():
    work = tempfile.mkdtemp(prefix="quay-ui-bench-", dir=os.environ.get("BENCH_TMP"))
    data = os.path.join(work, "data")
    try:
        with open(os.path.join(work, "config.yaml"), "w") as f:
            f.write("password_hash_cost: minimum\n")
        subprocess.run([QUAYD, "user", "add", "bench", "--data-dir", data, "--email",
                        "bench@example.com"], input=PASSWORD + "\n", text=True, check=True,
                       capture_output=True)
        images = os.path.join(work, "images")
        subprocess.run([sys.executable, os.path.join(HERE, "..", "tests", "e2e", "make_images.py"),
                        images], check=True, capture_output=True)
        server, reg = serve(work, data)
        with open(os.path.join(work, "policy.json"), "w") as f:
            f.write('{"default": [{"type": "insecureAcceptAnything"}]}')
        for repo in ("bench/app", "bench/tags"):
            subprocess.run(["skopeo", "--policy", os.path.join(work, "policy.json"), "copy",
                            "--dest-tls-verify=false", "--dest-creds", "bench:" + PASSWORD,
                            "oci:" + images + "/image:latest", "docker://%s/%s:seed" % (reg, repo)],
                           check=True, capture_output=True)
        stop(server)

        now_us = int(time.time()) * 1000000
        db = sqlite3.connect(os.path.join(data, "quay.db"))
        t0 = time.time()
        db.executescript("""
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < %d)
INSERT INTO tag(repository_id, name, manifest_id, start_at, end_at)
  SELECT t.repository_id, printf('t%%06d', i), t.manifest_id, %d - i, NULL
  FROM n, (SELECT tag.repository_id, tag.manifest_id FROM tag JOIN repository r ON r.id = tag.repository_id
           WHERE r.name = 'bench/tags' AND tag.name = 'seed' AND tag.end_at IS NULL) t;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < %d)
INSERT INTO repository(name, created_at) SELECT printf('bench/r-%%05d', i), %d FROM n;
INSERT INTO repository_settings(repository_id, visibility, description)
  SELECT id, 'private', 'seeded' FROM repository WHERE name LIKE 'bench/r-%%';
COMMIT;
""" % (N_TAGS, now_us, N_REPOS, now_us))
        db.close()
        log("seeded %d tags and %d repositories in %.1f s" % (N_TAGS, N_REPOS, time.time() - t0))

        server, reg = serve(work, data)
        base = "http://" + reg
        opts = webdriver.ChromeOptions()
        opts.binary_location = "/usr/bin/chromium"
        for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                  "--window-size=1280,900", "--user-data-dir=" + os.path.join(work, "chrome")):
            opts.add_argument(a)
        d = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
        try:
            def ready(path):
                WebDriverWait(d, 30, poll_frequency=0.02).until(lambda d: d.execute_script(
                    "return document.body && document.body.dataset.ready") == path)

            d.get(base + "/signin")
            ready("/signin")
            d.find_element(By.CSS_SELECTOR, "input[name=username]").send_keys("bench")
            d.find_element(By.CSS_SELECTOR, "input[name=password]").send_keys(PASSWORD)
            d.find_element(By.CSS_SELECTOR, "main button[type=submit]").click()
            ready("/")
            rows = len(d.find_elements(By.CSS_SELECTOR, "table.repos tbody tr"))
            log("repository list shows %d rows (one page of the API)" % rows)

            # Client-side navigation: the click starts the clock; the page's
            # data-ready mark stops it (both read in the page, same clock).
            click_ms = """
const [selector, path, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
const el = document.querySelector(selector);
const t0 = performance.now();
el.click();
(function poll() {
  if (document.body.dataset.ready === path) done(performance.now() - t0);
  else setTimeout(poll, 2);
})();"""
            results = {}

            def run(name, fn):
                samples = [fn() for _ in range(RUNS)]
                results[name] = samples
                print("case=%s runs=%d min_ms=%.0f median_ms=%.0f max_ms=%.0f" % (
                    name, RUNS, min(samples), statistics.median(samples), max(samples)), flush=True)

            d.set_script_timeout(30)

            def repo_list_click():
                d.get(base + "/settings")
                ready("/settings")
                return d.execute_async_script(click_ms, "nav a[href='/']", "/")

            def tag_page_click():
                d.get(base + "/?q=tags")
                ready("/")
                return d.execute_async_script(click_ms, "table.repos a[href='/repository/bench/tags']",
                                              "/repository/bench/tags")

            def load(path):
                def f():
                    d.get(base + "/settings")
                    ready("/settings")
                    d.get(base + path)
                    ready(path)
                    # performance.now() counts from the navigation's start.
                    return float(d.execute_script("return document.body.dataset.readyAt"))
                return f

            def next_page(start, path):
                def f():
                    d.get(base + start)
                    ready(path)
                    first = d.find_elements(By.CSS_SELECTOR, "main tbody tr")[0].text
                    ms = d.execute_async_script(click_ms, "nav.pager a:last-child", path)
                    if d.find_elements(By.CSS_SELECTOR, "main tbody tr")[0].text == first:
                        sys.exit("Next page showed the same first row on " + start)
                    return ms
                return f

            run("ui_repo_list_click", repo_list_click)
            run("ui_tag_page_click", tag_page_click)
            run("ui_repo_list_next_click", next_page("/", "/"))
            run("ui_tag_page_next_click", next_page("/repository/bench/tags", "/repository/bench/tags"))
            run("ui_repo_list_load", load("/"))
            run("ui_tag_page_load", load("/repository/bench/tags"))
            tag_rows = len(d.find_elements(By.CSS_SELECTOR, "table.tags tbody tr"))
            log("tag page shows %d rows (one page of the API)" % tag_rows)
        finally:
            d.quit()
            stop(server)
        over = [n for n, s in results.items() if statistics.median(s) > BUDGET]
        if over:
            print("over the %.0f ms budget: %s" % (BUDGET, ", ".join(over)))
            return 1
        return 0
    finally:
        if os.environ.get("KEEP_DATA") != "1":
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
