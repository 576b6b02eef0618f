#include "quay/reference.h"

#include <cstdio>
#include <string>

namespace quay {
namespace {

constexpr size_t kMaxRepositoryName = 255;
constexpr size_t kMaxTag = 128;

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsAlnum(char c) { return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z'); }

// Shows a byte in an error message without letting control characters or
// invalid UTF-8 into logs and responses.
std::string Printable(char c) {
  if (c > ' ' && c < 0x7f) return std::string("'") + c + "'";
  char buf[8];
  std::snprintf(buf, sizeof buf, "0x%02x", static_cast<unsigned char>(c));
  return buf;
}

Status NameError(std::string msg) {
  return Status::InvalidArgument(Subject::kName, std::move(msg));
}

// One path component: [a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*. `c` is non-empty.
Status ValidateComponent(std::string_view c) {
  if (!IsLowerAlnum(c.front())) {
    if (c.front() >= 'A' && c.front() <= 'Z') {
      return NameError("repository name must be lower-case");
    }
    return NameError(
        "repository name component must start with a lower-case letter or digit, not " +
        Printable(c.front()));
  }
  size_t i = 0;
  while (i < c.size()) {
    while (i < c.size() && IsLowerAlnum(c[i])) ++i;
    if (i == c.size()) break;

    size_t sep_start = i;
    char sep = c[i];
    if (sep == '.') {
      ++i;
    } else if (sep == '_') {
      ++i;
      if (i < c.size() && c[i] == '_') ++i;
    } else if (sep == '-') {
      while (i < c.size() && c[i] == '-') ++i;
    } else if (sep >= 'A' && sep <= 'Z') {
      return NameError("repository name must be lower-case");
    } else {
      return NameError("repository name must not contain " + Printable(sep) +
                       " (allowed: a-z, 0-9, '.', '_', '-', '/')");
    }

    if (i == c.size()) {
      return NameError("repository name component must end with a lower-case letter or digit");
    }
    if (!IsLowerAlnum(c[i])) {
      if (c[i] >= 'A' && c[i] <= 'Z') return NameError("repository name must be lower-case");
      if (c[i] == '.' || c[i] == '_' || c[i] == '-') {
        return NameError("repository name has an invalid separator sequence \"" +
                         std::string(c.substr(sep_start, i + 1 - sep_start)) +
                         "\" (allowed: '.', '_', '__' or a run of '-')");
      }
      return NameError("repository name must not contain " + Printable(c[i]) +
                       " (allowed: a-z, 0-9, '.', '_', '-', '/')");
    }
  }
  return Status::Ok();
}

}  // namespace

Status ValidateRepositoryName(std::string_view name) {
  if (name.empty()) return NameError("repository name must not be empty");
  if (name.size() > kMaxRepositoryName) {
    return NameError("repository name must be at most 255 characters, got " +
                     std::to_string(name.size()));
  }
  size_t start = 0;
  while (true) {
    size_t slash = name.find('/', start);
    std::string_view component = name.substr(
        start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (component.empty()) return NameError("repository name component must not be empty");
    if (Status s = ValidateComponent(component); !s.ok()) return s;
    if (slash == std::string_view::npos) return Status::Ok();
    start = slash + 1;
  }
}

Status ValidateTag(std::string_view tag) {
  if (tag.empty()) return Status::InvalidArgument(Subject::kTag, "tag must not be empty");
  if (tag.size() > kMaxTag) {
    return Status::InvalidArgument(
        Subject::kTag, "tag must be at most 128 characters, got " + std::to_string(tag.size()));
  }
  if (!IsAlnum(tag.front()) && tag.front() != '_') {
    return Status::InvalidArgument(
        Subject::kTag, "tag must start with a letter, digit or '_', not " + Printable(tag.front()));
  }
  for (char c : tag.substr(1)) {
    if (!IsAlnum(c) && c != '_' && c != '.' && c != '-') {
      return Status::InvalidArgument(
          Subject::kTag,
          "tag must not contain " + Printable(c) + " (allowed: letters, digits, '_', '.', '-')");
    }
  }
  return Status::Ok();
}

Result<Reference> Reference::Parse(std::string_view text) {
  Reference ref;
  if (text.find(':') != std::string_view::npos) {
    Result<Digest> digest = Digest::Parse(text);
    if (!digest.ok()) return digest.status();
    ref.digest_ = std::move(digest).value();
    return ref;
  }
  if (Status s = ValidateTag(text); !s.ok()) return s;
  ref.tag_ = std::string(text);
  return ref;
}

}  // namespace quay
