// What only the S3 driver promises, against a real RADOS Gateway (started by
// tests/storage/rgw/rgw_gateway.py): an upload continued by a second store
// (another quayd), the key layout, and faults (a part upload or a commit that
// fails, a gateway that stops answering mid-upload, wrong credentials):
// each an error value, nothing partial visible, and the upload resumable.
#include "storage/s3/s3_blob_store.h"

#include <doctest/doctest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <mutex>
#include <string>

#include "quay/storage.h"
#include "s3_test_support.h"
#include "storage/s3/http_transport.h"
#include "storage/s3/s3_client.h"
#include "storage_test_support.h"

namespace quay {
namespace {

using storage::s3::HttpRequest;
using storage::s3::HttpResponse;
using storage::s3::HttpTransport;
using storage_test::PseudoRandomBytes;
using storage_test::ReadAll;
using storage_test::ReadBlob;
using storage_test::ReadUploadBytes;

constexpr size_t kPart = 5u << 20;

S3Options Options(std::string_view what) {
  auto options = storage_test::S3OptionsFromEnvironment();
  REQUIRE_MESSAGE(options.has_value(), "run through tests/storage/rgw/rgw_gateway.py run");
  options->prefix = storage_test::FreshS3Prefix(what);
  return *options;
}

std::shared_ptr<BlobStore> Open(const S3Options& options) {
  auto store = OpenS3BlobStore(options);
  CAPTURE(store.status().ToString());
  REQUIRE(store.ok());
  return *store;
}

// Fails the requests `fail` picks (with Unavailable, as a dropped connection
// would), passing the others to libcurl.
class FaultyTransport final : public HttpTransport {
 public:
  explicit FaultyTransport(const S3Options& options) {
    storage::s3::HttpTransportOptions o;
    o.stall_timeout = options.stall_timeout;
    inner_ = storage::s3::NewCurlTransport(o);
  }
  Result<HttpResponse> Send(const HttpRequest& request) override {
    {
      std::lock_guard lock(mu_);
      if (fail_ && fail_(request)) {
        ++failed_;
        return Status::Unavailable("injected: connection reset");
      }
    }
    return inner_->Send(request);
  }
  void FailWhen(std::function<bool(const HttpRequest&)> fail) {
    std::lock_guard lock(mu_);
    fail_ = std::move(fail);
  }
  int failed() {
    std::lock_guard lock(mu_);
    return failed_;
  }

 private:
  std::shared_ptr<HttpTransport> inner_;
  std::mutex mu_;
  std::function<bool(const HttpRequest&)> fail_;
  int failed_ = 0;
};

bool IsPartPut(const HttpRequest& r) {
  return r.method == "PUT" && r.url.find("/upload-data/") != std::string::npos;
}

void AppendAll(UploadWriter& writer, std::string_view bytes, size_t chunk = 256u << 10) {
  for (size_t off = 0; off < bytes.size(); off += chunk) {
    const size_t n = std::min(chunk, bytes.size() - off);
    REQUIRE(writer.Append(bytes.data() + off, n).ok());
  }
}

void CheckNoBlobs(BlobStore& store) {
  auto blobs = store.ListBlobs();
  REQUIRE(blobs.ok());
  CHECK(blobs->empty());
}

TEST_CASE("an upload written on one store is continued and committed on another") {
  // Two quayd instances behind a balancer: PATCHes on A, more PATCHes and
  // the final PUT on B. Only what A synced counts.
  const S3Options options = Options("resume");
  auto a = Open(options);
  auto b = Open(options);
  const std::string bytes = PseudoRandomBytes(2 * kPart + 12345, 1);
  const size_t synced = kPart + 777;  // one full part and a partial one
  {
    auto writer = a->CreateUpload("shared");
    REQUIRE(writer.ok());
    AppendAll(**writer, std::string_view(bytes).substr(0, synced));
    REQUIRE((*writer)->Sync().ok());
    auto uploads = b->ListUploads();
    REQUIRE(uploads.ok());
    CHECK(*uploads == std::vector<std::string>{"shared"});
    // B sees the synced bytes while A's writer is still open.
    CHECK(ReadUploadBytes(*b, "shared") == bytes.substr(0, synced));
    // Bytes appended on A and not synced are not in the store.
    REQUIRE((*writer)->Append("unsynced", 8).ok());
    CHECK(ReadUploadBytes(*b, "shared").size() == synced);
    CHECK(ReadUploadBytes(*a, "shared").size() == synced + 8);  // A's own view has them
  }
  // A's writer is gone (its unsynced bytes were written on destruction); B
  // resumes from the acknowledged offset, which drops them.
  auto resumed = b->OpenUpload("shared", synced);
  REQUIRE(resumed.ok());
  CHECK((*resumed)->size() == synced);
  AppendAll(**resumed, std::string_view(bytes).substr(synced));
  REQUIRE((*resumed)->Sync().ok());
  CHECK(ReadUploadBytes(*a, "shared") == bytes);
  const Digest digest = Digest::Of(bytes);
  REQUIRE((*resumed)->Commit(digest).ok());
  CHECK(ReadBlob(*a, digest) == bytes);
  auto uploads = a->ListUploads();
  REQUIRE(uploads.ok());
  CHECK(uploads->empty());
}

TEST_CASE("reopening on another store truncates inside a full part") {
  const S3Options options = Options("truncate");
  auto a = Open(options);
  auto b = Open(options);
  const std::string bytes = PseudoRandomBytes(kPart + 100, 2);
  {
    auto writer = a->CreateUpload("t1");
    REQUIRE(writer.ok());
    AppendAll(**writer, bytes);
    REQUIRE((*writer)->Sync().ok());
  }
  const size_t keep = kPart - 10;  // inside the first, sealed part
  auto writer = b->OpenUpload("t1", keep);
  REQUIRE(writer.ok());
  CHECK((*writer)->size() == keep);
  REQUIRE((*writer)->Sync().ok());
  // Truncation is in the store at once, for every instance.
  CHECK(ReadUploadBytes(*a, "t1") == bytes.substr(0, keep));
  REQUIRE((*writer)->Append("tail", 4).ok());
  const std::string expected = bytes.substr(0, keep) + "tail";
  REQUIRE((*writer)->Commit(Digest::Of(expected)).ok());
  CHECK(ReadBlob(*a, Digest::Of(expected)) == expected);
}

TEST_CASE("blobs live under <prefix>/sha256/<2 hex>/<hex> and ranged reads cross parts") {
  S3Options options = Options("layout");
  options.read_ahead = 64u << 10;
  auto store = Open(options);
  const std::string bytes = PseudoRandomBytes(2 * kPart + 3, 3);
  auto writer = store->CreateUpload("big");
  REQUIRE(writer.ok());
  AppendAll(**writer, bytes, 1u << 20);
  const Digest digest = Digest::Of(bytes);
  REQUIRE((*writer)->Commit(digest).ok());

  storage::s3::S3Client client(
      {options.endpoint, options.bucket, {options.access_key, options.secret_key, options.region}},
      storage::s3::NewCurlTransport({}), Clock::System());
  const std::string hex(digest.hex());
  auto size =
      client.HeadObject(options.prefix + "/sha256/" + hex.substr(0, 2) + "/" + hex, Subject::kBlob);
  REQUIRE(size.ok());
  CHECK(*size == bytes.size());
  auto leftovers = client.ListObjects(options.prefix + "/upload-data/");
  REQUIRE(leftovers.ok());
  CHECK(leftovers->empty());
  auto in_flight = client.ListMultipartUploads(options.prefix + "/");
  REQUIRE(in_flight.ok());
  CHECK(in_flight->empty());

  auto reader = store->OpenBlob(digest);
  REQUIRE(reader.ok());
  CHECK((*reader)->size() == bytes.size());
  for (uint64_t offset : {uint64_t{0}, uint64_t{kPart - 5}, uint64_t{kPart}, uint64_t{2 * kPart},
                          uint64_t{bytes.size() - 1}, uint64_t{12345}}) {
    CAPTURE(offset);
    char buf[100];
    auto n = (*reader)->ReadAt(offset, buf, sizeof buf);
    REQUIRE(n.ok());
    const size_t expected = std::min<size_t>(sizeof buf, bytes.size() - offset);
    REQUIRE(*n == expected);
    CHECK(std::string(buf, *n) == bytes.substr(offset, *n));
  }
  CHECK(ReadAll(**reader) == bytes);
}

TEST_CASE("a part upload that fails is an error; the upload resumes from its last sync") {
  const S3Options options = Options("part-fault");
  auto transport = std::make_shared<FaultyTransport>(options);
  auto opened = storage::s3::OpenS3BlobStoreWithTransport(options, transport);
  REQUIRE(opened.ok());
  auto store = *opened;
  const std::string bytes = PseudoRandomBytes(2 * kPart + 5, 4);

  auto writer = store->CreateUpload("pf");
  REQUIRE(writer.ok());
  REQUIRE((*writer)->Append(bytes.data(), 1000).ok());
  REQUIRE((*writer)->Sync().ok());
  transport->FailWhen(IsPartPut);
  // Crossing the part boundary writes the part, which fails.
  Status s = (*writer)->Append(bytes.data() + 1000, kPart);
  CHECK(s.code() == Code::kUnavailable);
  CHECK(transport->failed() == 1);
  CHECK((*writer)->Sync().code() == Code::kUnavailable);
  CHECK((*writer)->Commit(Digest::Of(bytes)).code() == Code::kUnavailable);
  transport->FailWhen(nullptr);
  CheckNoBlobs(*store);
  writer->reset();

  // The registry reopens at the acknowledged offset and carries on.
  auto resumed = store->OpenUpload("pf", 1000);
  REQUIRE(resumed.ok());
  AppendAll(**resumed, std::string_view(bytes).substr(1000));
  const Digest digest = Digest::Of(bytes);
  REQUIRE((*resumed)->Commit(digest).ok());
  CHECK(ReadBlob(*store, digest) == bytes);
}

TEST_CASE("a commit whose multipart completion fails leaves no blob and can be retried") {
  const S3Options options = Options("commit-fault");
  auto transport = std::make_shared<FaultyTransport>(options);
  auto opened = storage::s3::OpenS3BlobStoreWithTransport(options, transport);
  REQUIRE(opened.ok());
  auto store = *opened;
  const std::string bytes = PseudoRandomBytes(kPart + 4096, 5);
  const Digest digest = Digest::Of(bytes);
  {
    auto writer = store->CreateUpload("cf");
    REQUIRE(writer.ok());
    AppendAll(**writer, bytes);
    REQUIRE((*writer)->Sync().ok());
    transport->FailWhen([](const HttpRequest& r) {
      return r.method == "POST" && r.url.find("uploadId=") != std::string::npos;
    });
    Status s = (*writer)->Commit(digest);
    CHECK(s.code() == Code::kUnavailable);
    transport->FailWhen(nullptr);
  }
  CHECK(store->BlobSize(digest).status().code() == Code::kNotFound);
  CheckNoBlobs(*store);
  storage::s3::S3Client client(
      {options.endpoint, options.bucket, {options.access_key, options.secret_key, options.region}},
      storage::s3::NewCurlTransport({}), Clock::System());
  auto in_flight = client.ListMultipartUploads(options.prefix + "/");
  REQUIRE(in_flight.ok());
  CHECK(in_flight->empty());  // aborted

  auto retry = store->OpenUpload("cf", bytes.size());
  REQUIRE(retry.ok());
  REQUIRE((*retry)->Commit(digest).ok());
  CHECK(ReadBlob(*store, digest) == bytes);
}

// SIGSTOP/SIGCONT of the gateway process; continues it whatever happens.
class PausedGateway {
 public:
  PausedGateway() {
    const char* pid = std::getenv("QUAY_TEST_RGW_PID");
    REQUIRE(pid != nullptr);
    pid_ = std::atoi(pid);
    REQUIRE(pid_ > 0);
    REQUIRE(::kill(pid_, SIGSTOP) == 0);
  }
  ~PausedGateway() { Resume(); }
  void Resume() {
    if (pid_ > 0) ::kill(pid_, SIGCONT);
    pid_ = 0;
  }

 private:
  pid_t pid_ = 0;
};

TEST_CASE("a gateway that stops answering mid-upload is Unavailable, bounded, and nothing shows") {
  S3Options options = Options("paused");
  options.stall_timeout = std::chrono::milliseconds(2000);
  auto store = Open(options);
  const std::string bytes = PseudoRandomBytes(kPart + 10, 6);
  auto writer = store->CreateUpload("paused");
  REQUIRE(writer.ok());
  REQUIRE((*writer)->Append(bytes.data(), 10).ok());
  REQUIRE((*writer)->Sync().ok());
  {
    PausedGateway paused;
    const auto start = std::chrono::steady_clock::now();
    Status s = (*writer)->Append(bytes.data() + 10, kPart);
    CAPTURE(s.ToString());
    CHECK(s.code() == Code::kUnavailable);
    s = (*writer)->Commit(Digest::Of(bytes));
    CHECK(s.code() == Code::kUnavailable);
    const auto took = std::chrono::steady_clock::now() - start;
    CHECK(took < std::chrono::seconds(20));
  }
  // The writer's destructor may store the unacknowledged bytes (as a file
  // keeps an unsynced write); reopening at the acknowledged offset drops them.
  writer->reset();
  CheckNoBlobs(*store);
  auto resumed = store->OpenUpload("paused", 10);
  REQUIRE(resumed.ok());
  CHECK(ReadUploadBytes(*store, "paused") == bytes.substr(0, 10));
  AppendAll(**resumed, std::string_view(bytes).substr(10));
  REQUIRE((*resumed)->Commit(Digest::Of(bytes)).ok());
  CHECK(ReadBlob(*store, Digest::Of(bytes)) == bytes);
}

TEST_CASE("an endpoint nobody listens on is Unavailable") {
  S3Options options = Options("refused");
  options.endpoint = "http://127.0.0.1:1";
  auto store = OpenS3BlobStore(options);
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().code() == Code::kUnavailable);
}

TEST_CASE("wrong credentials are an error that never names the secret") {
  S3Options options = Options("denied");
  options.secret_key = "not-the-secret-" + options.secret_key;
  auto store = OpenS3BlobStore(options);
  REQUIRE_FALSE(store.ok());
  CAPTURE(store.status().ToString());
  CHECK(store.status().code() == Code::kInternal);
  CHECK(store.status().message().find(options.secret_key) == std::string::npos);
  CHECK(store.status().message().find("SignatureDoesNotMatch") != std::string::npos);
}

TEST_CASE("options are checked before any request") {
  S3Options options = Options("options");
  S3Options bad = options;
  bad.part_size = 1u << 20;
  CHECK(OpenS3BlobStore(bad).status().code() == Code::kInvalidArgument);
  bad = options;
  bad.endpoint = "127.0.0.1:7480";
  CHECK(OpenS3BlobStore(bad).status().code() == Code::kInvalidArgument);
  bad = options;
  bad.secret_key.clear();
  CHECK(OpenS3BlobStore(bad).status().code() == Code::kInvalidArgument);
  bad = options;
  bad.create_bucket = false;
  bad.bucket = "no-such-bucket-" + std::to_string(::getpid());
  CHECK(OpenS3BlobStore(bad).status().code() == Code::kNotFound);
}

}  // namespace
}  // namespace quay

namespace quay {
namespace {

TEST_CASE("listing blobs and uploads follows the store's pages") {
  const S3Options options = Options("pages");
  auto opened = storage::s3::OpenS3BlobStoreWithTransport(
      options, storage::s3::NewCurlTransport({}), /*list_page_size=*/2);
  REQUIRE(opened.ok());
  BlobStore& store = **opened;
  std::vector<Digest> blobs;
  std::vector<std::string> uploads;
  for (int i = 0; i < 5; ++i) {
    blobs.push_back(
        storage_test::PutBlob(store, "b" + std::to_string(i), "blob " + std::to_string(i)));
    uploads.push_back("u" + std::to_string(i));
    REQUIRE(store.CreateUpload(uploads.back()).ok());
  }
  std::sort(blobs.begin(), blobs.end());
  auto listed_blobs = store.ListBlobs();
  REQUIRE(listed_blobs.ok());
  CHECK(*listed_blobs == blobs);
  auto listed_uploads = store.ListUploads();
  REQUIRE(listed_uploads.ok());
  CHECK(*listed_uploads == uploads);
}

}  // namespace
}  // namespace quay

namespace quay {
namespace {

// CreateUpload's Conflict under a race relies on the store refusing a
// second PUT of the marker (If-None-Match: *), not only on its HEAD first.
TEST_CASE("the gateway refuses a conditional PUT over an existing key") {
  const S3Options options = Options("conditional");
  REQUIRE(OpenS3BlobStore(options).ok());  // creates the bucket
  storage::s3::S3Client client(
      {options.endpoint, options.bucket, {options.access_key, options.secret_key, options.region}},
      storage::s3::NewCurlTransport({}), Clock::System());
  const std::string key = options.prefix + "/marker";
  REQUIRE(client.PutObject(key, "first", /*if_absent=*/true).ok());
  Status again = client.PutObject(key, "second", /*if_absent=*/true);
  CAPTURE(again.ToString());
  CHECK(again.code() == Code::kConflict);
  auto kept = client.GetObjectRange(key, 0, 100, Subject::kNone);
  REQUIRE(kept.ok());
  CHECK(kept->bytes == "first");
}

}  // namespace
}  // namespace quay
