// Server lifecycle: data survives a restart on the same data dir, an upload
// resumes across a restart, Stop() lets an in-flight request finish, and
// many clients are served concurrently.
#include <doctest/doctest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "http_test_support.h"

using namespace quayd::testing;

TEST_CASE("on-disk: blobs, manifests and an open upload survive a restart") {
  TempDir dir;
  std::string blob = "persisted blob";
  std::string manifest;
  std::string location;
  {
    ServerOptions options;
    options.data_dir = dir.path();
    TestServer server(options);
    auto client = server.Client();
    REQUIRE(PushBlob(*client, "keep/me", blob) == 201);
    manifest = PushImageBlobs(*client, "keep/me", "restart");
    REQUIRE(client->Put("/v2/keep/me/manifests/v1", manifest, std::string(kOciManifest))->status ==
            201);
    auto start = client->Post("/v2/keep/me/blobs/uploads/", "", "application/octet-stream");
    REQUIRE(start);
    location = start->get_header_value("Location");
    auto patch =
        client->Patch(location, {{"Content-Range", "0-4"}}, "hello", "application/octet-stream");
    REQUIRE(patch);
    REQUIRE(patch->status == 202);
  }
  ServerOptions options;
  options.data_dir = dir.path();
  TestServer server(options);
  auto client = server.Client();
  auto get = client->Get("/v2/keep/me/blobs/" + DigestOf(blob));
  REQUIRE(get);
  CHECK(get->status == 200);
  CHECK(get->body == blob);
  auto m = client->Get("/v2/keep/me/manifests/v1");
  REQUIRE(m);
  CHECK(m->status == 200);
  CHECK(m->body == manifest);

  auto status = client->Get(location);
  REQUIRE(status);
  CHECK(status->status == 204);
  CHECK(status->get_header_value("Range") == "0-4");
  auto patch =
      client->Patch(location, {{"Content-Range", "5-10"}}, " world", "application/octet-stream");
  REQUIRE(patch);
  CHECK(patch->status == 202);
  auto put =
      client->Put(location + "?digest=" + DigestOf("hello world"), "", "application/octet-stream");
  REQUIRE(put);
  CHECK(put->status == 201);
}

TEST_CASE("Stop() lets an in-flight upload finish, then refuses connections") {
  TestServer server;
  const int port = server.port();
  auto client = server.Client();
  auto start = client->Post("/v2/slow/blobs/uploads/", "", "application/octet-stream");
  REQUIRE(start);
  std::string location = start->get_header_value("Location");

  std::atomic<bool> body_started{false};
  std::atomic<int> status{0};
  std::thread uploader([&] {
    httplib::Client slow("127.0.0.1", port);
    slow.set_read_timeout(30);
    int pieces = 0;
    auto res = slow.Patch(
        location, {},
        [&](size_t, httplib::DataSink& sink) {
          if (pieces == 10) {
            sink.done();
            return true;
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
          sink.write("0123456789", 10);
          // By the second piece the server has parsed the headers: the
          // request is in flight.
          if (++pieces == 2) body_started = true;
          return true;
        },
        "application/octet-stream");
    status = res ? res->status : -1;
  });
  while (!body_started) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  client.reset();  // an idle keep-alive client would hold shutdown for its timeout
  server.Shutdown();
  uploader.join();
  CHECK(status == 202);

  httplib::Client late("127.0.0.1", port);
  late.set_connection_timeout(2);
  auto res = late.Get("/v2/");
  CHECK_FALSE(res);
}

TEST_CASE("64 concurrent keep-alive clients") {
  ServerOptions options;
  options.threads = 128;
  TestServer server(options);
  {
    auto client = server.Client();
    REQUIRE(PushBlob(*client, "many", "shared blob") == 201);
  }
  const std::string path = "/v2/many/blobs/" + DigestOf("shared blob");
  std::atomic<int> ok{0};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 64; ++t) {
    threads.emplace_back([&] {
      httplib::Client client("127.0.0.1", server.port());
      client.set_keep_alive(true);
      client.set_read_timeout(15);
      for (int i = 0; i < 20; ++i) {
        auto res = (i % 2) ? client.Head(path) : client.Get(path);
        if (res && res->status == 200) {
          ++ok;
        } else {
          ++failed;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(failed == 0);
  CHECK(ok == 64 * 20);
}
