// quay-bench: a load generator for any registry that speaks the OCI Distribution
// v2 API over plain HTTP (quayd, docker-registry, zot, ...), either without auth or
// with Docker token auth: when /v2/ answers 401 with a Bearer challenge, each
// subcommand first gets one token for the repositories it uses from the realm,
// with Basic credentials from --user/--password or QUAY_BENCH_USER/
// QUAY_BENCH_PASSWORD, and sends it on every request.
//
// It shares the machine with the server under test, so it is built to be cheap:
//  * Blob bytes come from one 4 MiB random pattern that is repeated, followed by a
//    32-byte suffix that is unique per blob (process nonce + thread + counter). The
//    registry therefore never sees the same digest twice, yet the client never
//    generates or holds more than the pattern.
//  * SHA-256 of a blob is the SHA-256 state after the shared prefix (computed once
//    per blob size and cloned) plus the unique 32-byte suffix, so hashing a 1 MiB
//    or 2 GiB blob costs the client one block, not the whole blob.
//  * Large downloads use a raw socket with 1 MiB reads (cpp-httplib reads 4 KiB at
//    a time) and are not hashed unless --verify is given.
//
// Every subcommand prints human-readable progress on stderr and exactly one line
// of `key=value` results on stdout, which bench/run.sh collects.

#include <arpa/inet.h>
#include <fcntl.h>
#include <httplib.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;
constexpr std::uint64_t kMiB = 1024 * 1024;

[[noreturn]] void die(const std::string& message) {
  std::fprintf(stderr, "quay-bench: %s\n", message.c_str());
  std::exit(1);
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// User + system CPU seconds used by this process so far; reported so that readers
// can see how much of the shared machine the load generator itself took.
double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

std::string cpu_pct(double cpu_start, double wall_seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.0f",
                100.0 * (process_cpu_seconds() - cpu_start) / wall_seconds);
  return buf;
}

// ---------------------------------------------------------------------------
// Command line: `quay-bench <command> --key value ... [--flag]`.

class Args {
 public:
  Args(int argc, char** argv, int first) {
    for (int i = first; i < argc; ++i) {
      std::string key = argv[i];
      if (!key.starts_with("--")) die("unexpected argument: " + key);
      key = key.substr(2);
      if (i + 1 < argc && !std::string_view(argv[i + 1]).starts_with("--")) {
        values_[key] = argv[++i];
      } else {
        values_[key] = "";
      }
    }
  }

  std::string str(const std::string& key, const std::string& fallback) const {
    auto it = values_.find(key);
    return it == values_.end() ? fallback : it->second;
  }
  bool flag(const std::string& key) const { return values_.contains(key); }
  std::uint64_t size(const std::string& key, const std::string& fallback) const {
    return parse_size(str(key, fallback));
  }
  long integer(const std::string& key, long fallback) const {
    auto it = values_.find(key);
    return it == values_.end() ? fallback : std::stol(it->second);
  }
  double real(const std::string& key, double fallback) const {
    auto it = values_.find(key);
    return it == values_.end() ? fallback : std::stod(it->second);
  }

  // "1MiB", "256MiB", "2GiB", "64k", "1048576".
  static std::uint64_t parse_size(const std::string& text) {
    std::size_t used = 0;
    std::uint64_t n = std::stoull(text, &used);
    std::string unit = text.substr(used);
    std::transform(unit.begin(), unit.end(), unit.begin(), ::tolower);
    if (unit.empty() || unit == "b") return n;
    if (unit == "k" || unit == "kib") return n << 10;
    if (unit == "m" || unit == "mib") return n << 20;
    if (unit == "g" || unit == "gib") return n << 30;
    die("bad size: " + text);
  }

 private:
  std::map<std::string, std::string> values_;
};

// ---------------------------------------------------------------------------
// Target URL: only http://host:port is supported.

struct Target {
  std::string host;
  int port = 80;
};

Target parse_url(const std::string& url) {
  constexpr std::string_view kScheme = "http://";
  if (!url.starts_with(kScheme)) die("only http:// URLs are supported: " + url);
  std::string rest = url.substr(kScheme.size());
  if (auto slash = rest.find('/'); slash != std::string::npos) rest.resize(slash);
  Target t;
  if (auto colon = rest.rfind(':'); colon != std::string::npos) {
    t.host = rest.substr(0, colon);
    t.port = std::stoi(rest.substr(colon + 1));
  } else {
    t.host = rest;
  }
  return t;
}

// ---------------------------------------------------------------------------
// Blob contents and digests.

// xoshiro256** — fast enough that filling the pattern is noise.
class Xoshiro256 {
 public:
  explicit Xoshiro256(std::uint64_t seed) {
    for (auto& word : s_) {  // splitmix64 expansion of the seed
      seed += 0x9e3779b97f4a7c15ULL;
      std::uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      word = z ^ (z >> 31);
    }
  }
  std::uint64_t next() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t s_[4];
};

constexpr std::size_t kPatternSize = 4 * kMiB;
constexpr std::size_t kSuffixSize = 32;

using Suffix = std::array<unsigned char, kSuffixSize>;

std::string hex(const unsigned char* data, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[data[i] >> 4];
    out[2 * i + 1] = kDigits[data[i] & 15];
  }
  return out;
}

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};
using MdCtx = std::unique_ptr<EVP_MD_CTX, MdCtxDeleter>;

MdCtx new_sha256() {
  MdCtx ctx(EVP_MD_CTX_new());
  if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1) die("EVP sha256 init");
  return ctx;
}

std::string finish_digest(EVP_MD_CTX* ctx) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_DigestFinal_ex(ctx, md, &len) != 1) die("EVP final");
  return "sha256:" + hex(md, len);
}

std::string sha256_of(std::string_view data) {
  MdCtx ctx = new_sha256();
  EVP_DigestUpdate(ctx.get(), data.data(), data.size());
  return finish_digest(ctx.get());
}

// A family of blobs of one size: byte i (i < size-32) is pattern[i % 4 MiB], the last
// 32 bytes are the caller's unique suffix.
class BlobFamily {
 public:
  BlobFamily(std::shared_ptr<const std::vector<unsigned char>> pattern, std::uint64_t size)
      : pattern_(std::move(pattern)), size_(size), prefix_state_(new_sha256()) {
    if (size_ <= kSuffixSize) die("blob size must exceed 32 bytes");
    // Hash the shared prefix once; each blob clones this state.
    for_each_segment(0, prefix_size(), [&](const unsigned char* p, std::size_t n) {
      EVP_DigestUpdate(prefix_state_.get(), p, n);
      return true;
    });
  }

  std::uint64_t size() const { return size_; }
  std::uint64_t prefix_size() const { return size_ - kSuffixSize; }

  std::string digest(const Suffix& suffix) const {
    MdCtx ctx(EVP_MD_CTX_new());
    if (!ctx || EVP_MD_CTX_copy_ex(ctx.get(), prefix_state_.get()) != 1) die("EVP copy");
    EVP_DigestUpdate(ctx.get(), suffix.data(), suffix.size());
    return finish_digest(ctx.get());
  }

  // Materialises the whole blob (only for small blobs).
  void fill(std::vector<unsigned char>& out, const Suffix& suffix) const {
    out.resize(size_);
    std::uint64_t off = 0;
    for_each_segment(0, prefix_size(), [&](const unsigned char* p, std::size_t n) {
      std::memcpy(out.data() + off, p, n);
      off += n;
      return true;
    });
    std::memcpy(out.data() + prefix_size(), suffix.data(), kSuffixSize);
  }

  // Calls emit(ptr, n) for consecutive pieces of bytes [offset, offset+length) of the
  // blob, each piece at most 1 MiB. Stops early if emit returns false.
  template <class Emit>
  bool emit_range(std::uint64_t offset, std::uint64_t length, const Suffix& suffix,
                  Emit&& emit) const {
    const std::uint64_t end = std::min(size_, offset + length);
    if (offset < prefix_size()) {
      const std::uint64_t prefix_end = std::min(end, prefix_size());
      if (!for_each_segment(offset, prefix_end, emit)) return false;
      offset = prefix_end;
    }
    if (offset < end) {
      return emit(suffix.data() + (offset - prefix_size()), static_cast<std::size_t>(end - offset));
    }
    return true;
  }

 private:
  template <class Emit>
  bool for_each_segment(std::uint64_t begin, std::uint64_t end, Emit&& emit) const {
    constexpr std::uint64_t kMaxPiece = kMiB;
    while (begin < end) {
      const std::uint64_t in_pattern = begin % kPatternSize;
      const std::uint64_t n = std::min({end - begin, kPatternSize - in_pattern, kMaxPiece});
      if (!emit(pattern_->data() + in_pattern, static_cast<std::size_t>(n))) return false;
      begin += n;
    }
    return true;
  }

  std::shared_ptr<const std::vector<unsigned char>> pattern_;
  std::uint64_t size_;
  MdCtx prefix_state_;
};

// Makes process-unique suffixes: 16 bytes of per-process nonce, 8 bytes of stream id,
// 8 bytes of counter.
class SuffixSource {
 public:
  SuffixSource() {
    std::random_device rd;
    for (auto& b : nonce_) b = static_cast<unsigned char>(rd());
  }
  Suffix make(std::uint64_t stream, std::uint64_t counter) const {
    Suffix s{};
    std::memcpy(s.data(), nonce_.data(), nonce_.size());
    std::memcpy(s.data() + 16, &stream, 8);
    std::memcpy(s.data() + 24, &counter, 8);
    return s;
  }

 private:
  std::array<unsigned char, 16> nonce_{};
};

std::shared_ptr<const std::vector<unsigned char>> make_pattern() {
  auto pattern = std::make_shared<std::vector<unsigned char>>(kPatternSize);
  Xoshiro256 rng(std::random_device{}() ^ (std::uint64_t{std::random_device{}()} << 32));
  for (std::size_t i = 0; i < kPatternSize; i += 8) {
    std::uint64_t v = rng.next();
    std::memcpy(pattern->data() + i, &v, 8);
  }
  return pattern;
}

// ---------------------------------------------------------------------------
// Server RSS sampling from /proc/PID/status.

struct ProcMemory {
  long rss_kib = -1;
  long hwm_kib = -1;
};

ProcMemory read_proc_memory(long pid) {
  ProcMemory m;
  if (pid <= 0) return m;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("VmRSS:")) m.rss_kib = std::atol(line.c_str() + 6);
    if (line.starts_with("VmHWM:")) m.hwm_kib = std::atol(line.c_str() + 6);
  }
  return m;
}

// CPU time (seconds) of the whole machine (busy, all CPUs) and of one process.
struct CpuSnapshot {
  double machine_busy = 0;
  double server = 0;
  double self = 0;
  Clock::time_point at;
};

CpuSnapshot take_cpu_snapshot(long pid) {
  CpuSnapshot snap;
  snap.at = Clock::now();
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  {
    std::ifstream stat("/proc/stat");
    std::string cpu;
    unsigned long long user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0,
                       steal = 0;
    stat >> cpu >> user >> nice >> system >> idle >> iowait >> irq >> softirq >> steal;
    snap.machine_busy = static_cast<double>(user + nice + system + irq + softirq + steal) / tick;
  }
  if (pid > 0) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    // Fields after the parenthesised command name; utime and stime are the 12th
    // and 13th of those.
    if (auto paren = line.rfind(')'); paren != std::string::npos) {
      std::istringstream rest(line.substr(paren + 2));
      std::string field;
      unsigned long long utime = 0, stime = 0;
      for (int i = 1; i <= 13 && rest >> field; ++i) {
        if (i == 12) utime = std::stoull(field);
        if (i == 13) stime = std::stoull(field);
      }
      snap.server = static_cast<double>(utime + stime) / tick;
    }
  }
  snap.self = process_cpu_seconds();
  return snap;
}

// Samples a process's VmRSS every `interval` on a background thread, and accounts
// for the CPU used meanwhile by the server and by everything else on the machine
// (other processes' CPU shows when a run was disturbed).
class RssSampler {
 public:
  RssSampler(long pid, std::chrono::milliseconds interval) : pid_(pid), interval_(interval) {}
  ~RssSampler() { stop(); }

  void start() {
    cpu_start_ = take_cpu_snapshot(pid_);
    if (pid_ <= 0) return;
    idle_kib_ = read_proc_memory(pid_).rss_kib;
    peak_kib_ = idle_kib_;
    running_ = true;
    thread_ = std::thread([this] {
      while (running_) {
        long rss = read_proc_memory(pid_).rss_kib;
        long prev = peak_kib_.load();
        while (rss > prev && !peak_kib_.compare_exchange_weak(prev, rss)) {
        }
        ++samples_;
        std::this_thread::sleep_for(interval_);
      }
    });
  }
  void stop() {
    if (!stopped_) {
      cpu_end_ = take_cpu_snapshot(pid_);
      stopped_ = true;
    }
    running_ = false;
    if (thread_.joinable()) thread_.join();
  }
  // " server_cpu=<cores> other_cpu=<cores>": average CPUs used by the server and by
  // processes other than the server and this client between start() and stop().
  std::string cpu_fields() const {
    const double wall = std::chrono::duration<double>(cpu_end_.at - cpu_start_.at).count();
    if (wall <= 0) return "";
    const double server = cpu_end_.server - cpu_start_.server;
    const double self = cpu_end_.self - cpu_start_.self;
    const double other = cpu_end_.machine_busy - cpu_start_.machine_busy - server - self;
    char buf[96];
    std::snprintf(buf, sizeof buf, " server_cpu=%.2f other_cpu=%.2f",
                  pid_ > 0 ? server / wall : -1.0, std::max(0.0, other / wall));
    return buf;
  }
  long idle_kib() const { return idle_kib_; }
  long peak_kib() const { return peak_kib_; }
  long samples() const { return samples_; }

 private:
  long pid_;
  std::chrono::milliseconds interval_;
  std::atomic<bool> running_{false};
  long idle_kib_ = -1;
  bool stopped_ = false;
  CpuSnapshot cpu_start_;
  CpuSnapshot cpu_end_;
  std::atomic<long> peak_kib_{-1};
  std::atomic<long> samples_{0};
  std::thread thread_;
};

// ---------------------------------------------------------------------------
// Registry client (cpp-httplib for control requests and uploads).

std::string url_encode_digest(const std::string& digest) {
  std::string out;
  for (char c : digest) {
    if (c == ':') {
      out += "%3A";
    } else {
      out += c;
    }
  }
  return out;
}

// Location may be absolute ("http://host:port/v2/...") or a path.
std::string location_path(const std::string& location) {
  if (auto scheme = location.find("://"); scheme != std::string::npos) {
    auto slash = location.find('/', scheme + 3);
    return slash == std::string::npos ? "/" : location.substr(slash);
  }
  return location;
}

std::string with_digest(const std::string& path, const std::string& digest) {
  return path + (path.find('?') == std::string::npos ? "?" : "&") +
         "digest=" + url_encode_digest(digest);
}

// ---------------------------------------------------------------------------
// Docker token auth.

// The bearer token every request carries; empty for registries without auth.
std::string g_bearer_token;

std::string percent_encode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// Value of `key="..."` in a WWW-Authenticate challenge.
std::string challenge_param(const std::string& challenge, const std::string& key) {
  const std::string needle = key + "=\"";
  auto at = challenge.find(needle);
  if (at == std::string::npos) return "";
  at += needle.size();
  auto end = challenge.find('"', at);
  return end == std::string::npos ? "" : challenge.substr(at, end - at);
}

// Value of a top-level string member in a flat JSON object (tokens never need
// unescaping: they are JWTs or opaque base64).
std::string json_string(const std::string& json, const std::string& key) {
  const std::string needle = "\"" + key + "\"";
  auto at = json.find(needle);
  if (at == std::string::npos) return "";
  at = json.find('"', json.find(':', at + needle.size()));
  if (at == std::string::npos) return "";
  auto end = json.find('"', at + 1);
  return end == std::string::npos ? "" : json.substr(at + 1, end - at - 1);
}

// The strings of the array member `key` of a JSON object, e.g. the tags of
// {"name":"a","tags":["x","y"]}: enough for tag lists and catalogs, whose
// names never need unescaping. A missing member or null gives none.
std::vector<std::string> json_string_array(const std::string& json, const std::string& key) {
  std::vector<std::string> out;
  const std::string needle = "\"" + key + "\"";
  auto at = json.find(needle);
  if (at == std::string::npos) return out;
  at = json.find_first_not_of(" \t\r\n:", at + needle.size());
  if (at == std::string::npos || json[at] != '[') return out;
  const auto end = json.find(']', at);
  if (end == std::string::npos) return out;
  for (auto open = json.find('"', at); open < end; open = json.find('"', open)) {
    const auto close = json.find('"', open + 1);
    if (close == std::string::npos || close > end) break;
    out.push_back(json.substr(open + 1, close - open - 1));
    open = close + 1;
  }
  return out;
}

// Token scopes for pull and push on each of `repos`.
std::vector<std::string> repository_scopes(const std::vector<std::string>& repos) {
  std::vector<std::string> scopes;
  for (const auto& repo : repos) {
    if (!repo.empty()) scopes.push_back("repository:" + repo + ":pull,push");
  }
  return scopes;
}

// A bearer token for `scopes` (e.g. "repository:bench/app:pull,push",
// "registry:catalog:*") if the registry asks for one; "" for a registry that
// answers /v2/ with 200.
std::string fetch_token(const Target& target, const Args& args,
                        const std::vector<std::string>& scopes) {
  httplib::Client client(target.host, target.port);
  client.set_url_encode(false);
  auto res = client.Get("/v2/");
  if (!res) throw std::runtime_error("GET /v2/: " + httplib::to_string(res.error()));
  if (res->status == 200) return "";
  const std::string challenge = res->get_header_value("WWW-Authenticate");
  if (res->status != 401 || !challenge.starts_with("Bearer ")) {
    throw std::runtime_error("GET /v2/: HTTP " + std::to_string(res->status) +
                             " without a Bearer challenge");
  }
  const std::string realm = challenge_param(challenge, "realm");
  const std::string service = challenge_param(challenge, "service");
  if (realm.empty()) throw std::runtime_error("Bearer challenge without realm");

  std::string path = location_path(realm) + "?service=" + percent_encode(service);
  for (const auto& scope : scopes) path += "&scope=" + percent_encode(scope);
  const char* env_user = std::getenv("QUAY_BENCH_USER");
  const char* env_password = std::getenv("QUAY_BENCH_PASSWORD");
  const std::string user = args.str("user", env_user ? env_user : "");
  const std::string password = args.str("password", env_password ? env_password : "");
  if (!user.empty()) client.set_basic_auth(user, password);
  // The realm may name another host; a realm on the registry itself is the usual case.
  const std::string realm_origin = realm.substr(0, realm.find('/', realm.find("://") + 3));
  if (realm.starts_with("http://") && parse_url(realm_origin).port != target.port) {
    throw std::runtime_error("token realm on another host is not supported: " + realm);
  }
  auto token_res = client.Get(path);
  if (!token_res || token_res->status != 200) {
    throw std::runtime_error("token request failed: " +
                             (token_res ? "HTTP " + std::to_string(token_res->status) + " " +
                                              token_res->body.substr(0, 200)
                                        : httplib::to_string(token_res.error())));
  }
  std::string token = json_string(token_res->body, "token");
  if (token.empty()) token = json_string(token_res->body, "access_token");
  if (token.empty()) throw std::runtime_error("token response without a token");
  return token;
}

// Sets g_bearer_token, which every request then carries, for pull and push on
// `repos`.
void authorize(const Target& target, const Args& args, const std::vector<std::string>& repos) {
  g_bearer_token = fetch_token(target, args, repository_scopes(repos));
}

// A bearer token for Quay's REST API (/api/v1), e.g. the OAuth access token of
// POST /api/v1/user/initialize: --bearer, or QUAY_BENCH_API_TOKEN. "" when
// neither is given.
std::string api_token(const Args& args) {
  const char* env = std::getenv("QUAY_BENCH_API_TOKEN");
  return args.str("bearer", env ? env : "");
}

// Repository named in a /v2/<name>/(manifests|blobs|tags)/... path.
std::string repo_of_path(const std::string& path) {
  if (!path.starts_with("/v2/")) return "";
  for (const char* marker : {"/manifests/", "/blobs/", "/tags/"}) {
    if (auto at = path.rfind(marker); at != std::string::npos && at > 4)
      return path.substr(4, at - 4);
  }
  return "";
}

class RegistryClient {
 public:
  // `token` is the bearer token the requests carry ("" for none).
  explicit RegistryClient(const Target& target, const std::string& token = g_bearer_token)
      : client_(target.host, target.port) {
    client_.set_keep_alive(true);
    client_.set_tcp_nodelay(true);
    client_.set_url_encode(false);
    client_.set_connection_timeout(10);
    // A server may fsync or re-hash a 2 GiB blob before answering the final PUT.
    client_.set_read_timeout(600);
    client_.set_write_timeout(600);
    if (!token.empty()) client_.set_bearer_token_auth(token);
  }

  // POST /v2/<repo>/blobs/uploads/ -> upload location path.
  std::string start_upload(const std::string& repo) {
    auto res = client_.Post("/v2/" + repo + "/blobs/uploads/", httplib::Headers{}, "", 0,
                            "application/octet-stream");
    expect(res, 202, "POST blob upload");
    return location_of(res);
  }

  // Monolithic upload: POST, then PUT <location>?digest= with the whole body.
  void push_blob(const std::string& repo, const unsigned char* data, std::size_t size,
                 const std::string& digest) {
    std::string location = start_upload(repo);
    auto res = client_.Put(with_digest(location, digest), httplib::Headers{},
                           reinterpret_cast<const char*>(data), size, "application/octet-stream");
    expect(res, 201, "PUT blob");
  }

  // Monolithic upload whose body is streamed from the blob family.
  void push_streamed(const std::string& repo, const BlobFamily& family, const Suffix& suffix,
                     const std::string& digest) {
    std::string location = start_upload(repo);
    auto res = client_.Put(
        with_digest(location, digest), httplib::Headers{}, family.size(),
        [&](std::size_t offset, std::size_t length, httplib::DataSink& sink) {
          return family.emit_range(offset, length, suffix,
                                   [&](const unsigned char* p, std::size_t n) {
                                     return sink.write(reinterpret_cast<const char*>(p), n);
                                   });
        },
        "application/octet-stream");
    expect(res, 201, "PUT streamed blob");
  }

  // Chunked upload: POST, PATCH each chunk with Content-Range, PUT ?digest= empty.
  void push_chunked(const std::string& repo, const BlobFamily& family, const Suffix& suffix,
                    const std::string& digest, std::uint64_t chunk) {
    std::string location = start_upload(repo);
    for (std::uint64_t offset = 0; offset < family.size(); offset += chunk) {
      const std::uint64_t n = std::min(chunk, family.size() - offset);
      httplib::Headers headers{
          {"Content-Range", std::to_string(offset) + "-" + std::to_string(offset + n - 1)}};
      auto res = client_.Patch(
          location, headers, n,
          [&](std::size_t sub_offset, std::size_t length, httplib::DataSink& sink) {
            return family.emit_range(offset + sub_offset, length, suffix,
                                     [&](const unsigned char* p, std::size_t k) {
                                       return sink.write(reinterpret_cast<const char*>(p), k);
                                     });
          },
          "application/octet-stream");
      expect(res, 202, "PATCH chunk");
      location = location_of(res);
    }
    auto res = client_.Put(with_digest(location, digest), httplib::Headers{}, "", 0,
                           "application/octet-stream");
    expect(res, 201, "PUT close chunked upload");
  }

  // Makes blob `digest` (whose bytes are `data`) present in `repo` from repository
  // `from` without uploading it where the registry mounts (201); a registry that
  // answers 202 opened an upload instead, which gets the bytes. True if mounted.
  bool mount_or_push(const std::string& repo, const std::string& from, const std::string& digest,
                     const std::string& data) {
    auto res = client_.Post(
        "/v2/" + repo + "/blobs/uploads/?mount=" + url_encode_digest(digest) + "&from=" + from,
        httplib::Headers{}, "", 0, "application/octet-stream");
    if (res && res->status == 201) return true;
    expect(res, 202, "POST blob mount");
    auto put = client_.Put(with_digest(location_of(res), digest), httplib::Headers{}, data.data(),
                           data.size(), "application/octet-stream");
    expect(put, 201, "PUT blob (mount refused)");
    return false;
  }

  // GET `path`; the response whatever its status (transport errors throw).
  httplib::Result get(const std::string& path) {
    auto res = client_.Get(path);
    if (!res) throw std::runtime_error("GET " + path + ": " + httplib::to_string(res.error()));
    return res;
  }

  void put_manifest(const std::string& repo, const std::string& reference, const std::string& body,
                    const std::string& media_type) {
    auto res = client_.Put("/v2/" + repo + "/manifests/" + reference, httplib::Headers{}, body,
                           media_type);
    expect(res, 201, "PUT manifest");
  }

  // PUT `body` (application/json) to `path`, expecting `status`.
  void put_json(const std::string& path, const std::string& body, int status) {
    auto res = client_.Put(path, httplib::Headers{}, body, "application/json");
    expect(res, status, "PUT JSON");
  }

  void check_base() {
    auto res = client_.Get("/v2/");
    expect(res, 200, "GET /v2/");
  }

 private:
  static void expect(const httplib::Result& res, int status, const char* what) {
    if (!res) {
      throw std::runtime_error(std::string(what) + ": " + httplib::to_string(res.error()));
    }
    if (res->status != status) {
      throw std::runtime_error(std::string(what) + ": HTTP " + std::to_string(res->status) +
                               " (want " + std::to_string(status) +
                               "): " + res->body.substr(0, 300));
    }
  }
  static std::string location_of(const httplib::Result& res) {
    std::string location = res->get_header_value("Location");
    if (location.empty()) throw std::runtime_error("response has no Location header");
    return location_path(location);
  }

  httplib::Client client_;
};

// ---------------------------------------------------------------------------
// Raw keep-alive GET for blob downloads: 1 MiB reads, body discarded or hashed.

class BlobDownloader {
 public:
  explicit BlobDownloader(const Target& target) : target_(target), buffer_(kMiB) {}
  ~BlobDownloader() { disconnect(); }

  // GETs `path`; returns body length. If `hash` is set, the body is fed to it.
  std::uint64_t get(const std::string& path, EVP_MD_CTX* hash) {
    if (fd_ < 0) connect_to_server();
    std::string request =
        "GET " + path + " HTTP/1.1\r\nHost: " + target_.host + ":" + std::to_string(target_.port) +
        "\r\nAccept-Encoding: identity\r\nConnection: keep-alive\r\n" +
        (g_bearer_token.empty() ? "" : "Authorization: Bearer " + g_bearer_token + "\r\n") + "\r\n";
    send_all(request);
    begin_ = end_ = 0;

    // Status line and headers.
    std::string head;
    for (;;) {
      auto found = std::string_view(reinterpret_cast<char*>(buffer_.data()) + begin_, end_ - begin_)
                       .find("\r\n\r\n");
      if (found != std::string_view::npos) {
        head.assign(reinterpret_cast<char*>(buffer_.data()) + begin_, found);
        begin_ += found + 4;
        break;
      }
      if (end_ == buffer_.size()) throw std::runtime_error("response headers too large");
      fill_more();
    }
    std::string lower = head;
    std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
    int status = 0;
    if (std::sscanf(head.c_str(), "HTTP/1.%*d %d", &status) != 1) {
      throw std::runtime_error("bad status line");
    }
    if (status != 200) throw std::runtime_error("GET blob: HTTP " + std::to_string(status));
    const bool close_after = lower.find("\r\nconnection: close") != std::string::npos;

    std::uint64_t received = 0;
    auto consume = [&](std::size_t n) {
      if (hash) EVP_DigestUpdate(hash, buffer_.data() + begin_, n);
      begin_ += n;
      received += n;
    };
    if (auto cl = lower.find("\r\ncontent-length:"); cl != std::string::npos) {
      std::uint64_t length = std::strtoull(lower.c_str() + cl + 17, nullptr, 10);
      while (received < length) {
        if (begin_ == end_) refill();
        consume(
            static_cast<std::size_t>(std::min<std::uint64_t>(end_ - begin_, length - received)));
      }
    } else if (lower.find("\r\ntransfer-encoding: chunked") != std::string::npos) {
      for (;;) {
        std::string size_line = read_line();
        std::uint64_t chunk = std::strtoull(size_line.c_str(), nullptr, 16);
        if (chunk == 0) {
          while (!read_line().empty()) {  // trailers
          }
          break;
        }
        while (chunk > 0) {
          if (begin_ == end_) refill();
          std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(end_ - begin_, chunk));
          consume(n);
          chunk -= n;
        }
        read_line();  // CRLF after chunk data
      }
    } else {
      throw std::runtime_error("GET blob: neither Content-Length nor chunked");
    }
    if (close_after) disconnect();
    return received;
  }

 private:
  void connect_to_server() {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (getaddrinfo(target_.host.c_str(), std::to_string(target_.port).c_str(), &hints, &found) !=
        0) {
      throw std::runtime_error("cannot resolve " + target_.host);
    }
    for (addrinfo* ai = found; ai; ai = ai->ai_next) {
      fd_ = ::socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
      if (fd_ < 0) continue;
      if (::connect(fd_, ai->ai_addr, ai->ai_addrlen) == 0) break;
      ::close(fd_);
      fd_ = -1;
    }
    freeaddrinfo(found);
    if (fd_ < 0) throw std::runtime_error("cannot connect");
    int one = 1;
    setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  void disconnect() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  void send_all(const std::string& data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
      ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      sent += static_cast<std::size_t>(n);
    }
  }
  // Appends to the buffer after end_ (compacting first if needed).
  void fill_more() {
    if (begin_ > 0) {
      std::memmove(buffer_.data(), buffer_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    ssize_t n = ::recv(fd_, buffer_.data() + end_, buffer_.size() - end_, 0);
    if (n <= 0) throw std::runtime_error("connection closed while reading response");
    end_ += static_cast<std::size_t>(n);
  }
  void refill() {
    begin_ = end_ = 0;
    fill_more();
  }
  std::string read_line() {
    for (;;) {
      std::string_view view(reinterpret_cast<char*>(buffer_.data()) + begin_, end_ - begin_);
      if (auto eol = view.find("\r\n"); eol != std::string_view::npos) {
        std::string line(view.substr(0, eol));
        begin_ += eol + 2;
        return line;
      }
      fill_more();
    }
  }

  Target target_;
  int fd_ = -1;
  std::vector<unsigned char> buffer_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

// ---------------------------------------------------------------------------
// Reporting helpers.

struct LatencyStats {
  double p50_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
};

LatencyStats latency_stats(std::vector<double> ms) {
  LatencyStats s;
  if (ms.empty()) return s;
  std::sort(ms.begin(), ms.end());
  auto at = [&](double q) {
    std::size_t i = static_cast<std::size_t>(q * static_cast<double>(ms.size() - 1) + 0.5);
    return ms[std::min(i, ms.size() - 1)];
  };
  s.p50_ms = at(0.50);
  s.p99_ms = at(0.99);
  s.max_ms = ms.back();
  return s;
}

std::string fmt(double v, int decimals = 1) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

double mb_per_s(std::uint64_t bytes, double secs) {
  return static_cast<double>(bytes) / static_cast<double>(kMiB) / secs;
}

// ---------------------------------------------------------------------------
// Small images and many small requests (tag lists, catalogs, manifest PUTs, GC).

constexpr const char* kOciManifestType = "application/vnd.oci.image.manifest.v1+json";

// A small OCI image: a random layer and a config. manifest(id) gives a manifest
// of both; a non-empty id goes into an annotation, so that manifests differ
// (distinct digests) while sharing the two blobs.
struct TinyImage {
  std::string layer;
  std::string layer_digest;
  std::string config;
  std::string config_digest;

  std::string manifest(const std::string& id = "") const {
    std::string body =
        R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
        R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
        config_digest + R"(","size":)" + std::to_string(config.size()) +
        R"(},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":")" +
        layer_digest + R"(","size":)" + std::to_string(layer.size()) + "}]";
    if (!id.empty()) body += R"(,"annotations":{"org.example.quay-bench.id":")" + id + "\"}";
    return body + "}";
  }
};

// 16 random hex digits, so that names and annotations of separate runs differ.
std::string run_nonce() {
  std::random_device rd;
  const std::uint64_t v = (std::uint64_t{rd()} << 32) ^ rd();
  return hex(reinterpret_cast<const unsigned char*>(&v), sizeof v);
}

TinyImage make_tiny_image(std::size_t layer_size) {
  TinyImage image;
  Xoshiro256 rng(std::random_device{}() ^ (std::uint64_t{std::random_device{}()} << 32));
  image.layer.resize(layer_size);
  for (auto& c : image.layer) c = static_cast<char>(rng.next());
  image.layer_digest = sha256_of(image.layer);
  image.config = R"({"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/true"]},)"
                 R"("rootfs":{"type":"layers","diff_ids":[")" +
                 image.layer_digest + R"("]}})";
  image.config_digest = sha256_of(image.config);
  return image;
}

void push_tiny_blobs(RegistryClient& client, const std::string& repo, const TinyImage& image) {
  client.push_blob(repo, reinterpret_cast<const unsigned char*>(image.layer.data()),
                   image.layer.size(), image.layer_digest);
  client.push_blob(repo, reinterpret_cast<const unsigned char*>(image.config.data()),
                   image.config.size(), image.config_digest);
}

struct WorkResult {
  std::vector<double> latencies_ms;  // of the operations that succeeded
  long errors = 0;
  std::string first_error;
  double elapsed = 0;
};

// Calls op(client, worker, index) from `concurrency` threads, each with its own
// keep-alive client carrying `token`, for indexes 0, 1, ... until `count` have
// been started (count > 0) or `duration` seconds have passed. An op reports a
// failure by throwing; after 20 failures everything stops.
template <class Op>
WorkResult run_workers(const Target& target, const std::string& token, int concurrency, long count,
                       double duration, Op&& op) {
  WorkResult result;
  std::atomic<long> next_index{0};
  std::atomic<long> errors{0};
  std::mutex mu;
  const auto start = Clock::now();
  const auto deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(duration));
  auto worker = [&](int id) {
    RegistryClient client(target, token);
    std::vector<double> mine;
    for (;;) {
      if (errors > 20) break;
      if (duration > 0 && Clock::now() >= deadline) break;
      const long index = next_index++;
      if (count > 0 && index >= count) break;
      const auto t0 = Clock::now();
      try {
        op(client, id, index);
        mine.push_back(seconds_since(t0) * 1000.0);
      } catch (const std::exception& e) {
        ++errors;
        std::lock_guard lock(mu);
        if (result.first_error.empty()) result.first_error = e.what();
      }
    }
    std::lock_guard lock(mu);
    result.latencies_ms.insert(result.latencies_ms.end(), mine.begin(), mine.end());
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < concurrency; ++i) threads.emplace_back(worker, i);
  for (auto& t : threads) t.join();
  result.elapsed = seconds_since(start);
  result.errors = errors;
  return result;
}

// After pushing many small things, flush what the server left for writeback
// (docker-registry does not fsync) and give it a moment, so that the load that
// follows does not pay for the seeding.
void settle_after_seeding(bool seeded) {
  if (!seeded) return;
  ::sync();
  std::this_thread::sleep_for(std::chrono::seconds(1));
}

// `prefix` followed by `i` in at least four digits, so that names sort as numbers.
std::string numbered(const std::string& prefix, long i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04ld", i);
  return prefix + buf;
}

// ---------------------------------------------------------------------------
// Subcommands.

// push: monolithic POST-then-PUT of unique blobs from N concurrent keep-alive clients,
// for --duration seconds or --count blobs in total.
int cmd_push(const Args& args) {
  const Target target = parse_url(args.str("url", "http://127.0.0.1:5000"));
  const std::string repo = args.str("repo", "bench/push");
  authorize(target, args, {repo});
  const std::uint64_t size = args.size("size", "1MiB");
  const int concurrency = static_cast<int>(args.integer("concurrency", 8));
  const double duration = args.real("duration", 0);
  const long count = args.integer("count", duration > 0 ? 0 : 64);
  const std::string name = args.str("name", "push");
  const bool stream = args.flag("stream") || size > 64 * kMiB;

  auto pattern = make_pattern();
  BlobFamily family(pattern, size);
  SuffixSource suffixes;
  RssSampler rss(args.integer("pid", 0), std::chrono::milliseconds(20));

  std::atomic<long> next_index{0};
  std::atomic<long> errors{0};
  std::atomic<bool> stop{false};
  std::mutex mu;
  std::vector<double> latencies;
  std::string first_error;

  auto worker = [&](int stream_id, Clock::time_point deadline) {
    RegistryClient client(target);
    std::vector<unsigned char> body;
    if (!stream) family.fill(body, suffixes.make(0, 0));
    std::vector<double> mine;
    for (;;) {
      if (stop) break;
      long index = next_index++;
      if (count > 0 && index >= count) break;
      if (duration > 0 && Clock::now() >= deadline) break;
      Suffix suffix = suffixes.make(static_cast<std::uint64_t>(stream_id) + 1,
                                    static_cast<std::uint64_t>(index));
      const std::string digest = family.digest(suffix);
      auto t0 = Clock::now();
      try {
        if (stream) {
          client.push_streamed(repo, family, suffix, digest);
        } else {
          std::memcpy(body.data() + family.prefix_size(), suffix.data(), kSuffixSize);
          client.push_blob(repo, body.data(), body.size(), digest);
        }
        mine.push_back(seconds_since(t0) * 1000.0);
      } catch (const std::exception& e) {
        ++errors;
        std::lock_guard lock(mu);
        if (first_error.empty()) first_error = e.what();
        if (errors > 20) stop = true;
      }
    }
    std::lock_guard lock(mu);
    latencies.insert(latencies.end(), mine.begin(), mine.end());
  };

  // Warm-up: one blob per client, so connection set-up and first-touch costs in
  // the server are not measured.
  {
    std::vector<std::thread> warm;
    for (int i = 0; i < std::min(concurrency, 4); ++i) {
      warm.emplace_back([&, i] {
        try {
          RegistryClient client(target);
          Suffix suffix = suffixes.make(1000 + static_cast<std::uint64_t>(i), 0);
          if (size <= 64 * kMiB) {
            std::vector<unsigned char> body;
            family.fill(body, suffix);
            client.push_blob(repo, body.data(), body.size(), family.digest(suffix));
          }
        } catch (const std::exception& e) {
          die(std::string("warm-up push failed: ") + e.what());
        }
      });
    }
    for (auto& t : warm) t.join();
  }

  rss.start();
  const double cpu0 = process_cpu_seconds();
  const auto start = Clock::now();
  const auto deadline =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(duration));
  std::vector<std::thread> threads;
  for (int i = 0; i < concurrency; ++i) threads.emplace_back(worker, i, deadline);
  for (auto& t : threads) t.join();
  const double elapsed = seconds_since(start);
  const std::string client_cpu = cpu_pct(cpu0, elapsed);
  rss.stop();

  const long ok = static_cast<long>(latencies.size());
  if (!first_error.empty()) std::fprintf(stderr, "first error: %s\n", first_error.c_str());
  if (ok == 0) die("no successful pushes");
  const LatencyStats lat = latency_stats(latencies);
  const double ops = static_cast<double>(ok) / elapsed;
  const double mbs = mb_per_s(static_cast<std::uint64_t>(ok) * size, elapsed);
  std::fprintf(stderr,
               "%s: %ld blobs of %" PRIu64
               " bytes, %d clients, %.2f s: %.1f ops/s, %.1f MiB/s, "
               "p50 %.1f ms, p99 %.1f ms, errors %ld, client CPU %s%%\n",
               name.c_str(), ok, size, concurrency, elapsed, ops, mbs, lat.p50_ms, lat.p99_ms,
               errors.load(), client_cpu.c_str());
  std::printf(
      "case=%s ops_s=%s mb_s=%s p50_ms=%s p99_ms=%s max_ms=%s ok=%ld errors=%ld "
      "client_cpu_pct=%s rss_idle_kib=%ld rss_peak_kib=%ld%s\n",
      name.c_str(), fmt(ops).c_str(), fmt(mbs).c_str(), fmt(lat.p50_ms, 2).c_str(),
      fmt(lat.p99_ms, 2).c_str(), fmt(lat.max_ms, 2).c_str(), ok, errors.load(), client_cpu.c_str(),
      rss.idle_kib(), rss.peak_kib(), rss.cpu_fields().c_str());
  return errors > 0 ? 2 : 0;
}

// chunked: POST, PATCH --chunk sized pieces with Content-Range, PUT ?digest=.
int cmd_chunked(const Args& args) {
  const Target target = parse_url(args.str("url", "http://127.0.0.1:5000"));
  const std::string repo = args.str("repo", "bench/chunked");
  authorize(target, args, {repo});
  const std::uint64_t size = args.size("size", "64MiB");
  const std::uint64_t chunk = args.size("chunk", "8MiB");
  const long count = args.integer("count", 4);
  const std::string name = args.str("name", "chunked");

  BlobFamily family(make_pattern(), size);
  SuffixSource suffixes;
  RegistryClient client(target);
  RssSampler rss(args.integer("pid", 0), std::chrono::milliseconds(20));
  std::vector<double> latencies;

  {  // warm-up
    Suffix s = suffixes.make(99, 0);
    client.push_chunked(repo, family, s, family.digest(s), chunk);
  }
  rss.start();
  const double cpu0 = process_cpu_seconds();
  const auto start = Clock::now();
  for (long i = 0; i < count; ++i) {
    Suffix s = suffixes.make(1, static_cast<std::uint64_t>(i));
    const std::string digest = family.digest(s);
    auto t0 = Clock::now();
    client.push_chunked(repo, family, s, digest, chunk);
    latencies.push_back(seconds_since(t0) * 1000.0);
  }
  const double elapsed = seconds_since(start);
  rss.stop();
  const double mbs = mb_per_s(size * static_cast<std::uint64_t>(count), elapsed);
  const LatencyStats lat = latency_stats(latencies);
  std::fprintf(stderr,
               "%s: %ld blobs of %" PRIu64 " bytes in %" PRIu64 "-byte chunks: %.1f MiB/s\n",
               name.c_str(), count, size, chunk, mbs);
  std::printf(
      "case=%s mb_s=%s p50_ms=%s max_ms=%s ok=%ld errors=0 client_cpu_pct=%s "
      "rss_idle_kib=%ld rss_peak_kib=%ld%s\n",
      name.c_str(), fmt(mbs).c_str(), fmt(lat.p50_ms, 1).c_str(), fmt(lat.max_ms, 1).c_str(), count,
      cpu_pct(cpu0, elapsed).c_str(), rss.idle_kib(), rss.peak_kib(), rss.cpu_fields().c_str());
  return 0;
}

// ---------------------------------------------------------------------------
// limits: what the machine itself can do, measured in the same run as the push
// cases so that each case can be stated as a fraction of its bound (issue 15).
//  * sha256: one thread hashing a 4 MiB buffer with OpenSSL's EVP SHA-256 (the
//    hasher quayd uses) for --seconds;
//  * write_sync: --size bytes written in 1 MiB write()s to a new file in --dir,
//    then one fdatasync(), --repeat files, in three ways: each file unlinked
//    before the next ("rewrite": the next file gets the page cache and blocks
//    just freed), files kept until the end ("buffered": new page-cache pages,
//    as a registry's blobs get them), and files kept, written with O_DIRECT
//    ("direct": no page cache at all). Best file of each; the bound is the best
//    of the three, because a writer may pick any of them;
//  * small_sync: new files of --small bytes, each written and fdatasync'd, one
//    after another for --seconds (the 1 MiB push bound), the same three ways,
//    and the best of them from --clients threads at once;
//  * loopback: one TCP connection over 127.0.0.1, a sender writing 256 KiB
//    pieces and a receiver reading 256 KiB pieces, for --seconds.
//
// Why three ways: on a virtual machine whose free memory the host has taken
// back (free page reporting), a page-cache page touched for the first time
// costs a host page fault, so buffered writes into new pages ran at 250-300
// MB/s where rewrites and O_DIRECT ran at 1.2-1.4 GB/s (2026-12-03).
enum class WriteWay { kRewrite, kBuffered, kDirect };

struct SyncedWrite {
  int fd;
  SyncedWrite(const std::string& path, bool direct) {
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | (direct ? O_DIRECT : 0),
                0600);
    if (fd < 0) die("cannot create " + path + ": " + std::strerror(errno));
  }
  ~SyncedWrite() { ::close(fd); }
  void write_all(const unsigned char* data, std::uint64_t n) {
    while (n > 0) {
      const ssize_t w = ::write(fd, data, static_cast<size_t>(std::min<std::uint64_t>(n, kMiB)));
      if (w <= 0) die(std::string("write: ") + std::strerror(errno));
      data += w;
      n -= static_cast<std::uint64_t>(w);
    }
  }
  void sync() {
    if (::fdatasync(fd) != 0) die(std::string("fdatasync: ") + std::strerror(errno));
  }
};

// The pattern copied into page-aligned memory, as O_DIRECT wants it.
struct AlignedPattern {
  unsigned char* data = nullptr;
  std::uint64_t size = 0;
  explicit AlignedPattern(const std::vector<unsigned char>& pattern) : size(pattern.size()) {
    data = static_cast<unsigned char*>(std::aligned_alloc(4096, (size + 4095) / 4096 * 4096));
    if (data == nullptr) die("out of memory");
    std::memcpy(data, pattern.data(), size);
  }
  ~AlignedPattern() { std::free(data); }
  AlignedPattern(const AlignedPattern&) = delete;
  AlignedPattern& operator=(const AlignedPattern&) = delete;
};

const char* way_name(WriteWay way) {
  switch (way) {
    case WriteWay::kRewrite:
      return "rewrite";
    case WriteWay::kBuffered:
      return "buffered";
    case WriteWay::kDirect:
      return "direct";
  }
  return "";
}

// Writes `size` bytes of the pattern to a new file at `path` and fdatasyncs it.
void write_synced_file(const AlignedPattern& pattern, const std::string& path, std::uint64_t size,
                       WriteWay way) {
  SyncedWrite file(path, way == WriteWay::kDirect);
  for (std::uint64_t done = 0; done < size;) {
    const std::uint64_t n = std::min<std::uint64_t>(pattern.size, size - done);
    file.write_all(pattern.data, n);
    done += n;
  }
  file.sync();
}

double measure_sha256(const std::vector<unsigned char>& pattern, double seconds) {
  MdCtx ctx = new_sha256();
  std::uint64_t bytes = 0;
  const auto start = Clock::now();
  while (seconds_since(start) < seconds) {
    for (int i = 0; i < 16; ++i) {
      EVP_DigestUpdate(ctx.get(), pattern.data(), pattern.size());
      bytes += pattern.size();
    }
  }
  return mb_per_s(bytes, seconds_since(start));
}

// What a measurement does with its files at the end: unlinks them, or (for
// a caller that measures file creation next, bench/pushes.sh) only empties
// them. ext4 without a journal skips inodes deleted in the last minute or
// more when it allocates one, one by one, so thousands of fresh deletions
// made every later create in their group slower (`recently_deleted` was a
// fifth of quayd's CPU in a 1 MiB push, 2026-12-03).
bool g_unlink_files = true;

void discard_file(const std::string& path) {
  if (g_unlink_files) {
    ::unlink(path.c_str());
  } else {
    (void)::truncate(path.c_str(), 0);
  }
}

double measure_write_sync(const AlignedPattern& pattern, const std::string& dir, std::uint64_t size,
                          int repeat, WriteWay way) {
  double best = 0;
  std::vector<std::string> kept;
  ::sync();  // nothing else's dirty pages in this measurement
  for (int r = 0; r < repeat; ++r) {
    // The rewrite way reuses one path: O_TRUNC frees its pages and blocks
    // just before they are wanted again.
    const std::string path = dir + "/limits-write-" + way_name(way) + "-" +
                             std::to_string(way == WriteWay::kRewrite ? 0 : r);
    const auto start = Clock::now();
    write_synced_file(pattern, path, size, way);
    best = std::max(best, mb_per_s(size, seconds_since(start)));
    if (way != WriteWay::kRewrite || r + 1 == repeat) kept.push_back(path);
  }
  for (const auto& path : kept) discard_file(path);
  return best;
}

// Files per second, `clients` threads each creating, writing and syncing new
// files of `size` bytes one after another.
double measure_small_sync(const AlignedPattern& pattern, const std::string& dir, std::uint64_t size,
                          int clients, double seconds, WriteWay way) {
  ::sync();
  std::atomic<long> files{0};
  std::vector<std::vector<std::string>> kept(static_cast<size_t>(clients));
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      for (long i = 0; seconds_since(start) < seconds; ++i) {
        const std::string path = dir + "/limits-small-" + way_name(way) + "-" + std::to_string(c) +
                                 "-" + std::to_string(way == WriteWay::kRewrite ? 0 : i);
        write_synced_file(pattern, path, std::min<std::uint64_t>(size, pattern.size), way);
        if (way != WriteWay::kRewrite || i == 0) kept[static_cast<size_t>(c)].push_back(path);
        ++files;
      }
    });
  }
  for (auto& t : threads) t.join();
  const double rate = static_cast<double>(files.load()) / seconds_since(start);
  for (const auto& paths : kept) {
    for (const auto& path : paths) discard_file(path);
  }
  return rate;
}

double measure_loopback(double seconds) {
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (listener < 0 || ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(listener, 1) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    die(std::string("loopback listener: ") + std::strerror(errno));
  }
  const int sender = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (::connect(sender, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    die(std::string("loopback connect: ") + std::strerror(errno));
  }
  const int receiver = ::accept(listener, nullptr, nullptr);
  ::close(listener);
  std::uint64_t received = 0;
  std::thread reader([&] {
    std::vector<char> buf(256 * 1024);
    for (;;) {
      const ssize_t n = ::recv(receiver, buf.data(), buf.size(), 0);
      if (n <= 0) break;
      received += static_cast<std::uint64_t>(n);
    }
  });
  std::vector<char> piece(256 * 1024, 'x');
  const auto start = Clock::now();
  while (seconds_since(start) < seconds) {
    if (::send(sender, piece.data(), piece.size(), MSG_NOSIGNAL) <= 0) break;
  }
  ::shutdown(sender, SHUT_WR);
  reader.join();
  const double elapsed = seconds_since(start);
  ::close(sender);
  ::close(receiver);
  return mb_per_s(received, elapsed);
}

int cmd_limits(const Args& args) {
  const std::string dir = args.str("dir", "/tmp");
  const std::uint64_t size = args.size("size", "256MiB");
  const std::uint64_t small = args.size("small", "1MiB");
  const int clients = static_cast<int>(args.integer("clients", 8));
  const int repeat = static_cast<int>(args.integer("repeat", 3));
  const double seconds = args.real("seconds", 3);
  g_unlink_files = args.str("files", "unlink") != "truncate";
  auto pattern = make_pattern();
  const AlignedPattern aligned(*pattern);
  // Buffered first, so that its files get new pages rather than the rewrite's.
  const WriteWay ways[] = {WriteWay::kBuffered, WriteWay::kDirect, WriteWay::kRewrite};

  const double sha = measure_sha256(*pattern, seconds);
  double write_sync[3], small_1[3];
  for (int w = 0; w < 3; ++w) {
    write_sync[w] = measure_write_sync(aligned, dir, size, repeat, ways[w]);
  }
  for (int w = 0; w < 3; ++w) {
    small_1[w] = measure_small_sync(aligned, dir, small, 1, seconds, ways[w]);
  }
  const int best_write =
      static_cast<int>(std::max_element(write_sync, write_sync + 3) - write_sync);
  const int best_small = static_cast<int>(std::max_element(small_1, small_1 + 3) - small_1);
  const double small_n =
      measure_small_sync(aligned, dir, small, clients, seconds, ways[best_small]);
  const double loopback = measure_loopback(seconds);
  std::fprintf(stderr,
               "limits: sha256 %.0f MiB/s (1 thread); %" PRIu64
               " bytes write+fdatasync %.0f MiB/s (rewrite %.0f, buffered %.0f, direct %.0f); "
               "%" PRIu64
               "-byte files written+fdatasync'd: %.0f/s (1 thread; rewrite %.0f, buffered %.0f, "
               "direct %.0f), %.0f/s (%d threads, %s); loopback TCP %.0f MiB/s\n",
               sha, size, write_sync[best_write], write_sync[2], write_sync[0], write_sync[1],
               small, small_1[best_small], small_1[2], small_1[0], small_1[1], small_n, clients,
               way_name(ways[best_small]), loopback);
  std::printf(
      "case=limits sha256_mb_s=%s write_sync_mb_s=%s write_sync_way=%s write_rewrite_mb_s=%s "
      "write_buffered_mb_s=%s write_direct_mb_s=%s small_sync_ops_s=%s small_sync_way=%s "
      "small_rewrite_ops_s=%s small_buffered_ops_s=%s small_direct_ops_s=%s "
      "small_sync_par_ops_s=%s loopback_mb_s=%s size=%" PRIu64 " small=%" PRIu64 " clients=%d\n",
      fmt(sha).c_str(), fmt(write_sync[best_write]).c_str(), way_name(ways[best_write]),
      fmt(write_sync[2]).c_str(), fmt(write_sync[0]).c_str(), fmt(write_sync[1]).c_str(),
      fmt(small_1[best_small]).c_str(), way_name(ways[best_small]), fmt(small_1[2]).c_str(),
      fmt(small_1[0]).c_str(), fmt(small_1[1]).c_str(), fmt(small_n).c_str(), fmt(loopback).c_str(),
      size, small, clients);
  return 0;
}

// pull: push one blob, then GET it --count times on one keep-alive connection.
// The first GET is an untimed warm-up that also verifies the digest.
int cmd_pull(const Args& args) {
  const Target target = parse_url(args.str("url", "http://127.0.0.1:5000"));
  const std::string repo = args.str("repo", "bench/pull");
  authorize(target, args, {repo});
  const std::uint64_t size = args.size("size", "256MiB");
  const long count = args.integer("count", 4);
  const std::string name = args.str("name", "pull");

  BlobFamily family(make_pattern(), size);
  SuffixSource suffixes;
  Suffix s = suffixes.make(7, 0);
  const std::string digest = family.digest(s);
  RegistryClient(target).push_streamed(repo, family, s, digest);

  const std::string path = "/v2/" + repo + "/blobs/" + digest;
  BlobDownloader downloader(target);
  {
    MdCtx hash = new_sha256();
    if (downloader.get(path, hash.get()) != size) die("pulled size mismatch");
    if (finish_digest(hash.get()) != digest) die("pulled digest mismatch");
  }
  RssSampler rss(args.integer("pid", 0), std::chrono::milliseconds(20));
  rss.start();
  std::vector<double> latencies;
  const double cpu0 = process_cpu_seconds();
  const auto start = Clock::now();
  for (long i = 0; i < count; ++i) {
    auto t0 = Clock::now();
    if (downloader.get(path, nullptr) != size) die("pulled size mismatch");
    latencies.push_back(seconds_since(t0) * 1000.0);
  }
  const double elapsed = seconds_since(start);
  rss.stop();
  const double mbs = mb_per_s(size * static_cast<std::uint64_t>(count), elapsed);
  std::fprintf(stderr, "%s: %ld x %" PRIu64 " bytes: %.1f MiB/s\n", name.c_str(), count, size, mbs);
  std::printf(
      "case=%s mb_s=%s p50_ms=%s ok=%ld errors=0 client_cpu_pct=%s rss_idle_kib=%ld "
      "rss_peak_kib=%ld%s\n",
      name.c_str(), fmt(mbs).c_str(), fmt(latency_stats(latencies).p50_ms, 1).c_str(), count,
      cpu_pct(cpu0, elapsed).c_str(), rss.idle_kib(), rss.peak_kib(), rss.cpu_fields().c_str());
  return 0;
}

// big: push one huge blob streamed from the pattern (never materialised) and pull it
// back (verifying size, and the digest with --verify), sampling the server's RSS.
int cmd_big(const Args& args) {
  const Target target = parse_url(args.str("url", "http://127.0.0.1:5000"));
  const std::string repo = args.str("repo", "bench/big");
  authorize(target, args, {repo});
  const std::uint64_t size = args.size("size", "2GiB");
  const long pid = args.integer("pid", 0);
  const std::string name = args.str("name", "big");
  const bool verify = args.flag("verify");

  std::fprintf(stderr, "%s: hashing the %" PRIu64 "-byte prefix once...\n", name.c_str(), size);
  BlobFamily family(make_pattern(), size);
  SuffixSource suffixes;
  Suffix s = suffixes.make(8, 0);
  const std::string digest = family.digest(s);

  const ProcMemory before = read_proc_memory(pid);
  RssSampler push_rss(pid, std::chrono::milliseconds(10));
  push_rss.start();
  auto t0 = Clock::now();
  RegistryClient(target).push_streamed(repo, family, s, digest);
  const double push_secs = seconds_since(t0);
  push_rss.stop();

  RssSampler pull_rss(pid, std::chrono::milliseconds(10));
  pull_rss.start();
  t0 = Clock::now();
  MdCtx hash = new_sha256();
  const std::uint64_t got =
      BlobDownloader(target).get("/v2/" + repo + "/blobs/" + digest, verify ? hash.get() : nullptr);
  const double pull_secs = seconds_since(t0);
  pull_rss.stop();
  if (got != size) die("pulled size mismatch: " + std::to_string(got));
  if (verify && finish_digest(hash.get()) != digest) die("pulled digest mismatch");
  const ProcMemory after = read_proc_memory(pid);

  const long idle = before.rss_kib;
  const long peak = std::max(push_rss.peak_kib(), pull_rss.peak_kib());
  std::fprintf(stderr,
               "%s: push %.1f MiB/s, pull %.1f MiB/s%s; server RSS idle %ld KiB, peak push %ld "
               "KiB, peak pull %ld KiB, after %ld KiB\n",
               name.c_str(), mb_per_s(size, push_secs), mb_per_s(size, pull_secs),
               verify ? " (verified)" : "", idle, push_rss.peak_kib(), pull_rss.peak_kib(),
               after.rss_kib);
  std::printf(
      "case=%s push_mb_s=%s pull_mb_s=%s rss_idle_kib=%ld rss_peak_push_kib=%ld "
      "rss_peak_pull_kib=%ld rss_peak_kib=%ld rss_growth_kib=%ld rss_after_kib=%ld "
      "hwm_kib=%ld samples=%ld verified=%d%s\n",
      name.c_str(), fmt(mb_per_s(size, push_secs)).c_str(), fmt(mb_per_s(size, pull_secs)).c_str(),
      idle, push_rss.peak_kib(), pull_rss.peak_kib(), peak, pid > 0 ? peak - idle : -1,
      after.rss_kib, after.hwm_kib, push_rss.samples() + pull_rss.samples(), verify ? 1 : 0,
      push_rss.cpu_fields().c_str());
  return 0;
}

// seed: push a small OCI image (config + one layer + manifest) and tag it, for the
// HEAD-blob and GET-manifest benchmarks.
int cmd_seed(const Args& args) {
  const Target target = parse_url(args.str("url", "http://127.0.0.1:5000"));
  const std::string repo = args.str("repo", "bench/app");
  authorize(target, args, {repo});
  const std::string tag = args.str("tag", "bench");
  const std::uint64_t layer_size = args.size("layer-size", "1MiB");

  RegistryClient client(target);
  client.check_base();

  BlobFamily family(make_pattern(), layer_size);
  Suffix s = SuffixSource().make(9, 0);
  std::vector<unsigned char> layer;
  family.fill(layer, s);
  const std::string layer_digest = family.digest(s);
  client.push_blob(repo, layer.data(), layer.size(), layer_digest);

  const std::string config =
      R"({"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/true"]},)"
      R"("rootfs":{"type":"layers","diff_ids":[")" +
      layer_digest + R"("]}})";
  const std::string config_digest = sha256_of(config);
  client.push_blob(repo, reinterpret_cast<const unsigned char*>(config.data()), config.size(),
                   config_digest);

  const std::string manifest =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
      R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
      config_digest + R"(","size":)" + std::to_string(config.size()) +
      R"(},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar","digest":")" +
      layer_digest + R"(","size":)" + std::to_string(layer_size) + R"(}]})";
  client.put_manifest(repo, tag, manifest, "application/vnd.oci.image.manifest.v1+json");
  std::fprintf(stderr, "seed: pushed %s:%s\n", repo.c_str(), tag.c_str());
  std::printf("case=seed repo=%s tag=%s layer=%s config=%s manifest=%s\n", repo.c_str(),
              tag.c_str(), layer_digest.c_str(), config_digest.c_str(),
              sha256_of(manifest).c_str());
  return 0;
}

// load: closed-loop small-request load (HEAD blob, GET manifest, tag list,
// catalog) from non-blocking keep-alive connections driven by epoll. wrk 4.1
// cannot time HEAD requests (its parser waits for the Content-Length body), and
// one epoll thread is cheaper than wrk's two on a machine the server shares.

struct LoadConnection {
  int fd = -1;
  std::size_t sent = 0;
  std::string in;
  Clock::time_point started;
  bool connecting = false;
  bool watching_out = false;  // EPOLLOUT registered (connect or a blocked send)
  long measured = 0;          // responses completed inside the measured window
  bool paced = false;         // with LoadPlan::rate: waiting until `due` to send
  Clock::time_point due;
};

// One response, when the load keeps them all (gcload classifies them against
// a time window known only afterwards).
struct LoadSpan {
  std::uint32_t start_us = 0;  // request sent, microseconds after LoadPlan::origin
  std::uint32_t latency_us = 0;
  std::uint16_t status = 0;
};

struct LoadThreadResult {
  std::vector<std::uint32_t> latencies_us;
  std::vector<std::uint32_t> per_second;  // completions in each second after warm-up
  std::vector<LoadSpan> spans;            // every response, with LoadPlan::record_spans
  long non_2xx = 0;
  long errors = 0;
  long connects = 0;
  long starved = 0;  // connections that completed no request in the measured window
};

struct LoadPlan {
  sockaddr_in addr{};
  std::string request;
  bool head_request = false;
  int connections = 64;
  int threads = 1;
  Clock::time_point origin;        // LoadSpan times are relative to this
  Clock::time_point measure_from;  // responses before this are warm-up
  Clock::time_point deadline;      // the load ends here, or when *stop is set
  const std::atomic<bool>* stop = nullptr;
  bool record_spans = false;
  // Requests per second over all connections; 0 sends the next request as
  // soon as a response is complete (closed loop, the saturating default).
  // Paced, each connection sends every connections/rate seconds, so latency
  // is measured at a load the server can carry.
  double rate = 0;
};

// Returns the length of one complete response at the front of `in`, 0 if more
// bytes are needed; sets `status` and `close`.
std::size_t complete_response(const std::string& in, bool head_request, int& status, bool& close) {
  const std::size_t header_end = in.find("\r\n\r\n");
  if (header_end == std::string::npos) return 0;
  std::string lower = in.substr(0, header_end + 2);
  std::transform(lower.begin(), lower.end(), lower.begin(), ::tolower);
  status = 0;
  std::sscanf(lower.c_str(), "http/1.%*d %d", &status);
  close = lower.find("\r\nconnection: close") != std::string::npos;
  const std::size_t body_start = header_end + 4;
  if (head_request || status == 204 || status == 304) return body_start;
  if (auto cl = lower.find("\r\ncontent-length:"); cl != std::string::npos) {
    const std::size_t length = std::strtoull(lower.c_str() + cl + 17, nullptr, 10);
    return in.size() >= body_start + length ? body_start + length : 0;
  }
  if (lower.find("\r\ntransfer-encoding: chunked") != std::string::npos) {
    const std::size_t end = in.find("\r\n0\r\n\r\n", header_end);
    return end == std::string::npos ? 0 : end + 7;
  }
  return body_start;
}

// The request line and headers of a load request, with the current token.
std::string load_request(const Target& target, const std::string& method, const std::string& path,
                         const std::string& accept) {
  std::string request = method + " " + path + " HTTP/1.1\r\nHost: " + target.host + ":" +
                        std::to_string(target.port) + "\r\n";
  if (!accept.empty()) request += "Accept: " + accept + "\r\n";
  if (!g_bearer_token.empty()) request += "Authorization: Bearer " + g_bearer_token + "\r\n";
  return request + "\r\n";
}

sockaddr_in load_address(const Target& target) {
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(target.port));
  if (inet_pton(AF_INET, target.host == "localhost" ? "127.0.0.1" : target.host.c_str(),
                &addr.sin_addr) != 1) {
    die("load needs a numeric IPv4 host");
  }
  return addr;
}

// Runs the load of `plan` on plan.threads epoll threads; one result per thread.
std::vector<LoadThreadResult> run_load(const LoadPlan& plan) {
  const std::size_t seconds =
      static_cast<std::size_t>(
          std::chrono::duration<double>(plan.deadline - plan.measure_from).count()) +
      2;
  const std::string& request = plan.request;
  std::vector<LoadThreadResult> results(static_cast<std::size_t>(plan.threads));
  auto run = [&](int thread_index, int count) {
    LoadThreadResult& result = results[static_cast<std::size_t>(thread_index)];
    result.per_second.assign(seconds, 0);
    const int ep = epoll_create1(0);
    std::vector<LoadConnection> conns(static_cast<std::size_t>(count));
    sockaddr_in addr = plan.addr;

    auto open_connection = [&](std::size_t i) {
      LoadConnection& c = conns[i];
      c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
      int one = 1;
      setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      c.sent = 0;
      c.in.clear();
      c.connecting = true;
      c.watching_out = true;
      c.started = Clock::now();
      ++result.connects;
      if (::connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 &&
          errno != EINPROGRESS) {
        die("connect failed");
      }
      epoll_event ev{};
      ev.events = EPOLLOUT;
      ev.data.u64 = i;
      epoll_ctl(ep, EPOLL_CTL_ADD, c.fd, &ev);
    };
    auto reset_connection = [&](std::size_t i) {
      epoll_ctl(ep, EPOLL_CTL_DEL, conns[i].fd, nullptr);
      ::close(conns[i].fd);
      open_connection(i);
    };
    // Only a connect or a blocked send needs EPOLLOUT; keeping EPOLLIN registered
    // otherwise saves an epoll_ctl per request.
    auto watch_out = [&](std::size_t i, bool on) {
      if (conns[i].watching_out == on) return;
      conns[i].watching_out = on;
      epoll_event ev{};
      ev.events = on ? (EPOLLIN | EPOLLOUT) : EPOLLIN;
      ev.data.u64 = i;
      epoll_ctl(ep, EPOLL_CTL_MOD, conns[i].fd, &ev);
    };
    auto send_request = [&](std::size_t i) {
      LoadConnection& c = conns[i];
      while (c.sent < request.size()) {
        ssize_t n = ::send(c.fd, request.data() + c.sent, request.size() - c.sent, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
          watch_out(i, true);
          return;
        }
        if (n <= 0) {
          ++result.errors;
          reset_connection(i);
          return;
        }
        c.sent += static_cast<std::size_t>(n);
      }
      watch_out(i, false);
    };
    auto us_since = [](Clock::time_point from, Clock::time_point to) {
      return static_cast<std::uint32_t>(
          std::chrono::duration_cast<std::chrono::microseconds>(to - from).count());
    };

    const auto interval =
        plan.rate > 0 ? std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(
                            static_cast<double>(plan.connections) / plan.rate))
                      : Clock::duration::zero();
    for (std::size_t i = 0; i < conns.size(); ++i) open_connection(i);
    std::vector<epoll_event> events(conns.size() + 1);
    char buf[65536];
    while (Clock::now() < plan.deadline && !(plan.stop && plan.stop->load())) {
      int wait_ms = 50;
      if (plan.rate > 0) {
        const auto now = Clock::now();
        for (std::size_t i = 0; i < conns.size(); ++i) {
          LoadConnection& c = conns[i];
          if (!c.paced) continue;
          if (c.due <= now) {
            c.paced = false;
            c.sent = 0;
            c.started = now;
            send_request(i);
          } else {
            const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(c.due - now);
            wait_ms = std::min<int>(wait_ms, static_cast<int>(ms.count()));
          }
        }
      }
      const int n = epoll_wait(ep, events.data(), static_cast<int>(events.size()), wait_ms);
      for (int k = 0; k < n; ++k) {
        const std::size_t i = events[static_cast<std::size_t>(k)].data.u64;
        LoadConnection& c = conns[i];
        if (c.connecting) {
          int err = 0;
          socklen_t len = sizeof err;
          getsockopt(c.fd, SOL_SOCKET, SO_ERROR, &err, &len);
          if (err != 0) {
            ++result.errors;
            reset_connection(i);
            continue;
          }
          c.connecting = false;
          c.started = Clock::now();
          if (plan.rate > 0) {
            // Spread the connections' first requests over one interval.
            c.paced = true;
            c.due = c.started + interval * static_cast<long>(i) / static_cast<long>(conns.size());
            watch_out(i, false);
            continue;
          }
          send_request(i);
          continue;
        }
        if (c.paced) continue;  // nothing is expected before its next request
        if (c.sent < request.size()) {
          send_request(i);
          continue;
        }
        ssize_t got = ::recv(c.fd, buf, sizeof buf, 0);
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) continue;
        if (got <= 0) {  // the server closed the connection between or during requests
          if (!c.in.empty() || got < 0) ++result.errors;
          reset_connection(i);
          continue;
        }
        c.in.append(buf, static_cast<std::size_t>(got));
        int status = 0;
        bool close = false;
        const std::size_t used = complete_response(c.in, plan.head_request, status, close);
        if (used == 0) continue;
        const auto now = Clock::now();
        if (plan.record_spans) {
          result.spans.push_back(LoadSpan{us_since(plan.origin, c.started),
                                          us_since(c.started, now),
                                          static_cast<std::uint16_t>(status)});
        }
        if (now >= plan.measure_from && now < plan.deadline) {
          result.latencies_us.push_back(us_since(c.started, now));
          const auto second = static_cast<std::size_t>(
              std::chrono::duration<double>(now - plan.measure_from).count());
          if (second < result.per_second.size()) ++result.per_second[second];
          if (status < 200 || status > 299) ++result.non_2xx;
          ++c.measured;
        }
        c.in.erase(0, used);
        if (close) {
          reset_connection(i);
          continue;
        }
        if (plan.rate > 0) {
          c.paced = true;
          c.due = std::max(c.due + interval, now - interval);  // no burst to catch up
          continue;
        }
        c.sent = 0;
        c.started = now;
        send_request(i);
      }
    }
    for (auto& c : conns) {
      if (c.measured == 0) ++result.starved;
      ::close(c.fd);
    }
    ::close(ep);
  };

  std::vector<std::thread> pool;
  for (int t = 0; t < plan.threads; ++t) {
    const int count =
        plan.connections / plan.threads + (t < plan.connections % plan.threads ? 1 : 0);
    pool.emplace_back(run, t, count);
  }
  for (auto& t : pool) t.join();
  return results;
}

// What one keep-alive load requests, and the token scopes it needs.
struct LoadCase {
  std::string name;
  std::string method = "GET";
  std::string path;
  std::string accept;
  std::vector<std::string> scopes;
};

struct LoadOutcome {
  std::string line;  // the key=value result line, without a newline
  int status = 0;    // 2 if some responses were not 2xx
};

// Runs `load_case` with the load options of `args` (--connections, --threads,
// --duration, --warmup, --pid) and returns its result line.
LoadOutcome keepalive_load(const Args& args, const LoadCase& load_case) {
  const Target target = parse_url(args.str("url", "http://127.0.0.1:5000"));
  const int connections = static_cast<int>(args.integer("connections", 64));
  const int threads = static_cast<int>(args.integer("threads", 1));
  const double duration = args.real("duration", 10);
  const double warmup = args.real("warmup", 1);
  const std::string& name = load_case.name;
  const std::string& method = load_case.method;
  const std::string& path = load_case.path;

  // /api/v1 takes the API's own bearer token (OAuth), not a /v2/auth token.
  g_bearer_token = load_case.path.starts_with("/api/")
                       ? api_token(args)
                       : fetch_token(target, args, load_case.scopes);
  LoadPlan plan;
  plan.addr = load_address(target);
  plan.request = load_request(target, method, path, load_case.accept);
  plan.head_request = method == "HEAD";
  plan.connections = connections;
  plan.threads = threads;
  plan.rate = args.real("rate", 0);

  const double cpu0 = process_cpu_seconds();
  const auto start = Clock::now();
  plan.origin = start;
  plan.measure_from =
      start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(warmup));
  plan.deadline = plan.measure_from + std::chrono::duration_cast<Clock::duration>(
                                          std::chrono::duration<double>(duration));
  RssSampler rss(args.integer("pid", 0), std::chrono::milliseconds(20));
  rss.start();
  std::vector<LoadThreadResult> results = run_load(plan);
  rss.stop();

  std::vector<double> latencies;
  std::vector<std::uint64_t> per_second(static_cast<std::size_t>(duration) + 2, 0);
  long non_2xx = 0, errors = 0, connects = 0, starved = 0;
  for (auto& r : results) {
    for (auto us : r.latencies_us) latencies.push_back(us / 1000.0);
    for (std::size_t s = 0; s < r.per_second.size() && s < per_second.size(); ++s) {
      per_second[s] += r.per_second[s];
    }
    non_2xx += r.non_2xx;
    errors += r.errors;
    connects += r.connects;
    starved += r.starved;
  }
  if (latencies.empty()) die(name + ": no responses");
  const LatencyStats lat = latency_stats(latencies);
  const double rps = static_cast<double>(latencies.size()) / duration;
  // The slowest whole second shows stalls that an average hides.
  std::uint64_t worst_second = UINT64_MAX;
  for (std::size_t s = 0; s < static_cast<std::size_t>(duration); ++s) {
    worst_second = std::min(worst_second, per_second[s]);
  }
  const double client_cpu = process_cpu_seconds() - cpu0;
  const double wall = seconds_since(start);
  std::fprintf(stderr,
               "%s: %s %s, %d connections: %.0f req/s, p50 %.2f ms, p99 %.2f ms, max %.1f ms, "
               "slowest second %" PRIu64
               " req, non-2xx %ld, socket errors %ld, connects %ld, "
               "starved connections %ld, client CPU %.0f%%\n",
               name.c_str(), method.c_str(), path.c_str(), connections, rps, lat.p50_ms, lat.p99_ms,
               lat.max_ms, worst_second, non_2xx, errors, connects, starved,
               100.0 * client_cpu / wall);
  char line[1024];
  std::snprintf(line, sizeof line,
                "case=%s rps=%s p50_ms=%s p99_ms=%s max_ms=%s min_1s=%" PRIu64
                " ok=%zu non_2xx=%ld errors=%ld connects=%ld starved_conns=%ld client_cpu_pct=%s "
                "rss_idle_kib=%ld rss_peak_kib=%ld%s",
                name.c_str(), fmt(rps, 0).c_str(), fmt(lat.p50_ms, 2).c_str(),
                fmt(lat.p99_ms, 2).c_str(), fmt(lat.max_ms, 1).c_str(), worst_second,
                latencies.size(), non_2xx, errors, connects, starved,
                fmt(100.0 * client_cpu / wall, 0).c_str(), rss.idle_kib(), rss.peak_kib(),
                rss.cpu_fields().c_str());
  return LoadOutcome{line, non_2xx > 0 ? 2 : 0};
}

// The scopes a request to `path` needs: the catalog its own, anything else pull
// and push on the repository the path names.
std::vector<std::string> scopes_for_path(const std::string& path, const std::string& repo) {
  if (path.starts_with("/v2/_catalog")) return {"registry:catalog:*"};
  return repository_scopes({repo.empty() ? repo_of_path(path) : repo});
}

int cmd_load(const Args& args) {
  LoadCase load_case;
  load_case.name = args.str("name", "load");
  load_case.method = args.str("method", "GET");
  load_case.path = args.str("path", "/v2/");
  load_case.accept = args.str("accept", "");
  load_case.scopes = args.flag("scope") ? std::vector<std::string>{args.str("scope", "")}
                                        : scopes_for_path(load_case.path, args.str("repo", ""));
  const LoadOutcome outcome = keepalive_load(args, load_case);
  std::printf("%s\n", outcome.line.c_str());
  return outcome.status;
}

// tags: GET /v2/<repo>/tags/list (the whole list in one response) under load,
// on a repository holding --count tags. The tags (t0000, t0001, ...) all name
// one small manifest; they are pushed only if missing, so later rounds reuse them.
int cmd_tags(const Args& args) {
  const Target target = parse_url(args.str("url", "http://127.0.0.1:5000"));
  const std::string repo = args.str("repo", "bench/tags");
  const long count = args.integer("count", 2000);
  const int concurrency = static_cast<int>(args.integer("seed-concurrency", 8));
  const std::string name = args.str("name", "tags_list");
  const std::string path = "/v2/" + repo + "/tags/list";
  authorize(target, args, {repo});
  RegistryClient client(target);

  auto list = [&] {
    auto res = client.get(path);
    if (res->status == 404) return std::vector<std::string>{};  // no repository yet
    if (res->status != 200) die(path + ": HTTP " + std::to_string(res->status));
    return json_string_array(res->body, "tags");
  };
  std::set<std::string> have;
  for (auto& tag : list()) have.insert(std::move(tag));
  std::vector<std::string> missing;
  for (long i = 0; i < count; ++i) {
    if (!have.contains(numbered("t", i))) missing.push_back(numbered("t", i));
  }
  const auto seed_start = Clock::now();
  if (!missing.empty()) {
    const TinyImage image = make_tiny_image(1024);
    push_tiny_blobs(client, repo, image);
    const std::string manifest = image.manifest();
    WorkResult seeded = run_workers(
        target, g_bearer_token, concurrency, static_cast<long>(missing.size()), 0,
        [&](RegistryClient& c, int, long i) {
          c.put_manifest(repo, missing[static_cast<std::size_t>(i)], manifest, kOciManifestType);
        });
    if (seeded.errors > 0) die("tagging failed: " + seeded.first_error);
  }
  const double seed_s = seconds_since(seed_start);
  settle_after_seeding(!missing.empty());

  // The list the load will fetch really has every tag, in one response.
  auto res = client.get(path);
  if (res->status != 200) die(path + ": HTTP " + std::to_string(res->status));
  const std::vector<std::string> tags = json_string_array(res->body, "tags");
  const std::set<std::string> listed(tags.begin(), tags.end());
  for (long i = 0; i < count; ++i) {
    if (!listed.contains(numbered("t", i))) {
      die(path + " lacks tag " + numbered("t", i) + " (" + std::to_string(tags.size()) +
          " tags in one response; paged?)");
    }
  }
  std::fprintf(stderr, "%s: %s has %zu tags (%zu pushed now in %.1f s); the list is %zu bytes\n",
               name.c_str(), repo.c_str(), tags.size(), missing.size(), seed_s, res->body.size());

  LoadCase load_case{name, "GET", path, "", repository_scopes({repo})};
  const LoadOutcome outcome = keepalive_load(args, load_case);
  std::printf("%s tags=%zu seeded=%zu body_bytes=%zu\n", outcome.line.c_str(), tags.size(),
              missing.size(), res->body.size());
  return outcome.status;
}

// catalog: GET /v2/_catalog?n=--page under load, with --count repositories
// <prefix>0000, <prefix>0001, ... each holding one small image. Missing ones
// are pushed: the blobs once, into the first repository, and mounted from
// there into the others (uploaded where the registry does not mount).
int cmd_catalog(const Args& args) {
  const Target target = parse_url(args.str("url", "http://127.0.0.1:5000"));
  const std::string prefix = args.str("prefix", "bench/cat-");
  const long count = args.integer("count", 500);
  const long page = args.integer("page", 1000);
  const int concurrency = static_cast<int>(args.integer("seed-concurrency", 8));
  const std::string name = args.str("name", "catalog");
  const std::string path = "/v2/_catalog?n=" + std::to_string(page);
  // quayd lists what the token's user may see; registry:catalog:* is the scope a
  // 401 on /v2/_catalog asks for.
  const std::vector<std::string> catalog_scope{"registry:catalog:*"};
  const std::string catalog_token = fetch_token(target, args, catalog_scope);
  RegistryClient lister(target, catalog_token);

  auto list = [&] {
    auto res = lister.get(path);
    if (res->status != 200) die(path + ": HTTP " + std::to_string(res->status));
    return std::make_pair(json_string_array(res->body, "repositories"), res->body.size());
  };
  std::set<std::string> have;
  for (auto& repo : list().first) have.insert(std::move(repo));
  std::vector<std::string> missing;
  for (long i = 0; i < count; ++i) {
    if (!have.contains(numbered(prefix, i))) missing.push_back(numbered(prefix, i));
  }
  const auto seed_start = Clock::now();
  std::atomic<long> mounted{0};
  if (!missing.empty()) {
    const std::string source = numbered(prefix, 0);
    const TinyImage image = make_tiny_image(1024);
    const std::string manifest = image.manifest();
    // quayd takes at most 64 scopes per token, and the token request is a GET
    // whose URL must stay short: one token per batch of repositories.
    constexpr std::size_t kBatch = 48;
    for (std::size_t first = 0; first < missing.size(); first += kBatch) {
      const std::vector<std::string> batch(
          missing.begin() + static_cast<std::ptrdiff_t>(first),
          missing.begin() + static_cast<std::ptrdiff_t>(std::min(missing.size(), first + kBatch)));
      std::vector<std::string> repos{source};
      repos.insert(repos.end(), batch.begin(), batch.end());
      const std::string token = fetch_token(target, args, repository_scopes(repos));
      if (first == 0) {  // the blobs of this run's image, for the mounts to find
        RegistryClient source_client(target, token);
        push_tiny_blobs(source_client, source, image);
      }
      WorkResult seeded = run_workers(
          target, token, concurrency, static_cast<long>(batch.size()), 0,
          [&](RegistryClient& c, int, long i) {
            const std::string& repo = batch[static_cast<std::size_t>(i)];
            if (repo != source) {
              mounted += c.mount_or_push(repo, source, image.layer_digest, image.layer) ? 1 : 0;
              mounted += c.mount_or_push(repo, source, image.config_digest, image.config) ? 1 : 0;
            }
            c.put_manifest(repo, "latest", manifest, kOciManifestType);
          });
      if (seeded.errors > 0) die("seeding repositories failed: " + seeded.first_error);
    }
  }
  const double seed_s = seconds_since(seed_start);
  settle_after_seeding(!missing.empty());

  // One page holds every repository (others may be listed too).
  const auto [repos, body_bytes] = list();
  const std::set<std::string> listed(repos.begin(), repos.end());
  for (long i = 0; i < count; ++i) {
    if (!listed.contains(numbered(prefix, i))) {
      die(path + " lacks " + numbered(prefix, i) + " (" + std::to_string(repos.size()) +
          " names in one response)");
    }
  }
  std::fprintf(stderr,
               "%s: the catalog lists %zu repositories (%zu pushed now in %.1f s, %ld blobs "
               "mounted); one page is %zu bytes\n",
               name.c_str(), repos.size(), missing.size(), seed_s, mounted.load(), body_bytes);

  LoadCase load_case{name, "GET", path, "", catalog_scope};
  const LoadOutcome outcome = keepalive_load(args, load_case);
  std::printf("%s repos=%ld listed=%zu seeded=%zu body_bytes=%zu\n", outcome.line.c_str(), count,
              repos.size(), missing.size(), body_bytes);
  return outcome.status;
}

// manifests: N clients PUT distinct small manifests (a unique annotation each)
// that reference one config and layer pushed beforehand, under unique tags or
// (--by-digest) by digest only, for --duration seconds or --count manifests.
int cmd_manifests(const Args& args) {
  const Target target = parse_url(args.str("url", "http://127.0.0.1:5000"));
  const std::string repo = args.str("repo", "bench/manifests");
  authorize(target, args, {repo});
  const int concurrency = static_cast<int>(args.integer("concurrency", 8));
  const double duration = args.real("duration", 0);
  const long count = args.integer("count", duration > 0 ? 0 : 64);
  const std::string name = args.str("name", "manifest_put");
  const bool by_digest = args.flag("by-digest");

  const TinyImage image = make_tiny_image(1024);
  {
    RegistryClient client(target);
    push_tiny_blobs(client, repo, image);
  }
  const std::string nonce = run_nonce();
  auto put = [&](RegistryClient& client, int worker, long index) {
    const std::string id = nonce + "-" + std::to_string(worker) + "-" + std::to_string(index);
    const std::string body = image.manifest(id);
    client.put_manifest(repo, by_digest ? sha256_of(body) : "m-" + id, body, kOciManifestType);
  };

  // Warm-up, as for push: connection set-up and first-touch costs in the server
  // are not measured.
  if (!args.flag("no-warmup")) {
    const int warm = std::min(concurrency, 4);
    WorkResult w = run_workers(
        target, g_bearer_token, warm, warm, 0,
        [&](RegistryClient& c, int worker, long index) { put(c, 1000 + worker, index); });
    if (w.errors > 0) die("warm-up manifest PUT failed: " + w.first_error);
  }

  RssSampler rss(args.integer("pid", 0), std::chrono::milliseconds(20));
  rss.start();
  const double cpu0 = process_cpu_seconds();
  WorkResult r = run_workers(target, g_bearer_token, concurrency, count, duration, put);
  const std::string client_cpu = cpu_pct(cpu0, r.elapsed);
  rss.stop();

  const long ok = static_cast<long>(r.latencies_ms.size());
  if (!r.first_error.empty()) std::fprintf(stderr, "first error: %s\n", r.first_error.c_str());
  if (ok == 0) die("no successful manifest PUTs");
  const LatencyStats lat = latency_stats(r.latencies_ms);
  const double ops = static_cast<double>(ok) / r.elapsed;
  std::fprintf(stderr,
               "%s: %ld manifests %s, %d clients, %.2f s: %.1f ops/s, p50 %.2f ms, p99 %.2f ms, "
               "errors %ld, client CPU %s%%\n",
               name.c_str(), ok, by_digest ? "by digest" : "by tag", concurrency, r.elapsed, ops,
               lat.p50_ms, lat.p99_ms, r.errors, client_cpu.c_str());
  std::printf(
      "case=%s ops_s=%s p50_ms=%s p99_ms=%s max_ms=%s ok=%ld errors=%ld client_cpu_pct=%s "
      "rss_idle_kib=%ld rss_peak_kib=%ld%s\n",
      name.c_str(), fmt(ops).c_str(), fmt(lat.p50_ms, 2).c_str(), fmt(lat.p99_ms, 2).c_str(),
      fmt(lat.max_ms, 2).c_str(), ok, r.errors, client_cpu.c_str(), rss.idle_kib(), rss.peak_kib(),
      rss.cpu_fields().c_str());
  return r.errors > 0 ? 2 : 0;
}

// tagput: Quay's REST tag change, PUT /api/v1/repository/<repo>/tag/<tag>
// {"manifest_digest": D}, from N clients for --duration seconds or --count
// changes. Two small manifests are pushed to <repo> first (over /v2, with the
// registry's token auth); client w then moves its own tag p<w> back and forth
// between them, so that every PUT after a client's first is a real move (a
// new tag row, the old one ended, a move_tag audit row). The API token comes
// from --bearer or QUAY_BENCH_API_TOKEN.
int cmd_tagput(const Args& args) {
  const Target target = parse_url(args.str("url", "http://127.0.0.1:5000"));
  const std::string repo = args.str("repo", "bench/tagput");
  const int concurrency = static_cast<int>(args.integer("concurrency", 8));
  const double duration = args.real("duration", 0);
  const long count = args.integer("count", duration > 0 ? 0 : 64);
  const std::string name = args.str("name", "rest_tag_put");
  const std::string token = api_token(args);
  if (token.empty()) die("tagput needs an API token (--bearer or QUAY_BENCH_API_TOKEN)");

  authorize(target, args, {repo});
  const TinyImage image = make_tiny_image(1024);
  std::string digests[2];
  {
    RegistryClient client(target);
    push_tiny_blobs(client, repo, image);
    const std::string nonce = run_nonce();
    for (int k = 0; k < 2; ++k) {
      const std::string body = image.manifest(nonce + "-" + std::to_string(k));
      digests[k] = sha256_of(body);
      client.put_manifest(repo, "base-" + std::to_string(k), body, kOciManifestType);
    }
  }
  const std::string prefix = "/api/v1/repository/" + repo + "/tag/p";
  auto put = [&](RegistryClient& client, int worker, long index) {
    client.put_json(prefix + std::to_string(worker),
                    R"({"manifest_digest":")" + digests[index % 2] + "\"}", 201);
  };
  // Warm-up: each client's first PUT creates its tag (create_tag, not a move).
  {
    WorkResult w = run_workers(target, token, concurrency, concurrency, 0,
                               [&](RegistryClient& c, int worker, long) { put(c, worker, 1); });
    if (w.errors > 0) die("warm-up tag PUT failed: " + w.first_error);
  }

  RssSampler rss(args.integer("pid", 0), std::chrono::milliseconds(20));
  rss.start();
  const double cpu0 = process_cpu_seconds();
  std::vector<long> per_worker(static_cast<std::size_t>(concurrency), 0);
  WorkResult r = run_workers(target, token, concurrency, count, duration,
                             [&](RegistryClient& c, int worker, long) {
                               put(c, worker, per_worker[static_cast<std::size_t>(worker)]++);
                             });
  const std::string client_cpu = cpu_pct(cpu0, r.elapsed);
  rss.stop();

  const long ok = static_cast<long>(r.latencies_ms.size());
  if (!r.first_error.empty()) std::fprintf(stderr, "first error: %s\n", r.first_error.c_str());
  if (ok == 0) die("no successful tag PUTs");
  const LatencyStats lat = latency_stats(r.latencies_ms);
  const double ops = static_cast<double>(ok) / r.elapsed;
  std::fprintf(stderr,
               "%s: %ld tag moves, %d clients, %.2f s: %.1f ops/s, p50 %.2f ms, p99 %.2f ms, "
               "errors %ld, client CPU %s%%\n",
               name.c_str(), ok, concurrency, r.elapsed, ops, lat.p50_ms, lat.p99_ms, r.errors,
               client_cpu.c_str());
  std::printf(
      "case=%s ops_s=%s p50_ms=%s p99_ms=%s max_ms=%s ok=%ld errors=%ld client_cpu_pct=%s "
      "rss_idle_kib=%ld rss_peak_kib=%ld%s\n",
      name.c_str(), fmt(ops).c_str(), fmt(lat.p50_ms, 2).c_str(), fmt(lat.p99_ms, 2).c_str(),
      fmt(lat.max_ms, 2).c_str(), ok, r.errors, client_cpu.c_str(), rss.idle_kib(), rss.peak_kib(),
      rss.cpu_fields().c_str());
  return r.errors > 0 ? 2 : 0;
}

// ---------------------------------------------------------------------------
// gcload: GET load while the server collects garbage, timed against the
// collection's own log line.

// Value of `key` in a log line, logfmt (key=value, key="value") or JSON
// ("key":"value", "key":value); "" if absent.
std::string log_field(const std::string& line, const std::string& key) {
  std::size_t at = std::string::npos;
  if (line.starts_with(key + "=")) {
    at = key.size() + 1;
  } else if (auto p = line.find(" " + key + "="); p != std::string::npos) {
    at = p + key.size() + 2;
  } else if (auto q = line.find("\"" + key + "\":"); q != std::string::npos) {
    at = q + key.size() + 3;
  }
  if (at == std::string::npos || at >= line.size()) return "";
  if (line[at] == '"') {
    const auto end = line.find('"', at + 1);
    return end == std::string::npos ? "" : line.substr(at + 1, end - at - 1);
  }
  return line.substr(at, line.find_first_of(" ,}\r\n", at) - at);
}

// "2026-11-27T01:02:03.456Z" (quayd's log timestamps) as a system_clock time.
std::optional<std::chrono::system_clock::time_point> parse_utc(const std::string& text) {
  std::tm tm{};
  int millis = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &millis) != 7) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return std::chrono::system_clock::from_time_t(timegm(&tm)) + std::chrono::milliseconds(millis);
}

// The complete lines appended to a file since the previous call.
class LogTail {
 public:
  explicit LogTail(std::string path) : path_(std::move(path)) {}
  std::vector<std::string> poll() {
    std::vector<std::string> lines;
    std::ifstream in(path_, std::ios::binary);
    if (!in) return lines;
    in.seekg(static_cast<std::streamoff>(offset_));
    std::string chunk((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    offset_ += chunk.size();
    partial_ += chunk;
    std::size_t begin = 0;
    for (auto eol = partial_.find('\n'); eol != std::string::npos;
         eol = partial_.find('\n', begin)) {
      lines.push_back(partial_.substr(begin, eol - begin));
      begin = eol + 1;
    }
    partial_.erase(0, begin);
    return lines;
  }

 private:
  std::string path_;
  std::uint64_t offset_ = 0;
  std::string partial_;
};

struct SpanStats {
  std::vector<double> latencies_ms;
  long non_2xx = 0;
  long completed_inside = 0;  // completions inside the window, for a rate
};

// Keeps a GET load (--connections, default 64) on --path running until the
// server's log (--log) shows a "collected garbage" line with manifests_deleted
// >= --min-deleted, then --after seconds more. The collection ran from the
// line's ts minus its duration_ms to its ts; requests in flight at any time in
// that window give the latency during GC, those completed between the warm-up
// and the window the latency before it.
int cmd_gcload(const Args& args) {
  const Target target = parse_url(args.str("url", "http://127.0.0.1:5000"));
  const std::string path = args.str("path", "/v2/bench/gc/manifests/live");
  const std::string log_path = args.str("log", "");
  const long min_deleted = args.integer("min-deleted", 1);
  const double timeout = args.real("timeout", 300);
  const double after = args.real("after", 0.5);
  const double warmup = args.real("warmup", 1);
  const std::string name = args.str("name", "gc");
  if (log_path.empty()) die("gcload needs --log FILE (the server's log)");

  g_bearer_token = fetch_token(target, args, scopes_for_path(path, args.str("repo", "")));
  std::atomic<bool> stop{false};
  LoadPlan plan;
  plan.addr = load_address(target);
  plan.request = load_request(target, "GET", path, args.str("accept", ""));
  plan.connections = static_cast<int>(args.integer("connections", 64));
  plan.threads = static_cast<int>(args.integer("threads", 1));
  plan.stop = &stop;
  plan.record_spans = true;

  LogTail tail(log_path);
  tail.poll();  // only collections that end after the load started count
  const double cpu0 = process_cpu_seconds();
  const auto sys0 = std::chrono::system_clock::now();
  plan.origin = Clock::now();
  plan.measure_from = plan.origin;
  plan.deadline = plan.origin + std::chrono::duration_cast<Clock::duration>(
                                    std::chrono::duration<double>(timeout));
  RssSampler rss(args.integer("pid", 0), std::chrono::milliseconds(20));
  rss.start();
  std::vector<LoadThreadResult> results;
  std::thread load([&] { results = run_load(plan); });

  std::string gc_line, failure;
  Clock::time_point seen_at;
  while (Clock::now() < plan.deadline && gc_line.empty() && failure.empty()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    for (const std::string& line : tail.poll()) {
      if (line.find("failed to collect garbage") != std::string::npos) failure = line;
      if (line.find("collected garbage") == std::string::npos) continue;
      const long deleted = std::atol(log_field(line, "manifests_deleted").c_str());
      std::fprintf(stderr, "%s: %s\n", name.c_str(), line.c_str());
      if (deleted >= min_deleted && gc_line.empty()) {
        gc_line = line;
        seen_at = Clock::now();
      }
    }
  }
  if (!gc_line.empty()) {
    std::this_thread::sleep_for(
        std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(after)));
  }
  stop = true;
  load.join();
  rss.stop();
  const double wall = seconds_since(plan.origin);
  if (!failure.empty()) die("the collection failed: " + failure);
  if (gc_line.empty()) {
    die("no \"collected garbage\" line with manifests_deleted >= " + std::to_string(min_deleted) +
        " in " + log_path + " within " + fmt(timeout, 0) + " s");
  }

  // The window on the load's clock. Without a parsable ts, the moment the
  // line was read stands in for the end (late by up to one poll).
  const long long gc_ms = std::atoll(log_field(gc_line, "duration_ms").c_str());
  Clock::time_point gc_end = seen_at;
  if (auto ts = parse_utc(log_field(gc_line, "ts"))) {
    gc_end = plan.origin + std::chrono::duration_cast<Clock::duration>(*ts - sys0);
  }
  const auto us = [&](Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t - plan.origin).count();
  };
  const long long end_us = us(gc_end);
  const long long start_us = end_us - gc_ms * 1000;
  const long long warm_us = static_cast<long long>(warmup * 1e6);

  SpanStats during, before;
  long errors = 0, connects = 0;
  for (const auto& r : results) {
    errors += r.errors;
    connects += r.connects;
    for (const LoadSpan& s : r.spans) {
      const long long s0 = s.start_us;
      const long long s1 = s0 + s.latency_us;
      const bool bad = s.status < 200 || s.status > 299;
      SpanStats* into = nullptr;
      if (s0 < end_us && s1 > start_us) {
        into = &during;
        if (s1 <= end_us) ++during.completed_inside;
      } else if (s1 >= warm_us && s1 <= start_us) {
        into = &before;
        ++before.completed_inside;
      }
      if (into == nullptr) continue;
      into->latencies_ms.push_back(s.latency_us / 1000.0);
      if (bad) ++into->non_2xx;
    }
  }
  if (start_us < 0) {
    std::fprintf(stderr, "%s: warning: the collection began %.2f s before the load\n", name.c_str(),
                 -start_us / 1e6);
  }
  if (during.latencies_ms.empty()) die("no request overlapped the collection");
  const LatencyStats lat = latency_stats(during.latencies_ms);
  const LatencyStats base = latency_stats(before.latencies_ms);
  const double gc_s = std::max(1e-3, static_cast<double>(gc_ms) / 1000.0);
  const double before_s = static_cast<double>(start_us - warm_us) / 1e6;
  const double rps_during = static_cast<double>(during.completed_inside) / gc_s;
  const double rps_before =
      before_s > 0 ? static_cast<double>(before.completed_inside) / before_s : 0;
  const std::string client_cpu = cpu_pct(cpu0, wall);
  std::fprintf(stderr,
               "%s: collection %lld ms (manifests_deleted=%s); GET during it: %zu requests, "
               "%.0f req/s, p50 %.2f ms, p99 %.2f ms, max %.1f ms; before it: %.0f req/s, p99 "
               "%.2f ms; non-2xx %ld, socket errors %ld\n",
               name.c_str(), gc_ms, log_field(gc_line, "manifests_deleted").c_str(),
               during.latencies_ms.size(), rps_during, lat.p50_ms, lat.p99_ms, lat.max_ms,
               rps_before, base.p99_ms, during.non_2xx + before.non_2xx, errors);
  std::printf(
      "case=%s gc_ms=%lld manifests_deleted=%s tags_expired=%s blobs_deleted=%s "
      "gc_started_before_load=%d p50_ms=%s p99_ms=%s max_ms=%s ok=%zu rps=%s p99_before_ms=%s "
      "rps_before=%s non_2xx=%ld errors=%ld connects=%ld client_cpu_pct=%s rss_idle_kib=%ld "
      "rss_peak_kib=%ld%s\n",
      name.c_str(), gc_ms, log_field(gc_line, "manifests_deleted").c_str(),
      log_field(gc_line, "tags_expired").c_str(), log_field(gc_line, "blobs_deleted").c_str(),
      start_us < 0 ? 1 : 0, fmt(lat.p50_ms, 2).c_str(), fmt(lat.p99_ms, 2).c_str(),
      fmt(lat.max_ms, 1).c_str(), during.latencies_ms.size(), fmt(rps_during, 0).c_str(),
      fmt(base.p99_ms, 2).c_str(), fmt(rps_before, 0).c_str(), during.non_2xx + before.non_2xx,
      errors, connects, client_cpu.c_str(), rss.idle_kib(), rss.peak_kib(),
      rss.cpu_fields().c_str());
  return during.non_2xx + before.non_2xx > 0 ? 2 : 0;
}

std::atomic<bool> g_stop_sampling{false};
extern "C" void on_stop_signal(int) { g_stop_sampling = true; }

// rss: sample a process's VmRSS until SIGINT/SIGTERM (or --duration), then report
// the first sample (idle), the peak and VmHWM.
int cmd_rss(const Args& args) {
  const long pid = args.integer("pid", 0);
  const auto interval = std::chrono::milliseconds(args.integer("interval-ms", 20));
  const double duration = args.real("duration", 0);
  if (pid <= 0) die("rss needs --pid");
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  const long idle = read_proc_memory(pid).rss_kib;
  if (idle < 0) die("cannot read /proc/" + std::to_string(pid) + "/status");
  long peak = idle;
  long samples = 0;
  const auto start = Clock::now();
  while (!g_stop_sampling && (duration <= 0 || seconds_since(start) < duration)) {
    long rss = read_proc_memory(pid).rss_kib;
    if (rss < 0) break;  // process exited
    peak = std::max(peak, rss);
    ++samples;
    std::this_thread::sleep_for(interval);
  }
  const ProcMemory last = read_proc_memory(pid);
  std::printf(
      "case=rss rss_idle_kib=%ld rss_peak_kib=%ld rss_last_kib=%ld hwm_kib=%ld samples=%ld\n", idle,
      peak, last.rss_kib, last.hwm_kib, samples);
  std::fflush(stdout);
  return 0;
}

void usage() {
  std::fputs(
      "usage: quay-bench <command> [--url http://127.0.0.1:5000] [options]\n"
      "  seed     [--repo bench/app] [--tag bench]         push a small tagged OCI image\n"
      "  push     [--size 1MiB] [--concurrency 8] [--duration S | --count N] [--repo R]\n"
      "           monolithic POST + PUT ?digest= of unique blobs\n"
      "  chunked  [--size 64MiB] [--chunk 8MiB] [--count 4]  POST, PATCH..., PUT ?digest=\n"
      "  pull     [--size 256MiB] [--count 4]               GET one blob repeatedly\n"
      "  big      [--size 2GiB] [--pid PID] [--verify]      stream one blob up and down\n"
      "  load     --method HEAD|GET --path P [--accept A] [--connections 64] [--threads 1]\n"
      "           [--duration 10] [--warmup 1] [--rate R]   keep-alive request load, req/s +\n"
      "           latency; --rate paces all connections to R req/s (default: closed loop)\n"
      "  tags     [--repo bench/tags] [--count 2000] + load options\n"
      "           tag one small manifest --count times (once), then load GET tags/list\n"
      "  catalog  [--prefix bench/cat-] [--count 500] [--page 1000] + load options\n"
      "           push --count small repositories (once), then load GET _catalog?n=PAGE\n"
      "  manifests [--repo bench/manifests] [--concurrency 8] [--duration S | --count N]\n"
      "           [--by-digest] [--no-warmup]  PUT distinct small manifests (one config+layer)\n"
      "  tagput   [--repo bench/tagput] [--concurrency 8] [--duration S | --count N]\n"
      "           PUT /api/v1/repository/REPO/tag/TAG {manifest_digest} (Quay REST API),\n"
      "           each client moving its tag between two manifests\n"
      "  gcload   --path P --log SERVER_LOG [--min-deleted N] [--connections 64]\n"
      "           [--timeout 300] [--after 0.5]  GET load until the log shows a collection\n"
      "           of >= N manifests; GC duration and GET latency during it\n"
      "  limits   [--dir D] [--size 256MiB] [--small 1MiB] [--clients 8] [--seconds 3]\n"
      "           the machine's own bounds: SHA-256 on one thread, write+fdatasync into D,\n"
      "           small files written+fdatasync'd per second, loopback TCP throughput;\n"
      "           --files truncate: leave its files in D, emptied, instead of unlinking\n"
      "  rss      --pid PID [--interval-ms 20] [--duration S]  sample VmRSS until SIGTERM\n"
      "common: --name CASE (result label), --pid PID (sample server RSS during the case),\n"
      "        --user U --password P (or QUAY_BENCH_USER/QUAY_BENCH_PASSWORD) for token auth;\n"
      "        --bearer T (or QUAY_BENCH_API_TOKEN): the token of /api/v1 paths (load, tagput)\n",
      stderr);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    usage();
    return 64;
  }
  const std::string command = argv[1];
  const Args args(argc, argv, 2);
  try {
    if (command == "seed") return cmd_seed(args);
    if (command == "push") return cmd_push(args);
    if (command == "chunked") return cmd_chunked(args);
    if (command == "pull") return cmd_pull(args);
    if (command == "big") return cmd_big(args);
    if (command == "rss") return cmd_rss(args);
    if (command == "load") return cmd_load(args);
    if (command == "tags") return cmd_tags(args);
    if (command == "catalog") return cmd_catalog(args);
    if (command == "manifests") return cmd_manifests(args);
    if (command == "tagput") return cmd_tagput(args);
    if (command == "gcload") return cmd_gcload(args);
    if (command == "limits") return cmd_limits(args);
  } catch (const std::exception& e) {
    die(command + ": " + e.what());
  }
  usage();
  return 64;
}
