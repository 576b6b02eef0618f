#include "host/net/client_socket.h"

#include <unistd.h>

#include "host/net/connection_cap.h"

namespace quayd {

ClientSocket::ClientSocket(int fd_in, std::string host_in, int port_in, ConnectionCap* cap)
    : fd(fd_in), host(std::move(host_in)), port(port_in), cap_(cap) {}

ClientSocket::~ClientSocket() {
  ::close(fd);
  if (cap_ != nullptr) cap_->Remove(host);
}

}  // namespace quayd
