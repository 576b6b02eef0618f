#include "host/api/json.h"

#include <httplib.h>

#include <ctime>

namespace quayd {

void Reply(httplib::Response& res, int status, const Json& json) {
  res.status = status;
  res.headers.erase("Content-Length");
  res.set_content(json.str(), "application/json");
}

void ReplyEmpty(httplib::Response& res, int status) {
  res.status = status;
  res.headers.erase("Content-Length");
  if (status != 204) res.set_content("", "application/json");
}

std::optional<std::string> OptString(const rapidjson::Value& doc, const char* key) {
  if (!doc.IsObject()) return std::nullopt;
  auto it = doc.FindMember(key);
  if (it == doc.MemberEnd() || !it->value.IsString()) return std::nullopt;
  return std::string(it->value.GetString(), it->value.GetStringLength());
}

quay::Result<std::string> RequireString(const rapidjson::Value& doc, const char* key) {
  std::optional<std::string> v = OptString(doc, key);
  if (!v) {
    return quay::Status::InvalidArgument(quay::Subject::kNone,
                                         std::string("'") + key + "' is a required property");
  }
  return *v;
}

std::optional<bool> OptBool(const rapidjson::Value& doc, const char* key) {
  if (!doc.IsObject()) return std::nullopt;
  auto it = doc.FindMember(key);
  if (it == doc.MemberEnd() || !it->value.IsBool()) return std::nullopt;
  return it->value.GetBool();
}

std::optional<int64_t> OptInt(const rapidjson::Value& doc, const char* key) {
  if (!doc.IsObject()) return std::nullopt;
  auto it = doc.FindMember(key);
  if (it == doc.MemberEnd() || !it->value.IsInt64()) return std::nullopt;
  return it->value.GetInt64();
}

int64_t Seconds(quay::Clock::TimePoint t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

std::string Rfc2822(quay::Clock::TimePoint t) {
  std::time_t s = static_cast<std::time_t>(Seconds(t));
  std::tm tm{};
  gmtime_r(&s, &tm);
  char out[40];
  std::strftime(out, sizeof out, "%a, %d %b %Y %H:%M:%S -0000", &tm);
  return out;
}

}  // namespace quayd
