#include "aws/rds_auth_token.h"

#include <algorithm>
#include <cctype>
#include <utility>
#include <vector>

#include "aws/sigv4_signer.h"
#include "aws/uri_encoding.h"

namespace ddb2pg::aws {
namespace {

constexpr std::string_view kService = "rds-db";

}  // namespace

RdsAuthToken::RdsAuthToken(CredentialsSupplier credentials, const core::Clock& clock)
    : credentials_(std::move(credentials)), clock_(clock) {}

std::string RdsAuthToken::Build(const RdsAuthTarget& target, const Credentials& credentials,
                                std::chrono::system_clock::time_point time) {
  const std::string amz_date = SigV4Signer::FormatAmzDate(time);
  const std::string host_port = target.host + ":" + std::to_string(target.port);
  const std::string scope = amz_date.substr(0, 8) + "/" + target.region + "/" + std::string(kService) + "/aws4_request";

  std::vector<std::pair<std::string, std::string>> params = {
      {"Action", "connect"},
      {"DBUser", UriEncode(target.user)},
      {"X-Amz-Algorithm", "AWS4-HMAC-SHA256"},
      {"X-Amz-Credential", UriEncode(credentials.access_key_id + "/" + scope)},
      {"X-Amz-Date", amz_date},
      {"X-Amz-Expires", std::to_string(kExpiresSeconds)},
      {"X-Amz-SignedHeaders", "host"},
  };
  if (!credentials.session_token.empty()) {
    params.emplace_back("X-Amz-Security-Token", UriEncode(credentials.session_token));
  }

  HttpRequest request;
  request.method = "GET";
  request.url = "https://" + host_port + "/?" + JoinSortedQuery(params);
  request.headers = {{"host", host_port}};
  // Compute() never reads the clock; the signer only needs one to exist.
  const SigV4Signer signer(credentials, target.region, std::string(kService), core::SystemClock::Instance());
  params.emplace_back("X-Amz-Signature", signer.Compute(request, amz_date).signature);
  return host_port + "/?" + JoinSortedQuery(std::move(params));
}

core::Result<std::string> RdsAuthToken::Generate(const RdsAuthTarget& target) const {
  if (target.host.empty()) return core::Status::InvalidArgument("RDS IAM token: no database host name");
  if (target.user.empty()) return core::Status::InvalidArgument("RDS IAM token: no database user");
  if (target.region.empty()) return core::Status::InvalidArgument("RDS IAM token: no AWS region for the database");
  auto credentials = credentials_();
  if (!credentials.ok()) return credentials.status().WithContext("RDS IAM token");
  return Build(target, *credentials, clock_.Now());
}

std::string RdsAuthToken::RegionFromHost(const std::string& host) {
  // NAME.ID.REGION.rds.amazonaws.com[.cn]: the label before ".rds.".
  std::string name = host;
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c); });
  if (!name.empty() && name.back() == '.') name.pop_back();
  size_t suffix = std::string::npos;
  for (const std::string_view tail : {".rds.amazonaws.com", ".rds.amazonaws.com.cn"}) {
    if (name.size() > tail.size() && name.ends_with(tail)) suffix = name.size() - tail.size();
  }
  if (suffix == std::string::npos) return "";
  const size_t dot = name.rfind('.', suffix - 1);
  const std::string region = name.substr(dot == std::string::npos ? 0 : dot + 1,
                                         suffix - (dot == std::string::npos ? 0 : dot + 1));
  // Regions look like "eu-west-1", "us-gov-west-1", "cn-north-1".
  if (region.find('-') == std::string::npos || !std::isdigit(static_cast<unsigned char>(region.back()))) return "";
  return region;
}

}  // namespace ddb2pg::aws
