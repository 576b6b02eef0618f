# Turns raw quay-bench result lines ("server=S round=R case=C key=value ...") into a
# markdown table. For each server and case the best round is kept (highest req/s,
# ops/s or MiB/s), because on a shared machine disturbance only ever slows a run.
#
#   awk -v servers="docker-registry,quayd" -f bench/report.awk results.txt
#
# With two servers the first is the reference: the table gets a ratio column
# (second / first) and the libquay targets. With one server it is a plain listing.

function primary(c) {
  if (c == "manifest_get" || c == "manifest_get_no_audit" || c == "head_blob" ||
      c == "tags_list" || c == "catalog") return "rps"
  if (c == "push_1m" || c == "manifest_put") return "ops_s"
  if (c == "push_large" || c == "chunked" || c == "pull_large") return "mb_s"
  return ""
}

function pretty(sz) { sub(/[KMG]iB$/, " &", sz); return sz }

function field(line, key,    n, i, parts, kv) {
  n = split(line, parts, " ")
  for (i = 1; i <= n; i++) {
    if (index(parts[i], key "=") == 1) return substr(parts[i], length(key) + 2)
  }
  return ""
}

function get(s, c, key) { return ((s, c) in best) ? field(best[s, c], key) : "" }

function mib(kib) { return kib == "" || kib + 0 < 0 ? "" : sprintf("%.1f", kib / 1024) }

function cell(s, c, key, fmt,    v) {
  if (((s, c) in best) && field(best[s, c], "failed") == "1") return "FAILED"
  v = get(s, c, key)
  return v == "" ? "pending" : sprintf(fmt, v)
}

function latency(s, c,    p50, p99, mx) {
  if (!((s, c) in best)) return "pending"
  p50 = get(s, c, "p50_ms"); p99 = get(s, c, "p99_ms"); mx = get(s, c, "max_ms")
  if (p50 == "") return "FAILED"
  return sprintf("%.2f / %.2f / %.1f", p50, p99, mx)
}

# row LABEL UNIT CASE KEY FMT TARGET: TARGET is a minimum ratio, or "" for none.
function row(label, unit, c, key, fmt, target,    a, b, va, vb, ratio, met, t) {
  if (nservers == 1) {
    printf "| %s | %s | %s |\n", label, unit, cell(server[1], c, key, fmt)
    return
  }
  a = cell(server[1], c, key, fmt); b = cell(server[2], c, key, fmt)
  va = get(server[1], c, key); vb = get(server[2], c, key)
  ratio = ""; met = ""
  if (va != "" && vb != "" && va + 0 > 0 && a != "FAILED" && b != "FAILED") {
    ratio = sprintf("%.2fx", vb / va)
    if (target != "") met = (vb / va >= target) ? "yes" : "**no**"
  } else if (target != "") {
    met = "pending"
  }
  if (b == "FAILED" && target != "") met = "**no**"
  t = target == "" ? "" : ">= " target "x"
  printf "| %s | %s | %s | %s | %s | %s | %s |\n", label, unit, a, b, ratio, t, met
}

function info_row(label, unit, a, b) {
  if (nservers == 1) printf "| %s | %s | %s |\n", label, unit, a
  else printf "| %s | %s | %s | %s | | | |\n", label, unit, a, b
}

function errors_of(s,    c, total, k, v, any, parts) {
  total = 0; any = 0
  for (k in best) {
    split(k, parts, SUBSEP)
    if (parts[1] != s) continue
    any = 1
    v = field(best[k], "errors"); if (v != "") total += v
    v = field(best[k], "non_2xx"); if (v != "") total += v
    if (field(best[k], "failed") == "1") total += 1
  }
  return any ? total : "pending"
}

function big_rss(s,    idle, peak, growth) {
  if (!((s, "big") in best)) return "pending"
  if (field(best[s, "big"], "failed") == "1") return "FAILED"
  idle = get(s, "big", "rss_idle_kib"); peak = get(s, "big", "rss_peak_kib")
  growth = get(s, "big", "rss_growth_kib")
  if (idle == "" || idle + 0 < 0) return "n/a (no --pid)"
  return sprintf("%s -> %s (+%s)", mib(idle), mib(peak), mib(growth))
}

# Server CPU per operation, from server_cpu (CPUs) / rate: a figure that disturbance
# from other processes changes much less than the rate itself.
function cpu_per_op(s, c, key, scale, unit,    cpu, rate) {
  if (!((s, c) in best)) return "pending"
  cpu = get(s, c, "server_cpu"); rate = get(s, c, key)
  if (cpu == "" || cpu + 0 < 0 || rate + 0 <= 0) return "n/a"
  return sprintf("%.0f %s", cpu * scale / rate, unit)
}

function other_cpu(s,    k, v, worst, any, parts) {
  worst = 0; any = 0
  for (k in best) {
    split(k, parts, SUBSEP)
    if (parts[1] != s) continue
    v = field(best[k], "other_cpu")
    if (v == "") continue
    any = 1
    if (v + 0 > worst) worst = v + 0
  }
  return any ? sprintf("%.2f", worst) : ""
}

function thousands(n,    out) {
  n = sprintf("%d", n); out = ""
  while (length(n) > 3) { out = "," substr(n, length(n) - 2) out; n = substr(n, 1, length(n) - 3) }
  return n out
}

# The GC case runs on quayd only: docker-registry collects garbage offline
# (`registry garbage-collect` on a stopped or read-only registry).
function gc_cell(s, what,    ms) {
  if (!((s, "gc") in best)) {
    if (s != "docker-registry") return "pending"
    return what == "duration" ? "n/a (offline only)" : "n/a"
  }
  if (field(best[s, "gc"], "failed") == "1") return "FAILED"
  if (what == "duration") return sprintf("%.2f", get(s, "gc", "gc_ms") / 1000)
  if (what == "latency") return latency(s, "gc")
  return sprintf("%.2f; %d / %d", get(s, "gc", "p99_before_ms"), get(s, "gc", "rps_before"), get(s, "gc", "rps"))
}

# gc_row LABEL UNIT WHAT TARGET-TEXT KEY LIMIT: met when the quayd column's KEY is
# below LIMIT.
function gc_row(label, unit, what, ttext, key, limit,    a, b, met, v) {
  a = gc_cell(server[1], what)
  if (nservers == 1) { printf "| %s | %s | %s |\n", label, unit, a; return }
  b = gc_cell(server[2], what)
  met = ""
  if (key != "") {
    v = get(server[2], "gc", key)
    met = (b == "FAILED") ? "**no**" : (v == "" ? "pending" : (v + 0 < limit ? "yes" : "**no**"))
  }
  printf "| %s | %s | %s | %s | | %s | %s |\n", label, unit, a, b, ttext, met
}

function lrange(s) { return (s in lmin) ? sprintf("%.1f - %.1f", lmin[s], lmax[s]) : "" }

function run_rss(s,    idle, peak) {
  if (!((s, "rss_run") in best)) return "pending"
  idle = get(s, "rss_run", "rss_idle_kib"); peak = get(s, "rss_run", "rss_peak_kib")
  return sprintf("%s -> %s (+%s)", mib(idle), mib(peak), mib(peak - idle))
}

{
  s = field($0, "server"); c = field($0, "case")
  if (s == "" || c == "") next
  if (c == "machine" || c == "machine_end") {
    if (field($0, "nproc") != "") nproc = field($0, "nproc")
    l = field($0, "loadavg") + 0
    if (!(s in lmin) || l < lmin[s]) lmin[s] = l
    if (!(s in lmax) || l > lmax[s]) lmax[s] = l
    if (field($0, "size_large") != "") { size_large = field($0, "size_large"); size_big = field($0, "size_big"); size_chunked = field($0, "size_chunked") }
    next
  }
  if (c == "seed" || c == "gc_seed") next
  if (c == "gc") {
    # The shortest collection is the least disturbed one.
    if (!((s, c) in best) || field(best[s, c], "failed") == "1" ||
        (field($0, "failed") != "1" && field($0, "gc_ms") + 0 < field(best[s, c], "gc_ms") + 0)) {
      best[s, c] = $0
    }
    next
  }
  if (c == "rss_run") {
    # Several invocations of run.sh per server: keep the lowest idle and highest peak.
    if ((s, c) in best) {
      i0 = field(best[s, c], "rss_idle_kib"); p0 = field(best[s, c], "rss_peak_kib")
      i1 = field($0, "rss_idle_kib"); p1 = field($0, "rss_peak_kib")
      best[s, c] = "case=rss_run rss_idle_kib=" (i1 + 0 < i0 + 0 ? i1 : i0) " rss_peak_kib=" (p1 + 0 > p0 + 0 ? p1 : p0)
    } else {
      best[s, c] = $0
    }
    next
  }
  k = primary(c)
  if (!((s, c) in best) || field(best[s, c], "failed") == "1") { best[s, c] = $0; next }
  if (k != "" && field($0, "failed") != "1" && field($0, k) + 0 > field(best[s, c], k) + 0) {
    best[s, c] = $0
  }
}

END {
  nservers = split(servers, server, ",")
  if (size_large == "") { size_large = "256MiB"; size_big = "2GiB"; size_chunked = "64MiB" }
  large = pretty(size_large); big = pretty(size_big)
  if (nservers == 1) {
    print "| Case | Metric | " server[1] " |"
    print "|---|---|---|"
  } else {
    print "| Case | Metric | " server[1] " | " server[2] " | " server[2] " / " server[1] " | Target | Met |"
    print "|---|---|---|---|---|---|---|"
  }
  row("GET manifest by tag, 64 conns", "req/s", "manifest_get", "rps", "%d", 25)
  info_row("", "latency p50 / p99 / max (ms)", latency(server[1], "manifest_get"), latency(server[2], "manifest_get"))
  info_row("", "server CPU per request", cpu_per_op(server[1], "manifest_get", "rps", 1e6, "us"), cpu_per_op(server[2], "manifest_get", "rps", 1e6, "us"))
  if (nservers == 2 && ((server[2], "manifest_get_no_audit") in best)) {
    # Issue 4: pulls are audited without slowing the pull path measurably.
    info_row("", "quayd req/s with pull audit off (--no-pull-audit); audit on / off", "",
             sprintf("%d; %.2f", get(server[2], "manifest_get_no_audit", "rps"),
                     get(server[2], "manifest_get", "rps") / get(server[2], "manifest_get_no_audit", "rps")))
  }
  row("HEAD blob, 64 conns", "req/s", "head_blob", "rps", "%d", 25)
  info_row("", "latency p50 / p99 / max (ms)", latency(server[1], "head_blob"), latency(server[2], "head_blob"))
  info_row("", "server CPU per request", cpu_per_op(server[1], "head_blob", "rps", 1e6, "us"), cpu_per_op(server[2], "head_blob", "rps", 1e6, "us"))
  tags = get(server[nservers], "tags_list", "tags"); if (tags == "") tags = get(server[1], "tags_list", "tags")
  row("tags/list, " thousands(tags == "" ? 2000 : tags) " tags in one response, 64 conns", "req/s", "tags_list", "rps", "%d", 10)
  info_row("", "latency p50 / p99 / max (ms)", latency(server[1], "tags_list"), latency(server[2], "tags_list"))
  info_row("", "server CPU per request", cpu_per_op(server[1], "tags_list", "rps", 1e6, "us"), cpu_per_op(server[2], "tags_list", "rps", 1e6, "us"))
  repos = get(server[nservers], "catalog", "repos"); if (repos == "") repos = get(server[1], "catalog", "repos")
  row("Catalog, " thousands(repos == "" ? 500 : repos) " repositories in one page (n=1000), 64 conns", "req/s", "catalog", "rps", "%d", 50)
  info_row("", "latency p50 / p99 / max (ms)", latency(server[1], "catalog"), latency(server[2], "catalog"))
  info_row("", "server CPU per request", cpu_per_op(server[1], "catalog", "rps", 1e6, "us"), cpu_per_op(server[2], "catalog", "rps", 1e6, "us"))
  row("Monolithic push 1 MiB, 8 clients", "ops/s", "push_1m", "ops_s", "%.1f", 5)
  info_row("", "latency p50 / p99 / max (ms)", latency(server[1], "push_1m"), latency(server[2], "push_1m"))
  info_row("", "server CPU per push", cpu_per_op(server[1], "push_1m", "ops_s", 1e3, "ms"), cpu_per_op(server[2], "push_1m", "ops_s", 1e3, "ms"))
  row("Manifest PUT (distinct small manifests), 8 clients", "ops/s", "manifest_put", "ops_s", "%.1f", 4)
  info_row("", "latency p50 / p99 / max (ms)", latency(server[1], "manifest_put"), latency(server[2], "manifest_put"))
  info_row("", "server CPU per PUT", cpu_per_op(server[1], "manifest_put", "ops_s", 1e3, "ms"), cpu_per_op(server[2], "manifest_put", "ops_s", 1e3, "ms"))
  dead = get(server[nservers], "gc", "manifests_deleted")
  gc_row("GC of " thousands(dead == "" ? 10000 : dead) " dead manifests, GET manifest on 64 conns meanwhile", "GC duration (s)", "duration", "< 10 s", "gc_ms", 10000)
  gc_row("", "GET p50 / p99 / max during GC (ms)", "latency", "p99 < 50 ms", "p99_ms", 50)
  gc_row("", "GET p99 before GC (ms); req/s before / during", "before", "", "", 0)
  row("Monolithic push " large, "MiB/s", "push_large", "mb_s", "%.1f", 2)
  row("Chunked push " pretty(size_chunked) " (8 MiB PATCHes)", "MiB/s", "chunked", "mb_s", "%.1f", "")
  row("Pull " large, "MiB/s", "pull_large", "mb_s", "%.1f", 1)
  row(big " blob push (streamed)", "MiB/s", "big", "push_mb_s", "%.1f", "")
  row(big " blob pull (client verifies SHA-256)", "MiB/s", "big", "pull_mb_s", "%.1f", "")
  b1 = big_rss(server[1]); b2 = big_rss(server[2])
  if (nservers == 1) {
    printf "| %s push + pull: server RSS | idle -> peak (+growth), MiB | %s |\n", big, b1
  } else {
    g = get(server[2], "big", "rss_growth_kib")
    met = (g == "" || g + 0 < 0) ? "pending" : (g + 0 <= 32768 ? "yes" : "**no**")
    if (b2 == "FAILED") met = "**no**"
    printf "| %s push + pull: server RSS | idle -> peak (+growth), MiB | %s | %s | | %s growth <= 32 MiB | %s |\n", big, b1, b2, server[2], met
  }
  info_row("Whole run: server RSS", "idle -> peak (+growth), MiB", run_rss(server[1]), run_rss(server[2]))
  info_row("Errors (failed requests, non-2xx, failed cases)", "count", errors_of(server[1]), errors_of(server[2]))
  info_row("Other processes' CPU during the kept rounds", "max, in CPUs (of " nproc ")", other_cpu(server[1]), other_cpu(server[2]))
  info_row("Machine load (1-min load average over the runs)", "min - max", lrange(server[1]), lrange(server[2]))
}
