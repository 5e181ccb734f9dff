#include "aws/s3_addressing.h"

#include "aws/env_text.h"
#include "aws/uri_encoding.h"

namespace ddb2pg::aws {

std::string ResolveS3Endpoint(const EnvLookup& env) {
  const auto ignore = Env(env, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
  if (ignore && ToLower(*ignore) == "true") return "";
  std::optional<std::string> endpoint = Env(env, "AWS_ENDPOINT_URL_S3");
  if (!endpoint) endpoint = Env(env, "AWS_ENDPOINT_URL");
  if (!endpoint) return "";
  std::string url = std::move(*endpoint);
  while (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}


std::string S3Url(std::string_view endpoint, std::string_view region, std::string_view bucket, std::string_view key,
                  std::string_view query) {
  std::string url;
  const std::string domain =
      std::string_view(region).starts_with("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
  if (!endpoint.empty()) {
    url = std::string(endpoint) + "/" + UriEncode(bucket, false) + "/";
  } else if (bucket.find('.') != std::string_view::npos) {
    url = "https://s3." + std::string(region) + "." + domain + "/" + UriEncode(bucket, false) + "/";
  } else {
    url = "https://" + std::string(bucket) + ".s3." + std::string(region) + "." + domain + "/";
  }
  url += UriEncode(key, true);
  if (!query.empty()) {
    url.push_back('?');
    url += query;
  }
  return url;
}

core::Result<S3Location> ParseS3Uri(std::string_view uri) {
  constexpr std::string_view kScheme = "s3://";
  if (!uri.starts_with(kScheme)) {
    return core::Status::InvalidArgument("'" + std::string(uri) + "' is not an S3 URI (s3://bucket/key)");
  }
  const std::string_view rest = uri.substr(kScheme.size());
  const size_t slash = rest.find('/');
  if (slash == 0 || slash == std::string_view::npos || slash + 1 == rest.size()) {
    return core::Status::InvalidArgument("'" + std::string(uri) + "' names no bucket and key (s3://bucket/key)");
  }
  return S3Location{std::string(rest.substr(0, slash)), std::string(rest.substr(slash + 1))};
}

}  // namespace ddb2pg::aws
