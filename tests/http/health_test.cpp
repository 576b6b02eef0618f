// The health routes (host/obs/health.h) on a real server: liveness,
// readiness from real probes (a failing blob store, a disk below the free
// space floor), Quay's /health shapes, and the startup responder that holds
// the port while quayd serve opens the registry (host/cmd/startup.h).
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <rapidjson/document.h>
#include <sys/socket.h>

#include "host/cmd/startup.h"
#include "http_test_support.h"
#include "quay/fault_blob_store.h"
#include "test_database.h"

using quayd::testing::ServerOptions;
using quayd::testing::TestServer;

namespace {

rapidjson::Document Json(const httplib::Result& r) {
  rapidjson::Document d;
  d.Parse(r->body.c_str());
  REQUIRE_FALSE(d.HasParseError());
  return d;
}

bool Service(const rapidjson::Document& d, const char* name) {
  return d["data"]["services"][name].GetBool();
}

}  // namespace

TEST_CASE("health: alive, ready, and Quay's shapes on a healthy server") {
  ServerOptions options;
  options.on_disk = true;
  options.token_auth = true;  // no credentials needed for any health route
  TestServer s(options);
  auto c = s.Client();

  auto alive = c->Get("/healthz");
  REQUIRE(alive);
  CHECK(alive->status == 200);
  CHECK(alive->get_header_value("Cache-Control") == "no-store");

  auto ready = c->Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 200);
  CHECK(Json(ready)["ready"].GetBool());

  for (const char* path : {"/health", "/health/instance"}) {
    CAPTURE(path);
    auto r = c->Get(path);
    REQUIRE(r);
    CHECK(r->status == 200);
    const rapidjson::Document d = Json(r);
    CHECK(d["status_code"].GetInt() == 200);
    for (const char* name : {"auth", "database", "disk_space", "service_key", "storage"}) {
      CAPTURE(name);
      CHECK(Service(d, name));
    }
  }
  for (const char* path : {"/status", "/health/endtoend"}) {
    CAPTURE(path);
    auto r = c->Get(path);
    REQUIRE(r);
    CHECK(r->status == 200);
    const rapidjson::Document d = Json(r);
    CHECK(Service(d, "database"));
    CHECK(Service(d, "storage"));
    CHECK_FALSE(d["data"]["services"].HasMember("disk_space"));
  }
  auto warning = c->Get("/health/warning");
  REQUIRE(warning);
  CHECK(warning->status == 200);
  CHECK(Json(warning)["data"]["services"].HasMember("disk_space_warning"));

  auto post = c->Post("/readyz", "", "text/plain");
  REQUIRE(post);
  CHECK(post->status == 405);
  // The probe left no upload behind.
  CHECK(s.registry().CheckHealth().storage.ok());
}

TEST_CASE("health: a failing blob store makes the instance unready, not dead") {
  quayd::testing::TempDir dir;
  auto fault = std::make_shared<quay::FaultInjectingBlobStore>(
      quay::OpenFilesystemBlobStore(dir.path() + "/blobs").value());
  ServerOptions options;
  options.data_dir = dir.path();
  options.blob_store = fault;
  TestServer s(options);
  auto c = s.Client();

  fault->FailNthAppend(1);  // the next probe's write fails
  auto ready = c->Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 503);
  const rapidjson::Document d = Json(ready);
  CHECK_FALSE(d["ready"].GetBool());
  CHECK_FALSE(d["checks"]["storage"].GetBool());
  CHECK(d["checks"]["database"].GetBool());
  CHECK(c->Get("/healthz")->status == 200);  // alive: no restart for a store outage
  CHECK(s.logs().Find({"health probe failed", "storage"}).size() == 1);

  // Quay: the storage failure shows in the end-to-end check; the instance
  // verdict leaves it out.
  fault->FailNthAppend(1);
  auto e2e = c->Get("/health/endtoend");
  REQUIRE(e2e);
  CHECK(e2e->status == 503);
  CHECK(Json(e2e)["status_code"].GetInt() == 503);
  CHECK_FALSE(Service(Json(e2e), "storage"));
  fault->FailNthAppend(1);
  auto instance = c->Get("/health/instance");
  REQUIRE(instance);
  CHECK(instance->status == 200);
  CHECK_FALSE(Service(Json(instance), "storage"));

  // The store is back: ready again, no restart.
  CHECK(c->Get("/readyz")->status == 200);
}

TEST_CASE("health: under the free-space floor the instance is not ready") {
  ServerOptions options;
  options.on_disk = true;
  options.health_min_free_bytes = ~uint64_t{0};  // no disk has that much free
  TestServer s(options);
  auto c = s.Client();
  auto ready = c->Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 503);
  CHECK_FALSE(Json(ready)["checks"]["disk_space"].GetBool());
  auto instance = c->Get("/health/instance");
  REQUIRE(instance);
  CHECK(instance->status == 503);
  CHECK_FALSE(Service(Json(instance), "disk_space"));
  CHECK(c->Get("/healthz")->status == 200);
}

TEST_CASE("health: while starting the port answers, not ready; then the server takes it over") {
  quay::Result<int> listener = quayd::ListenOn("127.0.0.1", 0);
  REQUIRE(listener.ok());
  sockaddr_in bound{};
  socklen_t len = sizeof bound;
  REQUIRE(::getsockname(*listener, reinterpret_cast<sockaddr*>(&bound), &len) == 0);
  const int port = ntohs(bound.sin_port);

  quayd::StartupResponder startup(*listener, quayd::HttpServerOptions{}, nullptr);
  REQUIRE(startup.Start());
  {
    httplib::Client c("127.0.0.1", port);
    auto alive = c.Get("/healthz");
    REQUIRE(alive);
    CHECK(alive->status == 200);
    auto ready = c.Get("/readyz");
    REQUIRE(ready);
    CHECK(ready->status == 503);
    CHECK_FALSE(Json(ready)["checks"]["started"].GetBool());
    auto instance = c.Get("/health/instance");
    REQUIRE(instance);
    CHECK(instance->status == 503);
    auto v2 = c.Get("/v2/");
    REQUIRE(v2);
    CHECK(v2->status == 503);
    CHECK(v2->get_header_value("Retry-After") == "1");
    CHECK(v2->body.find("UNAVAILABLE") != std::string::npos);
  }
  startup.Stop();

  // The same listening socket, now served by the real server.
  quay::Result<std::unique_ptr<quay::Registry>> registry =
      quay::Registry::Open(quay::testing::WithTestDatabase(quay::Options{}));
  REQUIRE(registry.ok());
  quayd::ServerConfig config;
  config.listen_fd = *listener;
  quayd::Server server(**registry, config);
  REQUIRE(server.Start().ok());
  CHECK(server.port() == port);
  httplib::Client c("127.0.0.1", port);
  auto ready = c.Get("/readyz");
  REQUIRE(ready);
  CHECK(ready->status == 200);
  auto v2 = c.Get("/v2/");
  REQUIRE(v2);
  CHECK(v2->status == 200);
  server.Stop();
}
