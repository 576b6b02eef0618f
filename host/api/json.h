// JSON in and out for the /api/v1 handlers: a small writer over RapidJSON
// and field readers that answer InvalidArgument naming the field.
#pragma once

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "quay/clock.h"
#include "quay/status.h"

namespace httplib {
struct Response;
}

namespace quayd {

class Json {
 public:
  Json& Object() { return w_.StartObject(), *this; }
  Json& End() { return w_.EndObject(), *this; }
  Json& Array() { return w_.StartArray(), *this; }
  Json& EndArray() { return w_.EndArray(), *this; }
  Json& Key(std::string_view k) {
    w_.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
    return *this;
  }
  Json& Str(std::string_view v) {
    w_.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
    return *this;
  }
  Json& Int(int64_t v) { return w_.Int64(v), *this; }
  Json& Bool(bool v) { return w_.Bool(v), *this; }
  Json& Double(double v) { return w_.Double(v), *this; }
  Json& Null() { return w_.Null(), *this; }
  Json& Raw(std::string_view json) {
    w_.RawValue(json.data(), json.size(), rapidjson::kObjectType);
    return *this;
  }
  Json& Field(std::string_view k, std::string_view v) { return Key(k).Str(v); }
  Json& Field(std::string_view k, const char* v) { return Key(k).Str(v); }
  Json& Field(std::string_view k, int64_t v) { return Key(k).Int(v); }
  Json& Field(std::string_view k, int v) { return Key(k).Int(v); }
  Json& Field(std::string_view k, size_t v) { return Key(k).Int(static_cast<int64_t>(v)); }
  Json& Field(std::string_view k, bool v) { return Key(k).Bool(v); }
  Json& NullField(std::string_view k) { return Key(k).Null(); }
  std::string str() const { return std::string(buf_.GetString(), buf_.GetSize()); }

 private:
  rapidjson::StringBuffer buf_;
  rapidjson::Writer<rapidjson::StringBuffer> w_{buf_};
};

// Sets status and an application/json body.
void Reply(httplib::Response& res, int status, const Json& json);
void ReplyEmpty(httplib::Response& res, int status);  // 201/204 without a body ("" for 204)

// Field readers over a JSON object (`doc` may be null: every field absent).
std::optional<std::string> OptString(const rapidjson::Value& doc, const char* key);
quay::Result<std::string> RequireString(const rapidjson::Value& doc, const char* key);
std::optional<bool> OptBool(const rapidjson::Value& doc, const char* key);
std::optional<int64_t> OptInt(const rapidjson::Value& doc, const char* key);

// Seconds since the epoch of a time point.
int64_t Seconds(quay::Clock::TimePoint t);
// RFC 2822 date as Quay's format_date: "Tue, 01 Dec 2026 10:00:00 -0000".
std::string Rfc2822(quay::Clock::TimePoint t);

}  // namespace quayd
