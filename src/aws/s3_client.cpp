#include "aws/s3_client.h"

#include <charconv>

#include "aws/s3_addressing.h"
#include "aws/s3_response_parser.h"
#include "aws/uri_encoding.h"

namespace ddb2pg::aws {
namespace {

AwsClientConfig S3Config(const ResolvedAws& aws, const std::string& endpoint) {
  AwsClientConfig config{endpoint, aws.credentials, aws.region, aws.credential_source};
  config.service = "s3";
  config.signing.s3 = true;
  return config;
}

const std::string* Header(const HttpResponse& response, std::string_view name) {
  for (const auto& [header, value] : response.headers) {
    if (header == name) return &value;
  }
  return nullptr;
}

std::string Unquoted(std::string text) {
  if (text.size() >= 2 && text.front() == '"' && text.back() == '"') return text.substr(1, text.size() - 2);
  return text;
}

bool ParseUnsigned(std::string_view text, uint64_t& out) {
  const auto [ptr, error] = std::from_chars(text.data(), text.data() + text.size(), out);
  return error == std::errc() && ptr == text.data() + text.size() && !text.empty();
}

S3ObjectInfo InfoFromHeaders(const std::string& key, const HttpResponse& response) {
  S3ObjectInfo info;
  info.key = key;
  if (const std::string* etag = Header(response, "etag")) info.etag = Unquoted(*etag);
  if (const std::string* modified = Header(response, "last-modified")) info.last_modified = *modified;
  if (const std::string* length = Header(response, "content-length")) ParseUnsigned(*length, info.size);
  return info;
}

std::string Resource(const std::string& bucket, const std::string& key) { return bucket + "/" + key; }

}  // namespace

S3Client::S3Client(const ResolvedAws& aws, std::string endpoint, RetryPolicy retry, const core::Clock& clock,
                   TransportFactory transports, std::shared_ptr<RetryStats> stats)
    : endpoint_(std::move(endpoint)),
      region_(aws.region),
      client_(S3Config(aws, endpoint_), std::move(retry), clock, std::move(transports), std::move(stats)) {}

core::Result<S3Object> S3Client::GetObject(const std::string& bucket, const std::string& key,
                                           std::optional<ByteRange> range) {
  HttpRequest request;
  request.method = "GET";
  request.url = S3Url(endpoint_, region_, bucket, key);
  if (range) {
    request.headers.emplace_back("Range",
                                 "bytes=" + std::to_string(range->first) + "-" + std::to_string(range->last));
  }
  DDB2PG_ASSIGN_OR_RETURN(HttpResponse response, client_.Send(AwsOperation::kGetObject, Resource(bucket, key),
                                                              std::move(request), S3ResponseCheck));
  S3Object object;
  object.info = InfoFromHeaders(key, response);
  object.info.size = response.body.size();
  if (const std::string* content_range = Header(response, "content-range"); range && content_range) {
    // "bytes 0-9/443": the whole object's size follows the '/' ('*' when the server does not know).
    const size_t slash = content_range->rfind('/');
    uint64_t total = 0;
    if (slash != std::string::npos && ParseUnsigned(std::string_view(*content_range).substr(slash + 1), total)) {
      object.info.size = total;
    }
  }
  object.body = std::move(response.body);
  return object;
}

core::Result<S3ObjectInfo> S3Client::HeadObject(const std::string& bucket, const std::string& key) {
  HttpRequest request;
  request.method = "HEAD";
  request.url = S3Url(endpoint_, region_, bucket, key);
  DDB2PG_ASSIGN_OR_RETURN(HttpResponse response, client_.Send(AwsOperation::kHeadObject, Resource(bucket, key),
                                                              std::move(request), S3ResponseCheck));
  return InfoFromHeaders(key, response);
}

core::Result<S3ListPage> S3Client::ListObjectsV2(const std::string& bucket, const std::string& prefix,
                                                 const std::string& continuation_token, int max_keys) {
  // Sorted by name: the signer sorts the canonical query anyway, and a fixed order makes the URL
  // the same for every attempt.
  std::string query;
  if (!continuation_token.empty()) query += "continuation-token=" + UriEncode(continuation_token, false) + "&";
  query += "list-type=2&max-keys=" + std::to_string(max_keys);
  if (!prefix.empty()) query += "&prefix=" + UriEncode(prefix, false);
  HttpRequest request;
  request.method = "GET";
  request.url = S3Url(endpoint_, region_, bucket, "", query);
  DDB2PG_ASSIGN_OR_RETURN(HttpResponse response, client_.Send(AwsOperation::kListObjectsV2, Resource(bucket, prefix),
                                                              std::move(request), S3ResponseCheck));
  auto page = ParseListObjectsV2(response.body);
  if (!page.ok()) return page.status().WithContext(bucket + "/" + prefix);
  return page;
}

core::Status S3Client::PutObject(const std::string& bucket, const std::string& key, std::string body,
                                 const std::string& content_type) {
  HttpRequest request;
  request.method = "PUT";
  request.url = S3Url(endpoint_, region_, bucket, key);
  request.headers.emplace_back("Content-Type", content_type);
  request.body = std::move(body);
  auto response =
      client_.Send(AwsOperation::kPutObject, Resource(bucket, key), std::move(request), S3ResponseCheck);
  return response.ok() ? core::Status::Ok() : response.status();
}

}  // namespace ddb2pg::aws
