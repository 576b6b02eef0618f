#include "host/cmd/startup.h"

#include <fcntl.h>
#include <httplib.h>
#include <unistd.h>

#include "host/route/errors.h"

namespace quayd {

StartupResponder::StartupResponder(int listen_fd, HttpServerOptions options,
                                   std::shared_ptr<quay::Logger> logger)
    : health_(HealthProbes{}, std::move(logger)) {
  options.listen_fd = ::fcntl(listen_fd, F_DUPFD_CLOEXEC, 0);
  // Few clients arrive during startup; each gets its answer at once.
  options.threads = 4;
  HttpHandlers handlers;
  handlers.serve = [this](const httplib::Request& req, httplib::Response& res,
                          const httplib::ContentReader*) {
    if (Health::Owns(req.path)) {
      health_.Serve(req, res);  // never ready: /healthz 200, the rest 503
      return;
    }
    WriteError(res, quay::Status::Unavailable("quayd is starting"));
    res.set_header("Retry-After", "1");
  };
  handlers.reject = [](httplib::Response& res, int status, std::string_view message) {
    WriteError(res, quay::Status::Unavailable(std::string(message)));
    res.status = status;
  };
  handlers.decorate = [](const httplib::Request&, httplib::Response& res) {
    res.set_header("Connection", "close");
  };
  handlers.log = [](const httplib::Request&, const httplib::Response&) {};
  http_ = std::make_unique<HttpServer>(std::move(options), std::move(handlers));
}

StartupResponder::~StartupResponder() { Stop(); }

bool StartupResponder::Start() {
  int port = 0;
  if (!http_->Bind(port).ok()) return false;
  thread_ = std::thread([this] { http_->Run(); });
  return true;
}

void StartupResponder::Stop() {
  http_->Stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace quayd
