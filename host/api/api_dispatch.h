// The pipeline of Quay's surfaces (/api/v1, /oauth, /csrf_token): route
// lookup in the trie, feature flags (a hidden route is 404), credentials
// (an OAuth bearer token, else the session cookie; Basic is ignored as in
// Quay), CSRF on cookie-authenticated writes, read-only mode, the route's
// Need asked of the library's Authorizer, fresh login, the JSON body, the
// handler, and errors in the surface's format.
#pragma once

#include <memory>
#include <string_view>

#include "host/api/api_exchange.h"
#include "host/route/path_trie.h"

namespace httplib {
class ContentReader;
struct Request;
struct Response;
}  // namespace httplib

namespace quayd {

class RequestBody;

class ApiDispatcher {
 public:
  explicit ApiDispatcher(ApiServices services);
  // True for paths this dispatcher owns (/api/, /oauth/, /csrf_token).
  static bool Owns(std::string_view path);
  void Serve(const httplib::Request& req, httplib::Response& res, RequestBody& body);

 private:
  quay::Status Authenticate(ApiExchange& ex);
  quay::Status Authorize(ApiExchange& ex);
  ApiServices services_;
  PathTrie trie_;
};

}  // namespace quayd
