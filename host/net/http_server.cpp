#include "host/net/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <thread>

#include "host/net/connection_pool.h"
#include "host/net/http_connection.h"

namespace quayd {
namespace {

timeval SecondsOf(std::chrono::seconds s) {
  timeval tv{};
  tv.tv_sec = std::max<int64_t>(s.count(), 1);
  return tv;
}

// The peer's numeric address and port.
void PeerOf(const sockaddr_storage& addr, std::string& host, int& port) {
  char text[NI_MAXHOST] = {0};
  char service[NI_MAXSERV] = {0};
  const auto len = static_cast<socklen_t>(addr.ss_family == AF_INET6 ? sizeof(sockaddr_in6)
                                                                     : sizeof(sockaddr_in));
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&addr), len, text, sizeof(text), service,
                  sizeof(service), NI_NUMERICHOST | NI_NUMERICSERV) == 0) {
    host = text;
    port = std::atoi(service);
  }
}

}  // namespace

HttpServer::HttpServer(HttpServerOptions options, HttpHandlers handlers)
    : options_(std::move(options)), handlers_(std::move(handlers)) {}

HttpServer::~HttpServer() {
  if (listen_fd_ >= 0) ::close(listen_fd_);
  for (int fd : wake_fds_) {
    if (fd >= 0) ::close(fd);
  }
}

quay::Status HttpServer::Bind(int& port) {
  auto unavailable = [&] {
    return quay::Status::Unavailable(
        fmt::format("cannot listen on {}:{}", options_.host, options_.port));
  };
  if (::pipe2(wake_fds_, O_CLOEXEC | O_NONBLOCK) != 0) return unavailable();
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const std::string service = std::to_string(options_.port);
  if (getaddrinfo(options_.host.c_str(), service.c_str(), &hints, &found) != 0) {
    return unavailable();
  }
  for (addrinfo* ai = found; ai != nullptr && listen_fd_ < 0; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    // SO_REUSEADDR only: SO_REUSEPORT would let a second quayd bind the same
    // port and silently share its traffic.
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && ::listen(fd, SOMAXCONN) == 0) {
      listen_fd_ = fd;
    } else {
      ::close(fd);
    }
  }
  freeaddrinfo(found);
  if (listen_fd_ < 0) return unavailable();
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  if (::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&bound), &len) != 0) {
    return unavailable();
  }
  std::string ignored;
  PeerOf(bound, ignored, port);
  return quay::Status::Ok();
}

void HttpServer::Run() {
  if (listen_fd_ < 0) return;
  pool_ = std::make_unique<ConnectionPool>(options_.threads);
  running_.store(true);
  if (!stopping_.load()) Accept();
  running_.store(false);
  ::close(listen_fd_);
  listen_fd_ = -1;
  EndIdleConnections();
  pool_->shutdown();  // waits for every connection thread
}

void HttpServer::Stop() {
  stopping_.store(true);
  if (wake_fds_[1] >= 0) {
    const char byte = 1;
    [[maybe_unused]] ssize_t ignored = ::write(wake_fds_[1], &byte, 1);
  }
}

void HttpServer::Accept() {
  const timeval idle = SecondsOf(options_.keep_alive_timeout);
  const timeval io = SecondsOf(options_.io_timeout);
  while (!stopping_.load()) {
    pollfd fds[2] = {{listen_fd_, POLLIN, 0}, {wake_fds_[0], POLLIN, 0}};
    if (::poll(fds, 2, -1) < 0 && errno != EINTR) break;
    if (stopping_.load()) break;
    if ((fds[0].revents & POLLIN) == 0) continue;
    sockaddr_storage peer{};
    socklen_t len = sizeof(peer);
    const int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
    if (fd < 0) {
      // Out of descriptors: back off instead of spinning on the ready queue.
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
      continue;
    }
    // Without TCP_NODELAY a response split over two writes waits for the
    // peer's delayed ACK (~40 ms).
    int yes = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
    // Reads time out after the keep-alive timeout (HttpConnection retries
    // inside a request up to the I/O timeout); writes after the I/O timeout.
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof(idle));
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &io, sizeof(io));
    std::string host;
    int port = -1;
    PeerOf(peer, host, port);
    if (pool_->Full(options_.threads)) {
      // As many connections wait as are served: answer 503 at once rather
      // than hold this one's descriptor for an unknown time.
      HttpConnection(fd, host, port, options_, handlers_, stopping_).RefuseBusy();
      ::close(fd);
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      connections_.insert(fd);
    }
    pool_->enqueue([this, fd, host = std::move(host), port] {
      HttpConnection(fd, host, port, options_, handlers_, stopping_).Serve();
      {
        std::lock_guard<std::mutex> lock(mu_);
        connections_.erase(fd);
      }
      ::close(fd);
    });
  }
}

void HttpServer::EndIdleConnections() {
  // Server::Stop has let requests in flight finish (up to its drain
  // timeout): whatever is still open is idle or past that, so both
  // directions end now and a stalled reader cannot hold Run() up.
  std::lock_guard<std::mutex> lock(mu_);
  for (int fd : connections_) ::shutdown(fd, SHUT_RDWR);
}

}  // namespace quayd
