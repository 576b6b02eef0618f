#include "storage/s3/sigv4_signer.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <ctime>

#include "core/str_cat.h"

namespace quay::storage::s3 {
namespace {

constexpr char kHex[] = "0123456789abcdef";

std::string Hex(const unsigned char* bytes, size_t n) {
  std::string out;
  out.reserve(n * 2);
  for (size_t i = 0; i < n; ++i) {
    out.push_back(kHex[bytes[i] >> 4]);
    out.push_back(kHex[bytes[i] & 0xf]);
  }
  return out;
}

// HMAC-SHA256 of `data` under `key`; 32 raw bytes.
std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<const char*>(out), len);
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Leading and trailing spaces removed, inner runs of spaces made one.
std::string TrimValue(std::string_view value) {
  std::string out;
  bool space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      space = !out.empty();
      continue;
    }
    if (space) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

bool Unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

}  // namespace

std::string UriEncode(std::string_view text, bool encode_slash) {
  constexpr char kUpperHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (Unreserved(c) || (c == '/' && !encode_slash)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kUpperHex[c >> 4]);
      out.push_back(kUpperHex[c & 0xf]);
    }
  }
  return out;
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), md);
  return Hex(md, sizeof md);
}

std::string CanonicalQuery(const NameValues& query) {
  NameValues encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(UriEncode(name, true), UriEncode(value, true));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out.push_back('&');
    out.append(name).append("=").append(value);
  }
  return out;
}

std::string AmzDate(std::chrono::system_clock::time_point when) {
  const std::time_t t = std::chrono::system_clock::to_time_t(when);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

SigV4Signature SignV4(const SigV4Credentials& credentials, std::string_view amz_date,
                      const SigV4Request& request) {
  NameValues headers;
  headers.reserve(request.headers.size());
  for (const auto& [name, value] : request.headers) {
    headers.emplace_back(Lower(name), TrimValue(value));
  }
  std::stable_sort(headers.begin(), headers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });

  SigV4Signature out;
  std::string canonical_headers;
  for (size_t i = 0; i < headers.size(); ++i) {
    // A repeated header is signed once, its values joined by commas.
    if (i > 0 && headers[i].first == headers[i - 1].first) {
      canonical_headers.pop_back();  // the '\n'
      canonical_headers.append(",").append(headers[i].second).append("\n");
      continue;
    }
    canonical_headers.append(headers[i].first).append(":").append(headers[i].second).append("\n");
    if (!out.signed_headers.empty()) out.signed_headers.push_back(';');
    out.signed_headers.append(headers[i].first);
  }

  out.canonical_request.append(request.method)
      .append("\n")
      .append(request.canonical_uri.empty() ? "/" : request.canonical_uri)
      .append("\n")
      .append(CanonicalQuery(request.query))
      .append("\n")
      .append(canonical_headers)
      .append("\n")
      .append(out.signed_headers)
      .append("\n")
      .append(request.payload_sha256);

  const std::string_view date = amz_date.substr(0, 8);
  std::string scope(date);
  scope.append("/")
      .append(credentials.region)
      .append("/")
      .append(credentials.service)
      .append("/aws4_request");
  out.string_to_sign.append("AWS4-HMAC-SHA256\n")
      .append(amz_date)
      .append("\n")
      .append(scope)
      .append("\n")
      .append(Sha256Hex(out.canonical_request));

  std::string key = core::StrCat({"AWS4", credentials.secret_key});
  key = HmacSha256(key, date);
  key = HmacSha256(key, credentials.region);
  key = HmacSha256(key, credentials.service);
  key = HmacSha256(key, "aws4_request");
  const std::string raw = HmacSha256(key, out.string_to_sign);
  OPENSSL_cleanse(key.data(), key.size());
  out.signature = Hex(reinterpret_cast<const unsigned char*>(raw.data()), raw.size());

  out.authorization.append("AWS4-HMAC-SHA256 Credential=")
      .append(credentials.access_key)
      .append("/")
      .append(scope)
      .append(", SignedHeaders=")
      .append(out.signed_headers)
      .append(", Signature=")
      .append(out.signature);
  return out;
}

std::string PresignV4Query(const SigV4Credentials& credentials, std::string_view amz_date,
                           std::string_view method, std::string_view canonical_uri,
                           std::string_view host, std::chrono::seconds expires) {
  std::string credential = credentials.access_key;
  credential.append("/")
      .append(amz_date.substr(0, 8))
      .append("/")
      .append(credentials.region)
      .append("/")
      .append(credentials.service)
      .append("/aws4_request");
  SigV4Request request;
  request.method = std::string(method);
  request.canonical_uri = std::string(canonical_uri);
  request.query = {{"X-Amz-Algorithm", "AWS4-HMAC-SHA256"},
                   {"X-Amz-Credential", std::move(credential)},
                   {"X-Amz-Date", std::string(amz_date)},
                   {"X-Amz-Expires", std::to_string(expires.count())},
                   {"X-Amz-SignedHeaders", "host"}};
  request.headers = {{"host", std::string(host)}};
  request.payload_sha256 = "UNSIGNED-PAYLOAD";
  const SigV4Signature signature = SignV4(credentials, amz_date, request);
  std::string query = CanonicalQuery(request.query);
  query.append("&X-Amz-Signature=").append(signature.signature);
  return query;
}

}  // namespace quay::storage::s3
