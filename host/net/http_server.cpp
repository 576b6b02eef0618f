#include "host/net/http_server.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host/net/client_socket.h"
#include "host/net/connection_cap.h"
#include "host/net/connection_pool.h"
#include "host/net/head_reader.h"
#include "host/net/http_connection.h"

namespace quayd {

HttpServer::HttpServer(HttpServerOptions options, HttpHandlers handlers)
    : options_(std::move(options)), handlers_(std::move(handlers)) {}

HttpServer::~HttpServer() {
  reader_.reset();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

quay::Result<int> ListenOn(const std::string& host, int port) {
  auto unavailable = [&] {
    return quay::Status::Unavailable(fmt::format("cannot listen on {}:{}", host, port));
  };
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(port);
  if (getaddrinfo(host.c_str(), service.c_str(), &hints, &found) != 0) return unavailable();
  int listen_fd = -1;
  for (addrinfo* ai = found; ai != nullptr && listen_fd < 0; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    // SO_REUSEADDR only: SO_REUSEPORT would let a second quayd bind the same
    // port and silently share its traffic.
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, SOMAXCONN) == 0) {
      listen_fd = fd;
    } else {
      ::close(fd);
    }
  }
  freeaddrinfo(found);
  if (listen_fd < 0) return unavailable();
  return listen_fd;
}

quay::Status HttpServer::Bind(int& port) {
  auto unavailable = [&] {
    return quay::Status::Unavailable(
        fmt::format("cannot listen on {}:{}", options_.host, options_.port));
  };
  if (options_.listen_fd >= 0) {
    listen_fd_ = options_.listen_fd;
  } else {
    quay::Result<int> fd = ListenOn(options_.host, options_.port);
    if (!fd.ok()) return fd.status();
    listen_fd_ = *fd;
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  if (::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &len) != 0) {
    return unavailable();
  }
  port = ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                           : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  // Made here rather than in Run() so that Stop() from another thread finds
  // them (Bind happens before any Stop that can race with Run).
  cap_ = std::make_unique<ConnectionCap>(options_.max_connections_per_address,
                                         options_.uncapped_addresses);
  pool_ = std::make_unique<ConnectionPool>(options_.threads, options_.idle_thread_timeout);
  reader_ = std::make_unique<HeadReader>(
      listen_fd_, options_, *cap_,
      HeadReader::Handlers{
          [this](std::shared_ptr<ClientSocket> socket) { Serve(std::move(socket)); },
          [this](ClientSocket& socket, int status) { Refuse(socket, status); }});
  return reader_->Open();
}

void HttpServer::Run() {
  if (listen_fd_ < 0 || !reader_) return;
  running_.store(true);
  if (!stopping_.load()) reader_->Run();
  running_.store(false);
  ::close(listen_fd_);
  listen_fd_ = -1;
  EndBusyConnections();
  pool_->shutdown();  // waits for every connection thread
}

void HttpServer::Stop() {
  stopping_.store(true);
  if (reader_) reader_->Stop();
}

size_t HttpServer::threads() const { return pool_ ? pool_->threads() : 0; }

size_t HttpServer::waiting_for_head() const { return reader_ ? reader_->waiting() : 0; }

void HttpServer::Serve(std::shared_ptr<ClientSocket> socket) {
  if (pool_->Full(options_.threads)) {
    // As many requests wait as are served: answer 503 at once rather than
    // hold this one for an unknown time.
    Refuse(*socket, 503);
    return;
  }
  pool_->enqueue([this, socket = std::move(socket)] {
    {
      std::lock_guard<std::mutex> lock(mu_);
      busy_.insert(socket->fd);
    }
    const bool keep = HttpConnection(*socket, options_, handlers_, stopping_).Serve();
    {
      std::lock_guard<std::mutex> lock(mu_);
      busy_.erase(socket->fd);
    }
    // Between requests the connection waits in the head reader, on no
    // thread; after Run() ended the reader closes it instead.
    if (keep) reader_->Adopt(socket);
  });
}

void HttpServer::Refuse(ClientSocket& socket, int status) {
  HttpConnection(socket, options_, handlers_, stopping_).Refuse(status);
}

void HttpServer::EndBusyConnections() {
  // Server::Stop has let requests in flight finish (up to its drain
  // timeout): whatever is still on a thread is idle or past that, so both
  // directions end now and a stalled reader cannot hold Run() up.
  std::lock_guard<std::mutex> lock(mu_);
  for (int fd : busy_) ::shutdown(fd, SHUT_RDWR);
}

}  // namespace quayd
