// quayd's own HTTP/1.1 connection loop (host/net/http_connection.h) on a real
// socket: pipelining, chunked request bodies, Expect: 100-continue, HEAD
// framing, HTTP/1.0, and refusing what is not HTTP quickly.
#include <doctest/doctest.h>
#include <httplib.h>

#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include "host/net/http_server.h"
#include "http_test_support.h"

using namespace quayd::testing;

TEST_CASE("pipelined requests are answered in order on one connection") {
  TestServer server;
  RawConnection conn(server.port());
  REQUIRE(
      conn.Send("GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Request-Id: first\r\n\r\n"
                "GET /v2/nope/manifests/x HTTP/1.1\r\nHost: x\r\nX-Request-Id: second\r\n\r\n"
                "GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Request-Id: third\r\n\r\n"));
  RawResponse first = conn.Read();
  RawResponse second = conn.Read();
  RawResponse third = conn.Read();
  CHECK(first.status == 200);
  CHECK(first.Header("X-Request-Id") == "first");
  CHECK(second.status == 404);
  CHECK(second.Header("X-Request-Id") == "second");
  CHECK(third.status == 200);
  CHECK(third.Header("X-Request-Id") == "third");
}

TEST_CASE("a chunked PATCH with extensions and trailers streams into the upload") {
  TestServer server;
  const std::string location = StartUpload(server, "chunked/body");
  RawConnection conn(server.port());
  REQUIRE(conn.Send("PATCH " + location +
                    " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                    "5;note=first\r\nhello\r\n"
                    "6\r\n world\r\n"
                    "0\r\nX-Trailer: ignored\r\n\r\n"));
  RawResponse patched = conn.Read();
  CHECK(patched.status == 202);
  CHECK(patched.Header("Range") == "0-10");
  // The connection is still in sync for the next request.
  REQUIRE(conn.Send("PUT " + location + "?digest=" + DigestOf("hello world") +
                    " HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"));
  RawResponse put = conn.Read();
  CHECK(put.status == 201);
  auto client = server.Client();
  auto blob = client->Get("/v2/chunked/body/blobs/" + DigestOf("hello world"));
  REQUIRE(blob);
  CHECK(blob->body == "hello world");
}

TEST_CASE("a malformed chunked body fails the PATCH and stores nothing") {
  TestServer server;
  const std::string location = StartUpload(server, "chunked/bad");
  for (const char* body : {"zz\r\nhello\r\n0\r\n\r\n", "5\r\nhelloXX0\r\n\r\n", "5\r\nhel"}) {
    CAPTURE(body);
    RawConnection conn(server.port());
    REQUIRE(conn.Send("PATCH " + location +
                      " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + body));
    if (std::string(body) == "5\r\nhel") conn.ShutdownWrite();  // truncated: client gives up
    RawResponse res = conn.Read();
    CHECK(res.status >= 400);
    CHECK(res.status < 500);
    CHECK(conn.ClosedByPeer());
    CHECK(UploadRange(server, location) == "0-0");
  }
  CHECK(StillServes(server.port()));
}

TEST_CASE("Expect: 100-continue invites the body only when the handler reads it") {
  TestServer server;
  const std::string location = StartUpload(server, "expect/continue");
  {
    RawConnection conn(server.port());
    REQUIRE(conn.Send("PATCH " + location +
                      " HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"));
    RawResponse interim = conn.Read();
    CHECK(interim.status == 100);
    REQUIRE(conn.Send("hello"));
    RawResponse done = conn.Read();
    CHECK(done.status == 202);
    CHECK(done.Header("Range") == "0-4");
  }
  {
    // Out of order: refused before the body is wanted, so no 100 goes out
    // and the connection closes (the client may or may not send the body).
    RawConnection conn(server.port());
    REQUIRE(conn.Send("PATCH " + location +
                      " HTTP/1.1\r\nHost: x\r\nContent-Range: 50-54\r\nContent-Length: 5\r\n"
                      "Expect: 100-continue\r\n\r\n"));
    RawResponse res = conn.Read();
    CHECK(res.status == 416);
    CHECK(res.Header("Connection") == "close");
    CHECK(conn.ClosedByPeer());
  }
  CHECK(UploadRange(server, location) == "0-4");
}

TEST_CASE("HEAD carries the GET's length and no body") {
  TestServer server;
  auto client = server.Client();
  const std::string data(1000, 'h');
  REQUIRE(PushBlob(*client, "head/framing", data) == 201);
  RawConnection conn(server.port());
  REQUIRE(conn.Send("HEAD /v2/head/framing/blobs/" + DigestOf(data) +
                    " HTTP/1.1\r\nHost: x\r\n\r\nGET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n"));
  // Read the HEAD answer's head only (a body would desynchronize the next).
  RawResponse head = conn.Read(2000);
  CHECK(head.status == 200);
  CHECK(head.Header("Content-Length") == "1000");
  // RawConnection::Read took Content-Length bytes as the body: they must be
  // the next response, not blob bytes.
  CHECK(head.body.rfind("HTTP/1.1 200 OK\r\n", 0) == 0);
  CHECK(head.body.find('h' + std::string(20, 'h')) == std::string::npos);
}

TEST_CASE("HTTP/1.0 without keep-alive closes after the response") {
  TestServer server;
  RawConnection conn(server.port());
  REQUIRE(conn.Send("GET /v2/ HTTP/1.0\r\n\r\n"));
  RawResponse res = conn.Read();
  CHECK(res.status == 200);
  CHECK(res.Header("Connection") == "close");
  CHECK(conn.ClosedByPeer());
}

TEST_CASE("what is not HTTP is refused at once, not at a timeout") {
  TestServer server;
  SUBCASE("a TLS ClientHello (clients that try HTTPS first)") {
    RawConnection conn(server.port());
    const auto start = std::chrono::steady_clock::now();
    REQUIRE(conn.Send(std::string("\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03", 11)));
    RawResponse res = conn.Read(3000);
    CHECK(res.status == 400);
    CHECK(conn.ClosedByPeer());
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(2));
  }
  SUBCASE("a head over 64 KiB") {
    RawConnection conn(server.port());
    std::string head = "GET /v2/ HTTP/1.1\r\nHost: x\r\n";
    while (head.size() < (70u << 10)) head += "X-Filler: " + std::string(1000, 'f') + "\r\n";
    conn.Send(head);  // the server may close before taking all of it
    RawResponse res = conn.Read(3000);
    CHECK(res.status == 431);
    CHECK(conn.ClosedByPeer());
  }
  CHECK(StillServes(server.port()));
}

TEST_CASE("a head trickled in slower than the I/O timeout is cut off with 408") {
  ServerOptions options;
  options.io_timeout = std::chrono::seconds(1);
  TestServer server(options);
  RawConnection conn(server.port());
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(conn.Send("GET /v2/ HTTP/1.1\r\n"));
  // A header line every 300 ms: every read makes progress, the head never ends.
  bool refused = false;
  for (int i = 0; i < 20 && !refused; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    refused = conn.Readable(0) || !conn.Send("X-Slow: " + std::to_string(i) + "\r\n");
  }
  RawResponse res = conn.Read(3000);
  CHECK(res.status == 408);
  CHECK(conn.ClosedByPeer());
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
  CHECK(StillServes(server.port()));
}

TEST_CASE("Content-Length beside chunked: read as chunked, then the connection closes") {
  TestServer server;
  const std::string location = StartUpload(server, "smuggle/both");
  RawConnection conn(server.port());
  REQUIRE(conn.Send("PATCH " + location +
                    " HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"));
  RawResponse res = conn.Read();
  CHECK(res.status == 202);
  CHECK(res.Header("Range") == "0-4");
  CHECK(res.Header("Connection") == "close");
  CHECK(conn.ClosedByPeer());
}

TEST_CASE("a refused upload's response survives the client still sending its body") {
  TestServer server;
  const std::string location = StartUpload(server, "linger/refused");
  RawConnection conn(server.port());
  // Out of order, so refused without reading; the client keeps sending 8 MiB
  // as a pushing client does. Closing on unread input would reset the
  // connection and destroy the 416 before it is read.
  REQUIRE(conn.Send("PATCH " + location +
                    " HTTP/1.1\r\nHost: x\r\nContent-Range: 9-67108872\r\nContent-Length: "
                    "67108864\r\n\r\n"));
  const std::string piece(64 << 10, 'b');
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // the server answers and closes
  for (int i = 0; i < 128; ++i) {
    if (!conn.Send(piece)) break;
  }
  RawResponse res = conn.Read();
  CHECK(res.status == 416);
  CHECK(res.Header("Connection") == "close");
  // The server still takes (and drops) what the client sends for a while:
  // a closed socket would answer with a reset and later sends would fail.
  // (On loopback the response always arrives first, so this is what shows
  // the lingering close.)
  bool sends_ok = true;
  for (int i = 0; i < 10 && sends_ok; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    sends_ok = conn.Send(piece);
  }
  CHECK(sends_ok);
  CHECK(UploadRange(server, location) == "0-0");
}

// HttpServer on its own, with handlers that misbehave where the dispatcher
// cannot catch it: a response body provider that throws runs after the
// handler returned. The connection ends; the process and the server go on.
TEST_CASE("a throwing body provider ends its connection, not the server") {
  quayd::HttpServerOptions options;
  options.port = 0;
  options.threads = 4;
  quayd::HttpHandlers handlers;
  handlers.serve = [](const httplib::Request& req, httplib::Response& res,
                      const httplib::ContentReader*) {
    if (req.path == "/boom") {
      res.set_content_provider(10, "text/plain", [](size_t, size_t, httplib::DataSink&) -> bool {
        throw std::runtime_error("provider failed");
      });
      return;
    }
    res.set_content("fine", "text/plain");
  };
  handlers.reject = [](httplib::Response& res, int status, std::string_view) {
    res.status = status;
  };
  handlers.decorate = [](const httplib::Request&, httplib::Response&) {};
  handlers.log = [](const httplib::Request&, const httplib::Response&) {};
  quayd::HttpServer server(options, handlers);
  int port = 0;
  REQUIRE(server.Bind(port).ok());
  std::thread runner([&] { server.Run(); });

  {
    RawConnection conn(port);
    REQUIRE(conn.Send("GET /boom HTTP/1.1\r\nHost: x\r\n\r\n"));
    RawResponse res = conn.Read(3000);
    CHECK(res.status == 0);  // nothing was sent before the provider threw
    CHECK(conn.ClosedByPeer());
  }
  RawConnection conn(port);
  REQUIRE(conn.Send("GET /fine HTTP/1.1\r\nHost: x\r\n\r\n"));
  RawResponse res = conn.Read(3000);
  CHECK(res.status == 200);
  CHECK(res.body == "fine");

  server.Stop();
  runner.join();
}

TEST_CASE("past --threads busy requests and as many waiting, new requests get 503 at once") {
  ServerOptions options;
  options.threads = 2;
  TestServer server(options);
  // Two uploads whose bodies do not come hold both threads (a connection
  // holds a thread only while a request is being served: issue 11).
  const std::string location = StartUpload(server, "busy/threads");
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 2; ++i) {
    held.push_back(std::make_unique<RawConnection>(server.port()));
    REQUIRE(held.back()->Send("PATCH " + location +
                              " HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\n"));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  // Two more requests wait for a thread.
  std::vector<std::unique_ptr<RawConnection>> waiting;
  for (int i = 0; i < 2; ++i) {
    waiting.push_back(std::make_unique<RawConnection>(server.port()));
    REQUIRE(waiting.back()->Send("GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n"));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  CHECK_FALSE(waiting[0]->Readable(0));
  // The next is refused, quickly and in the registry's error format.
  RawConnection refused(server.port());
  REQUIRE(refused.Send("GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\n"));
  RawResponse busy = refused.Read(2000);
  CHECK(busy.status == 503);
  CHECK(busy.Header("Retry-After") == "1");
  CHECK(ErrorCode(busy.body) == "UNAVAILABLE");
  CHECK(refused.ClosedByPeer());
  // Once the holders leave, the waiting requests are served.
  held.clear();
  for (auto& conn : waiting) CHECK(conn->Read(3000).status == 200);
}

TEST_CASE("a body provider without a length is sent chunked") {
  quayd::HttpServerOptions options;
  options.port = 0;
  options.threads = 2;
  quayd::HttpHandlers handlers;
  handlers.serve = [](const httplib::Request&, httplib::Response& res,
                      const httplib::ContentReader*) {
    res.set_chunked_content_provider("text/plain", [](size_t offset, httplib::DataSink& sink) {
      if (offset == 0) return sink.write("hello ", 6);
      if (offset == 6) return sink.write("world", 5);
      sink.done();
      return true;
    });
  };
  handlers.reject = [](httplib::Response& res, int status, std::string_view) {
    res.status = status;
  };
  handlers.decorate = [](const httplib::Request&, httplib::Response&) {};
  handlers.log = [](const httplib::Request&, const httplib::Response&) {};
  quayd::HttpServer server(options, handlers);
  int port = 0;
  REQUIRE(server.Bind(port).ok());
  std::thread runner([&] { server.Run(); });
  {
    httplib::Client client("127.0.0.1", port);
    for (int i = 0; i < 2; ++i) {  // twice on one connection: the framing ends cleanly
      auto res = client.Get("/stream");
      REQUIRE(res);
      CHECK(res->status == 200);
      CHECK(res->get_header_value("Transfer-Encoding") == "chunked");
      CHECK(res->body == "hello world");
    }
  }
  server.Stop();
  runner.join();
}
