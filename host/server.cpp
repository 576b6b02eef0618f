#include "host/server.h"

#include <fmt/format.h>
#include <httplib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host/access_log.h"
#include "host/connection_pool.h"
#include "host/dispatch.h"
#include "host/errors.h"
#include "host/registry_auth.h"
#include "host/request_body.h"
#include "host/signals.h"

namespace quayd {
namespace {

// cpp-httplib's Server with two socket-level fixes it does not expose.
class HttpServer final : public httplib::Server {
 public:
  // Debian's compiled cpp-httplib 0.11.4 listens with a backlog of 5, so a
  // burst of clients connecting at once overflows the accept queue and waits
  // for SYN retransmits (1 s and more). Linux applies a second listen() on a
  // listening socket as a new backlog.
  void RaiseBacklog() {
    socket_t sock = svr_sock_;
    if (sock != INVALID_SOCKET) ::listen(sock, SOMAXCONN);
  }

  // A bound socket that never served (Run() not reached) is not closed by
  // httplib::Server's destructor.
  void CloseIfIdle() {
    if (is_running()) return;
    socket_t sock = svr_sock_.exchange(INVALID_SOCKET);
    if (sock != INVALID_SOCKET) ::close(sock);
  }
};

// One flag per connection thread: whether the request it is serving was
// counted in Impl::in_flight_ (cpp-httplib writes some responses, e.g. for a
// malformed request line, without running any handler).
thread_local bool t_counted = false;

}  // namespace

class Server::Impl {
 public:
  Impl(quay::Registry& registry, ServerConfig config)
      : config_(std::move(config)),
        authorizer_(config_.auth         ? config_.auth->shared_authorizer()
                    : config_.authorizer ? config_.authorizer
                                         : quay::Authorizer::AllowAll()),
        logger_(config_.logger ? config_.logger : quay::Logger::Discard()),
        dispatcher_(registry, config_.limits, *authorizer_, *logger_, config_.auth.get()) {
    Configure();
  }

  ~Impl() { http_.CloseIfIdle(); }

  quay::Status Bind(int& port) {
    IgnoreSigpipe();
    if (config_.port == 0) {
      port = http_.bind_to_any_port(config_.host);
    } else {
      port = http_.bind_to_port(config_.host, config_.port) ? config_.port : -1;
    }
    if (port <= 0) {
      return quay::Status::Unavailable(
          fmt::format("cannot listen on {}:{}", config_.host, config_.port));
    }
    http_.RaiseBacklog();
    return quay::Status::Ok();
  }

  void Run() {
    run_started_.store(true);
    if (!stop_requested_.load()) http_.listen_after_bind();
    run_returned_.store(true);
  }

  bool accepting() const { return http_.is_running() || run_returned_.load(); }

  void Stop() {
    std::call_once(stop_once_, [this] {
      stop_requested_.store(true);
      draining_.store(true);
      const auto deadline = std::chrono::steady_clock::now() + config_.drain_timeout;
      while (in_flight_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      if (!run_started_.load()) return;  // Run() will see stop_requested_
      while (!accepting()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
      http_.stop();
      logger_->Log(quay::LogLevel::kInfo, "server", "stopped accepting connections",
                   {{"in_flight", std::to_string(in_flight_.load())}});
    });
  }

 private:
  void Configure() {
    // Without TCP_NODELAY a response split over two writes waits for the
    // peer's delayed ACK (~40 ms per response).
    http_.set_tcp_nodelay(true);
    // SO_REUSEADDR only: cpp-httplib's default SO_REUSEPORT would let a
    // second quayd bind the same port and silently share its traffic.
    http_.set_socket_options([](socket_t sock) {
      int yes = 1;
      setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    });
    http_.set_keep_alive_max_count(config_.keep_alive_max_requests);
    http_.set_keep_alive_timeout(config_.keep_alive_timeout.count());
    http_.set_read_timeout(config_.io_timeout.count());
    http_.set_write_timeout(config_.io_timeout.count());
    const size_t threads = config_.threads;
    http_.new_task_queue = [threads] { return new ConnectionPool(threads); };

    // Routing without a regex per route: GET/HEAD and every other method
    // without a streamed body are served from the pre-routing hook, before
    // cpp-httplib looks at any pattern. Methods with a body need cpp-httplib's
    // ContentReader, which only pattern handlers get, so they are registered
    // once each under ".*" (one trivial match) and the dispatcher splits the
    // path itself.
    http_.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      BeginRequest(req);
      in_flight_.fetch_add(1);
      t_counted = true;
      if (draining_.load()) {
        WriteError(res, quay::Status::Unavailable("shutting down"));
        ForceClose(res);
        return httplib::Server::HandlerResponse::Handled;
      }
      if (HasBodyHandler(req.method)) return httplib::Server::HandlerResponse::Unhandled;
      dispatcher_.Serve(req, res, nullptr);
      return httplib::Server::HandlerResponse::Handled;
    });
    auto with_body = [this](const httplib::Request& req, httplib::Response& res,
                            const httplib::ContentReader& reader) {
      dispatcher_.Serve(req, res, &reader);
    };
    http_.Post(".*", with_body);
    http_.Put(".*", with_body);
    http_.Patch(".*", with_body);
    http_.Delete(".*", with_body);

    // Runs for every response, including those cpp-httplib writes itself.
    http_.set_post_routing_handler([](const httplib::Request& req, httplib::Response& res) {
      res.set_header("X-Request-Id", EnsureRequestId(req));
      res.set_header("Docker-Distribution-API-Version", "registry/2.0");
    });
    // Called after the response is written: the access log line.
    http_.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      LogAccess(*logger_, req, res);
      if (t_counted) {
        t_counted = false;
        in_flight_.fetch_sub(1);
      }
    });
    // The dispatcher catches handler exceptions; this covers the rest of the
    // pipeline so no exception text reaches a client.
    http_.set_exception_handler([this](const httplib::Request&, httplib::Response& res,
                                       std::exception_ptr ep) {
      std::string what = "unknown exception";
      try {
        if (ep) std::rethrow_exception(ep);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      logger_->Log(quay::LogLevel::kError, "http", "failed to handle request", {{"error", what}});
      res.headers.clear();
      res.body.clear();
      WriteError(res, quay::Status::Internal(what));
      ForceClose(res);
    });
  }

  static bool HasBodyHandler(const std::string& method) {
    return method == "POST" || method == "PUT" || method == "PATCH" || method == "DELETE";
  }

  ServerConfig config_;
  std::shared_ptr<quay::Authorizer> authorizer_;
  std::shared_ptr<quay::Logger> logger_;
  Dispatcher dispatcher_;
  HttpServer http_;

  std::atomic<int> in_flight_{0};
  std::atomic<bool> draining_{false};
  std::atomic<bool> stop_requested_{false};
  std::atomic<bool> run_started_{false};
  std::atomic<bool> run_returned_{false};
  std::once_flag stop_once_;
};

Server::Server(quay::Registry& registry, ServerConfig config)
    : impl_(std::make_unique<Impl>(registry, std::move(config))) {}

Server::~Server() { Stop(); }

quay::Status Server::Bind() { return impl_->Bind(port_); }

void Server::Run() { impl_->Run(); }

quay::Status Server::Start() {
  quay::Status bound = Bind();
  if (!bound.ok()) return bound;
  thread_ = std::thread([this] { impl_->Run(); });
  while (!impl_->accepting()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return quay::Status::Ok();
}

void Server::Stop() {
  impl_->Stop();
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
}

}  // namespace quayd
