// FakeCredentialEndpoints: one local server that plays, in AWS's documented formats, the
// credential endpoints that have no local server:
// - EC2 instance metadata, IMDSv2: PUT /latest/api/token (needs X-aws-ec2-metadata-token-ttl-seconds),
//   GET /latest/meta-data/iam/security-credentials/[ROLE] and /latest/meta-data/placement/region,
//   each GET needing X-aws-ec2-metadata-token (else 401);
// - the container agent (ECS / EKS Pod Identity): GET /v2/credentials/... with Authorization;
// - STS (Query API, XML): POST / Action=AssumeRoleWithWebIdentity (unsigned, checks the token)
//   and Action=AssumeRole (records the SigV4 Credential= key and scope of the caller);
// - the SSO portal: GET /federation/credentials?account_id&role_name with x-amz-sso_bearer_token.
// Each provider hands out a key "<prefix><PROVIDER>G<generation>" (letters and digits, so it is
// also a DynamoDB Local database name); Rotate() moves to the next generation. Credentials expire
// `lifetime` after they are issued. Knobs for slow and failing endpoints and wrong tokens.
// Thread-safety: every method is safe from any thread (one mutex).
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "aws/credential_parsing.h"
#include "tiny_http_server.h"

namespace ddb2pg::testing {

class FakeCredentialEndpoints {
 public:
  static constexpr const char* kWebIdentityToken = "eyFAKE.oidc.token";
  static constexpr const char* kContainerToken = "fake-container-authorization";
  static constexpr const char* kSsoToken = "fake-sso-bearer-token";
  static constexpr const char* kImdsRole = "ddb2pg-instance-role";
  static constexpr const char* kRegion = "eu-west-3";

  explicit FakeCredentialEndpoints(std::string key_prefix = "ASIA")
      : prefix_(std::move(key_prefix)), server_([this](const TinyRequest& request) { return Handle(request); }) {}

  std::string url() const { return server_.url(); }
  int port() const { return server_.port(); }

  // The access key `provider` ("IMDS", "CONTAINER", "WEBID", "ROLE", "SSO") hands out now.
  std::string Key(const std::string& provider) const {
    std::lock_guard lock(mutex_);
    return KeyLocked(provider);
  }
  static std::string SecretOf(const std::string& key) { return "secret/" + key + "/SECRET"; }
  static std::string TokenOf(const std::string& key) { return "token/" + key + "/TOKEN"; }

  void Rotate() {
    std::lock_guard lock(mutex_);
    ++generation_;
  }
  void SetLifetime(std::chrono::seconds lifetime) {
    std::lock_guard lock(mutex_);
    lifetime_ = lifetime;
  }
  // Requests whose path starts with `prefix` wait `delay` first / answer `status` with an error body.
  void SetDelay(const std::string& prefix, std::chrono::milliseconds delay) {
    std::lock_guard lock(mutex_);
    delays_[prefix] = delay;
  }
  void SetFailure(const std::string& prefix, int status) {
    std::lock_guard lock(mutex_);
    failures_[prefix] = status;
  }
  // The next IMDS GET is refused with 401, as when the session token expired.
  void ExpireImdsTokens() {
    std::lock_guard lock(mutex_);
    ++imds_token_generation_;
  }
  // How many credentials `provider` issued; how many IMDS tokens were issued.
  int Issued(const std::string& provider) const {
    std::lock_guard lock(mutex_);
    auto it = issued_.find(provider);
    return it == issued_.end() ? 0 : it->second;
  }
  int ImdsTokensIssued() const {
    std::lock_guard lock(mutex_);
    return imds_tokens_issued_;
  }
  // The Credential= scope of each AssumeRole call: "KEY/DATE/REGION/sts/aws4_request".
  std::vector<std::string> AssumeRoleCallers() const {
    std::lock_guard lock(mutex_);
    return assume_role_callers_;
  }
  // Every request line seen ("GET /latest/..."), for tests that check the protocol.
  std::vector<std::string> Requests() const {
    std::lock_guard lock(mutex_);
    return requests_;
  }

  TinyResponse Handle(const TinyRequest& request) {
    std::chrono::milliseconds delay{0};
    int failure = 0;
    {
      std::lock_guard lock(mutex_);
      requests_.push_back(request.method + " " + request.path);
      for (const auto& [prefix, value] : delays_) {
        if (request.path.rfind(prefix, 0) == 0) delay = value;
      }
      for (const auto& [prefix, value] : failures_) {
        if (request.path.rfind(prefix, 0) == 0) failure = value;
      }
    }
    if (delay.count() > 0) std::this_thread::sleep_for(delay);
    if (failure != 0) return {failure, "text/plain", "injected failure", {}};
    std::lock_guard lock(mutex_);
    if (request.path == "/latest/api/token") return ImdsToken(request);
    if (request.path.rfind("/latest/", 0) == 0) return Imds(request);
    if (request.path.rfind("/v2/credentials", 0) == 0) return Container(request);
    if (request.path == "/federation/credentials") return Sso(request);
    if (request.path == "/" && (request.method == "POST" || request.method == "GET")) return Sts(request);
    return {404, "text/plain", "not found", {}};
  }

 private:
  std::string KeyLocked(const std::string& provider) const {
    return prefix_ + provider + "G" + std::to_string(generation_);
  }
  std::string Issue(const std::string& provider) {
    ++issued_[provider];
    return KeyLocked(provider);
  }
  std::string Expiration() const {
    return aws::FormatIso8601(std::chrono::system_clock::now() + lifetime_);
  }
  std::string JsonCredentials(const std::string& key, const std::string& token_field) const {
    return "{\"AccessKeyId\":\"" + key + "\",\"SecretAccessKey\":\"" + SecretOf(key) + "\",\"" + token_field +
           "\":\"" + TokenOf(key) + "\",\"Expiration\":\"" + Expiration() + "\"";
  }

  TinyResponse ImdsToken(const TinyRequest& request) {
    if (request.method != "PUT") return {405, "text/plain", "", {}};
    auto ttl = request.headers.find("x-aws-ec2-metadata-token-ttl-seconds");
    if (ttl == request.headers.end()) return {400, "text/plain", "missing ttl", {}};
    ++imds_tokens_issued_;
    return {200, "text/plain", "imds-token-" + std::to_string(imds_token_generation_), {}};
  }

  TinyResponse Imds(const TinyRequest& request) {
    auto token = request.headers.find("x-aws-ec2-metadata-token");
    if (token == request.headers.end() || token->second != "imds-token-" + std::to_string(imds_token_generation_)) {
      return {401, "text/plain", "", {}};
    }
    const std::string base = "/latest/meta-data/iam/security-credentials/";
    if (request.path == base) return {200, "text/plain", kImdsRole, {}};
    if (request.path == base + kImdsRole) {
      const std::string key = Issue("IMDS");
      return {200, "text/plain",
              "{\"Code\":\"Success\",\"LastUpdated\":\"" + aws::FormatIso8601(std::chrono::system_clock::now()) +
                  "\",\"Type\":\"AWS-HMAC\"," + JsonCredentials(key, "Token").substr(1) + "}",
              {}};
    }
    if (request.path == "/latest/meta-data/placement/region") return {200, "text/plain", kRegion, {}};
    return {404, "text/plain", "", {}};
  }

  TinyResponse Container(const TinyRequest& request) {
    auto authorization = request.headers.find("authorization");
    if (authorization == request.headers.end() || authorization->second != kContainerToken) {
      return {401, "application/json", "{\"code\":\"InvalidToken\",\"message\":\"Authorization token is invalid\"}", {}};
    }
    return {200, "application/json",
            JsonCredentials(Issue("CONTAINER"), "Token") + ",\"RoleArn\":\"arn:aws:iam::123456789012:role/task\"}", {}};
  }

  TinyResponse Sso(const TinyRequest& request) {
    auto token = request.headers.find("x-amz-sso_bearer_token");
    if (token == request.headers.end() || token->second != kSsoToken) {
      return {401, "application/json", "{\"message\":\"Session token not found or invalid\"}",
              {{"x-amzn-ErrorType", "UnauthorizedException"}}};
    }
    if (request.query.count("account_id") == 0 || request.query.count("role_name") == 0) {
      return {400, "application/json", "{\"message\":\"account_id and role_name are required\"}", {}};
    }
    const std::string key = Issue("SSO");
    const auto expiration = std::chrono::duration_cast<std::chrono::milliseconds>(
                                (std::chrono::system_clock::now() + lifetime_).time_since_epoch())
                                .count();
    return {200, "application/json",
            "{\"roleCredentials\":{\"accessKeyId\":\"" + key + "\",\"secretAccessKey\":\"" + SecretOf(key) +
                "\",\"sessionToken\":\"" + TokenOf(key) + "\",\"expiration\":" + std::to_string(expiration) + "}}",
            {}};
  }

  static TinyResponse StsError(int status, const std::string& code, const std::string& message) {
    return {status, "text/xml",
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>" + code +
                "</Code><Message>" + message + "</Message></Error><RequestId>fake</RequestId></ErrorResponse>",
            {}};
  }

  TinyResponse StsCredentials(const std::string& action, const std::string& key) const {
    return {200, "text/xml",
            "<" + action + "Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><" + action +
                "Result><Credentials><AccessKeyId>" + key + "</AccessKeyId><SecretAccessKey>" + SecretOf(key) +
                "</SecretAccessKey><SessionToken>" + TokenOf(key) + "</SessionToken><Expiration>" + Expiration() +
                "</Expiration></Credentials><AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/r/s</Arn>"
                "<AssumedRoleId>AROAFAKE:s</AssumedRoleId></AssumedRoleUser></" +
                action + "Result><ResponseMetadata><RequestId>fake</RequestId></ResponseMetadata></" + action +
                "Response>",
            {}};
  }

  TinyResponse Sts(const TinyRequest& request) {
    std::map<std::string, std::string> form = TinyParseForm(request.body);
    for (const auto& [name, value] : request.query) form[name] = value;
    if (form["Version"] != "2011-06-15") return StsError(400, "InvalidAction", "Version must be 2011-06-15");
    if (form["RoleArn"].empty() || form["RoleSessionName"].empty()) {
      return StsError(400, "ValidationError", "RoleArn and RoleSessionName are required");
    }
    if (form["Action"] == "AssumeRoleWithWebIdentity") {
      if (form["WebIdentityToken"] != kWebIdentityToken) {
        return StsError(400, "InvalidIdentityToken", "Couldn't retrieve verification key from your identity provider");
      }
      return StsCredentials("AssumeRoleWithWebIdentity", Issue("WEBID"));
    }
    if (form["Action"] == "AssumeRole") {
      auto authorization = request.headers.find("authorization");
      const std::string marker = "Credential=";
      if (authorization == request.headers.end() || authorization->second.find(marker) == std::string::npos) {
        return StsError(403, "MissingAuthenticationToken", "Request is missing Authentication Token");
      }
      const size_t start = authorization->second.find(marker) + marker.size();
      const std::string scope = authorization->second.substr(start, authorization->second.find(',', start) - start);
      assume_role_callers_.push_back(scope);
      if (scope.find("/sts/aws4_request") == std::string::npos) {
        return StsError(403, "SignatureDoesNotMatch", "Credential should be scoped to correct service: 'sts'");
      }
      return StsCredentials("AssumeRole", Issue("ROLE"));
    }
    return StsError(400, "InvalidAction", "Could not find operation " + form["Action"]);
  }

  mutable std::mutex mutex_;
  std::string prefix_;
  int generation_ = 1;
  std::chrono::seconds lifetime_{3600};
  int imds_token_generation_ = 1;
  int imds_tokens_issued_ = 0;
  std::map<std::string, int> issued_;
  std::map<std::string, std::chrono::milliseconds> delays_;
  std::map<std::string, int> failures_;
  std::vector<std::string> assume_role_callers_;
  std::vector<std::string> requests_;
  TinyHttpServer server_;  // last: stops before the state it uses goes away
};

}  // namespace ddb2pg::testing
