#include "http_test_support.h"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <rapidjson/document.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include "host/obs/structured_logger.h"
#include "quay/options.h"
#include "test_database.h"

namespace quayd::testing {

// ---- LogCapture ----

std::shared_ptr<quay::Logger> LogCapture::logger() {
  return std::make_shared<StructuredLogger>(quay::LogLevel::kDebug, LogFormat::kText,
                                            [this](std::string_view line) {
                                              std::lock_guard<std::mutex> lock(mu_);
                                              lines_.emplace_back(line);
                                            });
}

std::vector<std::string> LogCapture::lines() const {
  std::lock_guard<std::mutex> lock(mu_);
  return lines_;
}

std::vector<std::string> LogCapture::Find(std::initializer_list<std::string_view> needles) const {
  std::vector<std::string> out;
  for (const std::string& line : lines()) {
    bool all = true;
    for (std::string_view needle : needles) {
      if (line.find(needle) == std::string::npos) {
        all = false;
        break;
      }
    }
    if (all) out.push_back(line);
  }
  return out;
}

std::vector<std::string> LogCapture::WaitFind(std::initializer_list<std::string_view> needles,
                                              int timeout_ms) const {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    std::vector<std::string> found = Find(needles);
    if (!found.empty() || std::chrono::steady_clock::now() >= deadline) return found;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

std::string LogCapture::all() const {
  std::string out;
  for (const std::string& line : lines()) out += line;
  return out;
}

// ---- TempDir ----

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/quay-http-test.XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

// ---- TestServer ----

TestServer::TestServer(ServerOptions options) {
  if (!options.data_dir.empty()) {
    data_dir_ = options.data_dir;
  } else if (options.on_disk) {
    temp_ = std::make_unique<TempDir>();
    data_dir_ = temp_->path();
  }
  quay::Options registry_options;
  registry_options.data_dir = data_dir_;
  registry_options.logger = logs_.logger();
  registry_options.identity = options.identity;
  registry_options.clock = options.clock;
  registry_options.blob_store = options.blob_store;
  if (options.tag_policies) {
    registry_options.tag_policies = *options.tag_policies;
  } else {
    registry_options.tag_policies.immutable_tags =
        options.api.features[static_cast<size_t>(quayd::Feature::kImmutableTags)];
    registry_options.tag_policies.auto_prune =
        options.api.features[static_cast<size_t>(quayd::Feature::kAutoPrune)];
  }
  quay::Result<std::unique_ptr<quay::Registry>> opened =
      quay::Registry::Open(quay::testing::WithTestDatabase(registry_options));
  if (!opened.ok()) throw std::runtime_error("Registry::Open: " + opened.status().ToString());
  registry_ = std::move(opened).value();
  if (options.token_auth) {
    auto identity = quay::IdentityService::Open(registry_options, *registry_);
    if (!identity.ok())
      throw std::runtime_error("IdentityService::Open: " + identity.status().ToString());
    identity_ = std::move(identity).value();
    quayd::RegistryAuthOptions auth_options = options.auth;
    auth_options.anonymous_access = options.identity.anonymous_access;
    auto auth = quayd::RegistryAuth::Open(*identity_, auth_options, options.clock, logs_.logger());
    if (!auth.ok()) throw std::runtime_error("RegistryAuth::Open: " + auth.status().ToString());
    auth_ = std::move(auth).value();
  }

  ServerConfig config;
  config.host = "127.0.0.1";
  config.port = 0;
  config.threads = options.threads;
  config.io_timeout = options.io_timeout;
  config.keep_alive_timeout = options.keep_alive_timeout;
  config.next_request_wait = options.next_request_wait;
  config.max_connections_per_address = options.max_connections_per_address;
  config.idle_thread_timeout = options.idle_thread_timeout;
  config.logger = logs_.logger();
  config.authorizer = options.authorizer;
  config.auth = auth_;
  config.limits = options.limits;
  config.api = options.api;
  config.session_key = options.session_key;
  config.clock = options.clock;
  config.data_dir = data_dir_;
  config.health_min_free_bytes = options.health_min_free_bytes;
  config.health_probe_interval = std::chrono::milliseconds(0);
  server_ = std::make_unique<Server>(*registry_, config);
  quay::Status started = server_->Start();
  if (!started.ok()) throw std::runtime_error("Server::Start: " + started.ToString());
  port_ = server_->port();
}

TestServer::~TestServer() { Shutdown(); }

void TestServer::Shutdown() {
  if (server_) server_->Stop();
  if (auth_) {
    // The server holds the RegistryAuth too; it must go before the
    // IdentityService it refers to.
    server_.reset();
    auth_.reset();
  }
  identity_.reset();
  registry_.reset();
}

std::unique_ptr<httplib::Client> TestServer::Client() const {
  auto client = std::make_unique<httplib::Client>("127.0.0.1", port());
  client->set_keep_alive(true);
  client->set_connection_timeout(5);
  client->set_read_timeout(15);
  client->set_write_timeout(15);
  return client;
}

std::string StartUpload(TestServer& server, const std::string& repo) {
  auto client = server.Client();
  auto res = client->Post("/v2/" + repo + "/blobs/uploads/", "", "application/octet-stream");
  REQUIRE(res);
  REQUIRE(res->status == 202);
  return res->get_header_value("Location");
}

std::string UploadRange(TestServer& server, const std::string& location) {
  auto client = server.Client();
  auto res = client->Get(location);
  REQUIRE(res);
  REQUIRE(res->status == 204);
  return res->get_header_value("Range");
}

bool StillServes(int port) {
  httplib::Client client("127.0.0.1", port);
  client.set_read_timeout(5);
  httplib::Result res = client.Get("/v2/");
  // 401: token auth is on and the server answered the challenge.
  return res && (res->status == 200 || res->status == 401);
}

// ---- OCI helpers ----

std::string DigestOf(std::string_view data) { return quay::Digest::Of(data).str(); }

std::string ErrorCode(const std::string& body) {
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError() || !doc.IsObject() || !doc.HasMember("errors")) return "";
  const auto& errors = doc["errors"];
  if (!errors.IsArray() || errors.Empty() || !errors[0].IsObject()) return "";
  const auto& first = errors[0];
  if (!first.HasMember("code") || !first["code"].IsString()) return "";
  return first["code"].GetString();
}

int PushBlob(httplib::Client& client, std::string_view repo, const std::string& data) {
  std::string path = "/v2/" + std::string(repo) + "/blobs/uploads/?digest=" + DigestOf(data);
  httplib::Result res = client.Post(path, data, "application/octet-stream");
  return res ? res->status : 0;
}

namespace {

std::string DescriptorJson(std::string_view media_type, const BlobRef& ref) {
  return "{\"mediaType\":\"" + std::string(media_type) + "\",\"digest\":\"" + ref.digest +
         "\",\"size\":" + std::to_string(ref.size) + "}";
}

}  // namespace

std::string ImageManifest(const BlobRef& config, const std::vector<BlobRef>& layers,
                          std::optional<BlobRef> subject) {
  std::string out = "{\"schemaVersion\":2,\"mediaType\":\"" + std::string(kOciManifest) +
                    "\",\"config\":" + DescriptorJson(kOciConfig, config) + ",\"layers\":[";
  for (size_t i = 0; i < layers.size(); ++i) {
    if (i > 0) out += ',';
    out += DescriptorJson(kOciLayer, layers[i]);
  }
  out += ']';
  if (subject) out += ",\"subject\":" + DescriptorJson(kOciManifest, *subject);
  out += '}';
  return out;
}

std::string ArtifactManifest(std::string_view artifact_type, const BlobRef& layer,
                             const BlobRef& subject,
                             const std::vector<std::pair<std::string, std::string>>& annotations) {
  std::string out = "{\"schemaVersion\":2,\"mediaType\":\"" + std::string(kOciManifest) +
                    "\",\"artifactType\":\"" + std::string(artifact_type) + "\",\"config\":" +
                    DescriptorJson("application/vnd.oci.empty.v1+json", {DigestOf("{}"), 2}) +
                    ",\"layers\":[" + DescriptorJson("application/octet-stream", layer) +
                    "],\"subject\":" + DescriptorJson(kOciManifest, subject);
  if (!annotations.empty()) {
    out += ",\"annotations\":{";
    for (size_t i = 0; i < annotations.size(); ++i) {
      if (i > 0) out += ',';
      out += "\"" + annotations[i].first + "\":\"" + annotations[i].second + "\"";
    }
    out += '}';
  }
  out += '}';
  return out;
}

std::string PushImageBlobs(httplib::Client& client, std::string_view repo, std::string_view seed) {
  std::string config =
      "{\"architecture\":\"amd64\",\"os\":\"linux\",\"seed\":\"" + std::string(seed) + "\"}";
  std::string layer = "layer bytes for " + std::string(seed);
  if (PushBlob(client, repo, config) != 201 || PushBlob(client, repo, layer) != 201) {
    throw std::runtime_error("pushing image blobs failed");
  }
  return ImageManifest({DigestOf(config), config.size()}, {{DigestOf(layer), layer.size()}});
}

// ---- raw sockets ----

std::string RawResponse::Header(std::string_view name) const {
  size_t pos = head.find("\r\n");
  while (pos != std::string::npos && pos + 2 < head.size()) {
    size_t start = pos + 2;
    size_t end = head.find("\r\n", start);
    if (end == std::string::npos) end = head.size();
    std::string_view line(head.data() + start, end - start);
    size_t colon = line.find(':');
    if (colon != std::string_view::npos && colon == name.size() &&
        strncasecmp(line.data(), name.data(), name.size()) == 0) {
      std::string_view value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
      return std::string(value);
    }
    pos = end;
  }
  return "";
}

RawConnection::RawConnection(int port, const char* source) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) return;
  if (source != nullptr) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    if (::inet_pton(AF_INET, source, &local.sin_addr) != 1 ||
        ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof(local)) != 0) {
      ::close(fd_);
      fd_ = -1;
      return;
    }
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd_);
    fd_ = -1;
  }
}

RawConnection::~RawConnection() {
  if (fd_ >= 0) ::close(fd_);
}

bool RawConnection::Send(std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

void RawConnection::ShutdownWrite() { ::shutdown(fd_, SHUT_WR); }

namespace {

// Appends what arrives within timeout_ms; false on EOF, error or timeout.
bool ReadMore(int fd, std::string& buffer, int timeout_ms) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return false;
  char chunk[65536];
  ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
  if (n <= 0) return false;
  buffer.append(chunk, static_cast<size_t>(n));
  return true;
}

}  // namespace

RawResponse RawConnection::Read(int timeout_ms) {
  RawResponse out;
  size_t end;
  while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
    if (!ReadMore(fd_, buffer_, timeout_ms)) return out;
  }
  out.head = buffer_.substr(0, end);
  buffer_.erase(0, end + 4);
  if (out.head.size() > 12) out.status = std::atoi(out.head.c_str() + 9);
  size_t length =
      static_cast<size_t>(std::strtoull(out.Header("Content-Length").c_str(), nullptr, 10));
  while (buffer_.size() < length) {
    if (!ReadMore(fd_, buffer_, timeout_ms)) break;
  }
  out.body = buffer_.substr(0, std::min(length, buffer_.size()));
  buffer_.erase(0, out.body.size());
  return out;
}

bool RawConnection::Readable(int timeout_ms) {
  if (!buffer_.empty()) return true;
  pollfd p{fd_, POLLIN, 0};
  return ::poll(&p, 1, timeout_ms) > 0;
}

bool RawConnection::ClosedByPeer(int timeout_ms) {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return false;
  char c;
  ssize_t n = ::recv(fd_, &c, 1, MSG_PEEK);
  return n <= 0;
}

}  // namespace quayd::testing
