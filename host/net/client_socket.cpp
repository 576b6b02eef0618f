#include "host/net/client_socket.h"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>

#include "host/net/connection_cap.h"

namespace quayd {
namespace {

// Waits for `events` on `fd` up to `wait`; false on timeout or error.
bool WaitFor(int fd, short events, std::chrono::milliseconds wait) {
  pollfd p{fd, events, 0};
  const int ms = static_cast<int>(std::min<int64_t>(wait.count(), INT_MAX));
  for (;;) {
    const int n = ::poll(&p, 1, ms);
    if (n > 0) return true;
    if (n == 0) return false;
    if (errno != EINTR) return false;
  }
}

}  // namespace

ClientSocket::ClientSocket(int fd_in, std::string host_in, int port_in, ConnectionCap* cap)
    : fd(fd_in), host(std::move(host_in)), port(port_in), cap_(cap) {}

ClientSocket::~ClientSocket() {
  if (ssl_ != nullptr) {
    // close_notify, without waiting for the peer's.
    if (handshake_done_) SSL_shutdown(ssl_);
    SSL_free(ssl_);
  }
  ::close(fd);
  if (cap_ != nullptr) cap_->Remove(host);
}

void ClientSocket::StartTls(ssl_st* ssl, std::chrono::milliseconds recv_wait,
                            std::chrono::milliseconds send_wait) {
  ssl_ = ssl;
  recv_wait_ = recv_wait;
  send_wait_ = send_wait;
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  SSL_set_fd(ssl_, fd);
  SSL_set_accept_state(ssl_);
}

int ClientSocket::ContinueHandshake() {
  if (handshake_done()) return 1;
  ERR_clear_error();
  const int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    handshake_done_ = true;
    return 1;
  }
  const int err = SSL_get_error(ssl_, r);
  // WANT_WRITE: the server's flight did not fit the send buffer; the
  // client's next flight (after it read ours) wakes us again.
  if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) return 0;
  return -1;
}

bool ClientSocket::HasBuffered() const { return ssl_ != nullptr && SSL_pending(ssl_) > 0; }

ssize_t ClientSocket::Recv(void* buf, size_t n, bool dontwait) {
  if (ssl_ == nullptr) return ::recv(fd, buf, n, dontwait ? MSG_DONTWAIT : 0);
  for (;;) {
    if (!handshake_done_) {
      const int h = ContinueHandshake();
      if (h < 0) {
        errno = ECONNRESET;
        return -1;
      }
      if (h == 0) {
        if (dontwait || !WaitFor(fd, POLLIN, recv_wait_)) {
          errno = EAGAIN;
          return -1;
        }
        continue;
      }
    }
    size_t got = 0;
    ERR_clear_error();
    if (SSL_read_ex(ssl_, buf, n, &got) == 1) return static_cast<ssize_t>(got);
    const int err = SSL_get_error(ssl_, 0);
    if (err == SSL_ERROR_ZERO_RETURN) return 0;  // close_notify
    if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
      if (dontwait || !WaitFor(fd, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, recv_wait_)) {
        errno = EAGAIN;
        return -1;
      }
      continue;
    }
    // A peer that closes without close_notify ends the stream like TCP.
    if (err == SSL_ERROR_SYSCALL && errno == 0) return 0;
    if (errno == 0) errno = ECONNRESET;
    return -1;
  }
}

ssize_t ClientSocket::Send(const iovec* iov, int count, bool dontwait) {
  if (ssl_ == nullptr) {
    msghdr message{};
    message.msg_iov = const_cast<iovec*>(iov);
    message.msg_iovlen = static_cast<size_t>(count);
    return ::sendmsg(fd, &message, MSG_NOSIGNAL | (dontwait ? MSG_DONTWAIT : 0));
  }
  if (count <= 0) return 0;
  if (!handshake_done_) {
    errno = EPIPE;  // nothing may be written before the handshake
    return -1;
  }
  for (;;) {
    size_t sent = 0;
    ERR_clear_error();
    if (SSL_write_ex(ssl_, iov[0].iov_base, iov[0].iov_len, &sent) == 1) {
      return static_cast<ssize_t>(sent);
    }
    const int err = SSL_get_error(ssl_, 0);
    if (err == SSL_ERROR_WANT_WRITE || err == SSL_ERROR_WANT_READ) {
      if (dontwait || !WaitFor(fd, err == SSL_ERROR_WANT_WRITE ? POLLOUT : POLLIN, send_wait_)) {
        errno = EAGAIN;
        return -1;
      }
      continue;
    }
    if (errno == 0) errno = EPIPE;
    return -1;
  }
}

}  // namespace quayd
