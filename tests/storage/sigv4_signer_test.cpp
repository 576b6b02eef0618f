// Signature V4 against AWS's published examples (no network): the
// aws-sig-v4-test-suite's get-vanilla cases and the S3 developer guide's
// header-based examples. Plus the encodings and XML parsing the S3 client
// relies on.
#include "storage/s3/sigv4_signer.h"

#include <doctest/doctest.h>

#include "storage/s3/s3_client.h"

namespace quay::storage::s3 {
namespace {

constexpr const char* kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// The S3 developer guide's credentials and time ("Examples: Signature
// Calculations in AWS Signature Version 4").
SigV4Credentials S3GuideCredentials() {
  return {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "us-east-1", "s3"};
}
constexpr const char* kS3GuideDate = "20130524T000000Z";
constexpr const char* kS3GuideHost = "examplebucket.s3.amazonaws.com";

// The aws-sig-v4-test-suite's credentials and time.
SigV4Credentials SuiteCredentials() {
  return {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "us-east-1", "service"};
}
constexpr const char* kSuiteDate = "20150830T123600Z";

TEST_CASE("sigv4: get-vanilla from the AWS test suite") {
  SigV4Request request{"GET",
                       "/",
                       {},
                       {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", kSuiteDate}},
                       kEmptySha256};
  const SigV4Signature sig = SignV4(SuiteCredentials(), kSuiteDate, request);
  CHECK(sig.canonical_request ==
        "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" +
            std::string(kEmptySha256));
  CHECK(sig.string_to_sign ==
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
        "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  CHECK(sig.authorization ==
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        "SignedHeaders=host;x-amz-date, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST_CASE("sigv4: get-vanilla-query-order-key-case sorts the query by name") {
  SigV4Request request{"GET",
                       "/",
                       {{"Param2", "value2"}, {"Param1", "value1"}},
                       {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", kSuiteDate}},
                       kEmptySha256};
  const SigV4Signature sig = SignV4(SuiteCredentials(), kSuiteDate, request);
  CHECK(sig.signature == "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST_CASE("sigv4: the S3 guide's GET object with a range") {
  SigV4Request request{"GET",
                       "/test.txt",
                       {},
                       {{"Host", kS3GuideHost},
                        {"Range", "bytes=0-9"},
                        {"x-amz-content-sha256", kEmptySha256},
                        {"x-amz-date", kS3GuideDate}},
                       kEmptySha256};
  const SigV4Signature sig = SignV4(S3GuideCredentials(), kS3GuideDate, request);
  CHECK(sig.string_to_sign ==
        "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
        "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  CHECK(sig.signed_headers == "host;range;x-amz-content-sha256;x-amz-date");
  CHECK(sig.authorization ==
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
        "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
        "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST_CASE("sigv4: the S3 guide's PUT object with an escaped key and a payload") {
  const std::string body = "Welcome to Amazon S3.";
  const std::string payload = Sha256Hex(body);
  CHECK(payload == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  SigV4Request request{"PUT",
                       "/" + UriEncode("test$file.text", false),
                       {},
                       {{"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                        {"Host", kS3GuideHost},
                        {"x-amz-content-sha256", payload},
                        {"x-amz-date", kS3GuideDate},
                        {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
                       payload};
  const SigV4Signature sig = SignV4(S3GuideCredentials(), kS3GuideDate, request);
  CHECK(sig.canonical_request.starts_with("PUT\n/test%24file.text\n\n"));
  CHECK(sig.signature == "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST_CASE("sigv4: the S3 guide's GET bucket lifecycle (a flag parameter)") {
  SigV4Request request{"GET",
                       "/",
                       {{"lifecycle", ""}},
                       {{"Host", kS3GuideHost},
                        {"x-amz-content-sha256", kEmptySha256},
                        {"x-amz-date", kS3GuideDate}},
                       kEmptySha256};
  const SigV4Signature sig = SignV4(S3GuideCredentials(), kS3GuideDate, request);
  CHECK(sig.canonical_request.starts_with("GET\n/\nlifecycle=\n"));
  CHECK(sig.signature == "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST_CASE("sigv4: the S3 guide's list objects (query sorted and encoded)") {
  SigV4Request request{"GET",
                       "/",
                       {{"prefix", "J"}, {"max-keys", "2"}},
                       {{"Host", kS3GuideHost},
                        {"x-amz-content-sha256", kEmptySha256},
                        {"x-amz-date", kS3GuideDate}},
                       kEmptySha256};
  const SigV4Signature sig = SignV4(S3GuideCredentials(), kS3GuideDate, request);
  CHECK(sig.signature == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

// The S3 guide's presigned URL example ("Authenticating Requests: Using
// Query Parameters"): GET /test.txt for 86400 s.
TEST_CASE("sigv4: the S3 guide's presigned GET") {
  const std::string query = PresignV4Query(S3GuideCredentials(), kS3GuideDate, "GET", "/test.txt",
                                           kS3GuideHost, std::chrono::seconds(86400));
  CHECK(query ==
        "X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
        "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
  CHECK(query.find("wJalrXUtnFEMI") == std::string::npos);
}

TEST_CASE("sigv4: header values are trimmed, names lower-cased, the secret never shows") {
  SigV4Request request{
      "GET",
      "/",
      {},
      {{"HOST", "  example.amazonaws.com  "}, {"X-Amz-Date", kSuiteDate}, {"X-Custom", "a   b  c"}},
      kEmptySha256};
  const SigV4Signature sig = SignV4(SuiteCredentials(), kSuiteDate, request);
  CHECK(sig.canonical_request.find("host:example.amazonaws.com\n") != std::string::npos);
  CHECK(sig.canonical_request.find("x-custom:a b c\n") != std::string::npos);
  CHECK(sig.signed_headers == "host;x-amz-date;x-custom");
  for (const std::string* text :
       {&sig.canonical_request, &sig.string_to_sign, &sig.authorization}) {
    CHECK(text->find(SuiteCredentials().secret_key) == std::string::npos);
  }
}

TEST_CASE("sigv4: URI encoding and the canonical query") {
  CHECK(UriEncode("a b+c", true) == "a%20b%2Bc");
  CHECK(UriEncode("A-z_0.9~", true) == "A-z_0.9~");
  CHECK(UriEncode("dir/file", false) == "dir/file");
  CHECK(UriEncode("dir/file", true) == "dir%2Ffile");
  CHECK(UriEncode("=&?#%", true) == "%3D%26%3F%23%25");
  CHECK(UriEncode("caf\xc3\xa9", true) == "caf%C3%A9");
  CHECK(CanonicalQuery({{"uploads", ""}, {"prefix", "a/b c"}}) == "prefix=a%2Fb%20c&uploads=");
  CHECK(AmzDate(std::chrono::system_clock::time_point(std::chrono::seconds(1440938160))) ==
        kSuiteDate);
}

TEST_CASE("s3 xml: elements, entities and nesting") {
  const std::string xml =
      "<ListBucketResult><IsTruncated>true</IsTruncated>"
      "<Contents><Key>a&amp;b</Key><Size>12</Size></Contents>"
      "<Contents><Key>&#x3c;c&#62;</Key><Size>0</Size></Contents>"
      "<KeyCount>2</KeyCount></ListBucketResult>";
  auto contents = XmlElements(xml, "Contents");
  REQUIRE(contents.size() == 2);
  CHECK(XmlFirst(contents[0], "Key") == "a&b");
  CHECK(XmlFirst(contents[1], "Key") == "<c>");
  CHECK(XmlFirst(xml, "KeyCount") == "2");
  CHECK(XmlFirst(xml, "IsTruncated") == "true");
  CHECK(XmlFirst(xml, "Missing").empty());
  CHECK(XmlDecode("&quot;etag&quot; &unknown; &#233;") == "\"etag\" &unknown; \xc3\xa9");
}

}  // namespace
}  // namespace quay::storage::s3
