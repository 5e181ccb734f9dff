#include "aws/rds_auth_token.h"

#include <algorithm>
#include <cctype>
#include <utility>
#include <vector>

#include "aws/sigv4_signer.h"

namespace ddb2pg::aws {
namespace {

constexpr std::string_view kService = "rds-db";

// RFC 3986 encoding of everything but the unreserved set, as SigV4 and the SDKs' query builders
// write it; the signer decodes and re-encodes the same way, so URL and signature agree.
std::string QueryEncode(std::string_view text) {
  static constexpr char kDigits[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size() + 8);
  for (char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    const bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                            c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kDigits[c >> 4]);
      out.push_back(kDigits[c & 0x0f]);
    }
  }
  return out;
}

std::string JoinQuery(std::vector<std::pair<std::string, std::string>> params) {
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [key, value] : params) {
    if (!out.empty()) out.push_back('&');
    out += key;
    out.push_back('=');
    out += value;
  }
  return out;
}

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
      {"DBUser", QueryEncode(target.user)},
      {"X-Amz-Algorithm", "AWS4-HMAC-SHA256"},
      {"X-Amz-Credential", QueryEncode(credentials.access_key_id + "/" + scope)},
      {"X-Amz-Date", amz_date},
      {"X-Amz-Expires", std::to_string(kExpiresSeconds)},
      {"X-Amz-SignedHeaders", "host"},
  };
  if (!credentials.session_token.empty()) {
    params.emplace_back("X-Amz-Security-Token", QueryEncode(credentials.session_token));
  }

  HttpRequest request;
  request.method = "GET";
  request.url = "https://" + host_port + "/?" + JoinQuery(params);
  request.headers = {{"host", host_port}};
  // Compute() never reads the clock; the signer only needs one to exist.
  const SigV4Signer signer(credentials, target.region, std::string(kService), core::SystemClock::Instance());
  params.emplace_back("X-Amz-Signature", signer.Compute(request, amz_date).signature);
  return host_port + "/?" + JoinQuery(std::move(params));
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
