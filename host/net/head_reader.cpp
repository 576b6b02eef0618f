#include "host/net/head_reader.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "host/net/client_socket.h"
#include "host/net/connection_cap.h"
#include "host/net/tls_context.h"

namespace quayd {
namespace {

using Clock = ClientSocket::Clock;

// Timeouts are whole seconds, so deadlines are checked at this granularity:
// one pass over the waiting connections every 100 ms at most, however many
// there are and however their deadlines spread.
constexpr auto kSweepEvery = std::chrono::milliseconds(100);
// Out of descriptors, the listener is left alone this long rather than
// reported ready (and failing) on every turn of the loop.
constexpr auto kAcceptBackoff = std::chrono::milliseconds(50);
// Connections accepted per turn, so reads are not starved by a connect flood.
constexpr int kAcceptBatch = 128;
constexpr int kEventBatch = 256;

timeval TimevalOf(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  if (tv.tv_sec == 0 && tv.tv_usec == 0) tv.tv_usec = 1000;  // 0 would mean "never"
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

HeadReader::HeadReader(int listen_fd, const HttpServerOptions& options, ConnectionCap& cap,
                       Handlers handlers)
    : listen_fd_(listen_fd),
      options_(options),
      cap_(cap),
      handlers_(std::move(handlers)),
      scratch_(new char[kMaxRequestHead + 1]) {}

HeadReader::~HeadReader() {
  if (epoll_fd_ >= 0) ::close(epoll_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

quay::Status HeadReader::Open() {
  epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (epoll_fd_ < 0 || wake_fd_ < 0) return quay::Status::Unavailable("cannot create epoll");
  // Accepting runs until the listener would block, never blocking the loop.
  const int flags = ::fcntl(listen_fd_, F_GETFL);
  ::fcntl(listen_fd_, F_SETFL, flags | O_NONBLOCK);
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = wake_fd_;
  ::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &ev);
  ev.data.fd = listen_fd_;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, listen_fd_, &ev) != 0) {
    return quay::Status::Unavailable("cannot watch the listener");
  }
  listener_watched_ = true;
  return quay::Status::Ok();
}

void HeadReader::Run() {
  epoll_event events[kEventBatch];
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) break;
    }
    const int n = ::epoll_wait(epoll_fd_, events, kEventBatch, WaitMillis(Clock::now()));
    if (n < 0 && errno != EINTR) break;
    for (int i = 0; i < n; ++i) {
      const int fd = events[i].data.fd;
      if (fd == listen_fd_) {
        AcceptSome();
      } else if (fd == wake_fd_) {
        uint64_t count = 0;
        [[maybe_unused]] ssize_t ignored = ::read(wake_fd_, &count, sizeof(count));
        TakeAdopted();
      } else {
        OnReadable(fd);
      }
    }
    const auto now = Clock::now();
    if (!listener_watched_ && now >= listener_paused_until_) {
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.fd = listen_fd_;
      listener_watched_ = ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listen_fd_, &ev) == 0;
    }
    if (now >= next_deadline_ && now - last_sweep_ >= kSweepEvery) Sweep(now);
  }
  std::vector<std::shared_ptr<ClientSocket>> adopted;
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    adopted.swap(adopted_);
  }
  waiting_.clear();  // closes them: nobody is in the middle of a request here
  waiting_count_.store(0);
}

void HeadReader::Stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t ignored = ::write(wake_fd_, &one, sizeof(one));
}

void HeadReader::Adopt(std::shared_ptr<ClientSocket> socket) {
  bool wake = false;
  {
    std::lock_guard lock(mu_);
    if (closed_) return;  // the server stopped: the socket closes here
    wake = adopted_.empty();
    adopted_.push_back(std::move(socket));
  }
  // One wake-up per batch: the loop takes every adopted socket at once.
  if (wake) {
    const uint64_t one = 1;
    [[maybe_unused]] ssize_t ignored = ::write(wake_fd_, &one, sizeof(one));
  }
}

size_t HeadReader::waiting() const { return waiting_count_.load(); }

void HeadReader::AcceptSome() {
  const timeval hold = TimevalOf(options_.next_request_wait);
  timeval io{};
  io.tv_sec = std::max<int64_t>(options_.io_timeout.count(), 1);
  for (int i = 0; i < kAcceptBatch; ++i) {
    sockaddr_storage peer{};
    socklen_t len = sizeof(peer);
    const int fd = ::accept4(listen_fd_, reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        // Out of descriptors: leave the listener for a while instead of
        // spinning on its ready queue (the backlog keeps the clients).
        epoll_event none{};  // no events: parked until the loop re-arms it
        listener_watched_ = ::epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, listen_fd_, &none) != 0;
        listener_paused_until_ = Clock::now() + kAcceptBackoff;
      }
      return;  // EAGAIN: all accepted
    }
    // Without TCP_NODELAY a response split over two writes waits for the
    // peer's delayed ACK (~40 ms).
    int yes = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
    // On a connection thread, a read between requests gives up after
    // next_request_wait (the connection comes back here); writes after the
    // I/O timeout. The reader itself never blocks (MSG_DONTWAIT).
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &hold, sizeof(hold));
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &io, sizeof(io));
    std::string host;
    int port = -1;
    PeerOf(peer, host, port);
    if (!cap_.TryAdd(host)) {
      ClientSocket refused(fd, std::move(host), port, nullptr);
      handlers_.refuse(refused, 429);  // a TLS client is just closed
      continue;
    }
    auto socket = std::make_shared<ClientSocket>(fd, std::move(host), port, &cap_);
    if (options_.tls) {
      ssl_st* ssl = options_.tls->NewConnection();
      if (ssl == nullptr) continue;  // closes it
      socket->StartTls(ssl, options_.next_request_wait,
                       std::chrono::seconds(std::max<int64_t>(options_.io_timeout.count(), 1)));
      // The handshake must end within the I/O timeout, like a head.
      socket->head_started = Clock::now();
    }
    Watch(std::move(socket));
  }
}

void HeadReader::TakeAdopted() {
  std::vector<std::shared_ptr<ClientSocket>> adopted;
  {
    std::lock_guard lock(mu_);
    adopted.swap(adopted_);
  }
  for (auto& socket : adopted) Watch(std::move(socket));
}

void HeadReader::Watch(std::shared_ptr<ClientSocket> socket) {
  const int fd = socket->fd;
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = fd;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) return;  // closes it
  next_deadline_ = std::min(next_deadline_, DeadlineOf(*socket));
  auto [it, inserted] = waiting_.emplace(fd, Waiting{std::move(socket), RequestHeadScan()});
  waiting_count_.store(waiting_.size());
  if (inserted && !it->second.socket->pending.empty()) {
    Examine(it);
  } else if (inserted && it->second.socket->HasBuffered()) {
    OnReadable(fd);  // a TLS record epoll cannot see
  }
}

void HeadReader::OnReadable(int fd) {
  auto it = waiting_.find(fd);
  if (it == waiting_.end()) return;
  ClientSocket& socket = *it->second.socket;
  // Never more than it takes to see that a head is too large; the rest
  // (a body, pipelined requests) stays in the socket for the thread.
  const size_t room = kMaxRequestHead + 1 - std::min(socket.pending.size(), kMaxRequestHead);
  if (!socket.handshake_done()) {
    const int handshake = socket.ContinueHandshake();
    if (handshake < 0) {
      Forget(it);  // not TLS, or a failed handshake
      return;
    }
    if (handshake == 0) return;
  }
  const ssize_t got = socket.Recv(scratch_.get(), room, /*dontwait=*/true);
  if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
  if (got <= 0) {
    // The client closed or failed; a torn head has nobody waiting for it.
    Forget(it);
    return;
  }
  socket.pending.append(scratch_.get(), static_cast<size_t>(got));
  // TLS may hold decrypted bytes epoll will never report: keep reading
  // while the connection is still here and has room.
  const bool more = socket.HasBuffered() && socket.pending.size() <= kMaxRequestHead;
  Examine(it);
  if (more && waiting_.count(fd) != 0) OnReadable(fd);
}

void HeadReader::Examine(std::unordered_map<int, Waiting>::iterator it) {
  Waiting& waiting = it->second;
  ClientSocket& socket = *waiting.socket;
  if (!waiting.scan.started()) {
    socket.pending.erase(0, LeadingEmptyLines(socket.pending));
    if (socket.pending.empty()) return;
  }
  if (!socket.head_started) {
    socket.head_started = Clock::now();
    // The head timeout replaces the (later) idle deadline.
    next_deadline_ = std::min(next_deadline_, DeadlineOf(socket));
  }
  switch (waiting.scan.Next(socket.pending)) {
    case RequestHeadScan::Result::kIncomplete:
      return;
    case RequestHeadScan::Result::kRefused:
      handlers_.refuse(socket, waiting.scan.status());
      Forget(it);
      return;
    case RequestHeadScan::Result::kComplete: {
      std::shared_ptr<ClientSocket> ready = std::move(waiting.socket);
      ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, ready->fd, nullptr);
      waiting_.erase(it);
      waiting_count_.store(waiting_.size());
      handlers_.serve(std::move(ready));
      return;
    }
  }
}

void HeadReader::Forget(std::unordered_map<int, Waiting>::iterator it) {
  // Closing the descriptor (the socket's destructor) also drops it from epoll.
  waiting_.erase(it);
  waiting_count_.store(waiting_.size());
}

Clock::time_point HeadReader::DeadlineOf(const ClientSocket& socket) const {
  if (socket.head_started) return *socket.head_started + options_.io_timeout;
  return socket.idle_since + std::max(options_.keep_alive_timeout, std::chrono::seconds(1));
}

void HeadReader::Sweep(Clock::time_point now) {
  last_sweep_ = now;
  next_deadline_ = Clock::time_point::max();
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    const auto next = std::next(it);
    ClientSocket& socket = *it->second.socket;
    const auto deadline = DeadlineOf(socket);
    if (deadline <= now) {
      // A head begun and not finished is answered; an idle connection just
      // ends (a keep-alive client expects that).
      if (socket.head_started) handlers_.refuse(socket, 408);
      Forget(it);
    } else {
      next_deadline_ = std::min(next_deadline_, deadline);
    }
    it = next;
  }
}

int HeadReader::WaitMillis(Clock::time_point now) const {
  auto wake = next_deadline_;
  if (wake != Clock::time_point::max()) wake = std::max(wake, last_sweep_ + kSweepEvery);
  if (!listener_watched_) wake = std::min(wake, listener_paused_until_);
  if (wake == Clock::time_point::max()) return -1;
  if (wake <= now) return 0;
  // Rounded up: waking a moment early would only loop back to sleep.
  return static_cast<int>(
      std::chrono::duration_cast<std::chrono::milliseconds>(wake - now).count() + 1);
}

}  // namespace quayd
