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

// "Tue, 01 Dec 2026 13:13:18 -0000" without strftime, whose locale and time
// zone machinery cost more than the rest of a tag row.
std::string Rfc2822(quay::Clock::TimePoint t) {
  static constexpr char kDays[] = "ThuFriSatSunMonTueWed";  // 1970-01-01 was a Thursday
  static constexpr char kMonths[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
  const auto seconds = std::chrono::sys_seconds(std::chrono::seconds(Seconds(t)));
  const auto day = std::chrono::floor<std::chrono::days>(seconds);
  const std::chrono::year_month_day ymd(day);
  const std::chrono::hh_mm_ss hms(seconds - day);
  const int64_t days = day.time_since_epoch().count();
  const int weekday = static_cast<int>(((days % 7) + 7) % 7);
  const int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) return "Thu, 01 Jan 1970 00:00:00 -0000";
  std::string out = "Www, DD Mmm YYYY HH:MM:SS -0000";
  auto two = [&](size_t at, unsigned v) {
    out[at] = static_cast<char>('0' + v / 10);
    out[at + 1] = static_cast<char>('0' + v % 10);
  };
  out.replace(0, 3, kDays + 3 * weekday, 3);
  two(5, static_cast<unsigned>(ymd.day()));
  out.replace(8, 3, kMonths + 3 * (static_cast<unsigned>(ymd.month()) - 1), 3);
  two(12, static_cast<unsigned>(year / 100));
  two(14, static_cast<unsigned>(year % 100));
  two(17, static_cast<unsigned>(hms.hours().count()));
  two(20, static_cast<unsigned>(hms.minutes().count()));
  two(23, static_cast<unsigned>(hms.seconds().count()));
  return out;
}

}  // namespace quayd
