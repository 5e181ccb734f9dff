// Where the credential providers send their requests and with which transport options, through
// a recording transport (no network): the ECS relative URI on 169.254.170.2, the IMDS defaults
// (IPv4 / IPv6, no proxy, 1 s connect timeout), the STS form body, AWS_CA_BUNDLE on HTTPS
// providers. The servers' side is tested in tests/integration/aws/credential_providers_test.cpp.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "aws/container_credentials_provider.h"
#include "aws/credentials.h"
#include "aws/imds_client.h"
#include "aws/refreshing_credentials.h"

namespace ddb2pg::aws {
namespace {

using ::testing::HasSubstr;

struct Sent {
  HttpRequest request;
  CurlTransportOptions options;
};

// Answers every request from a script keyed by "METHOD path-prefix" and records it.
class Recorder {
 public:
  void Answer(const std::string& method_and_url_part, long status, std::string body) {
    answers_.push_back({method_and_url_part, status, std::move(body)});
  }
  HttpTransportMaker maker() {
    return [this](const CurlTransportOptions& options) -> std::unique_ptr<HttpTransport> {
      return std::make_unique<Transport>(this, options);
    };
  }
  std::vector<Sent> sent() {
    std::lock_guard lock(mutex_);
    return sent_;
  }

 private:
  struct Scripted {
    std::string match;
    long status;
    std::string body;
  };
  class Transport final : public HttpTransport {
   public:
    Transport(Recorder* owner, CurlTransportOptions options) : owner_(owner), options_(std::move(options)) {}
    core::Result<HttpResponse> Send(const HttpRequest& request) override {
      std::lock_guard lock(owner_->mutex_);
      owner_->sent_.push_back({request, options_});
      for (const auto& answer : owner_->answers_) {
        if ((request.method + " " + request.url).find(answer.match) != std::string::npos) {
          return HttpResponse{answer.status, {}, answer.body};
        }
      }
      return core::Status::Unavailable("HTTP request to " + request.url + " failed: Couldn't connect to server");
    }

   private:
    Recorder* owner_;
    CurlTransportOptions options_;
  };

  std::mutex mutex_;
  std::vector<Scripted> answers_;
  std::vector<Sent> sent_;
};

EnvLookup MapEnv(std::map<std::string, std::string> values) {
  return [values](const std::string& name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end()) return std::nullopt;
    return it->second;
  };
}

constexpr char kJson[] =
    R"({"AccessKeyId":"ASIAFROMAGENT","SecretAccessKey":"agent/secret","Token":"agent/token","Expiration":"2099-01-01T00:00:00Z"})";

TEST(CredentialEndpoints, EcsRelativeUriGoesTo169dot254dot170dot2WithoutProxy) {
  Recorder recorder;
  recorder.Answer("GET http://169.254.170.2/v2/credentials/abc", 200, kJson);
  ResolveOptions options;
  options.http = recorder.maker();
  auto resolved = ResolveAws(AwsSettings{}, MapEnv({{"AWS_REGION", "eu-west-1"},
                                                   {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/abc"},
                                                   {"AWS_EC2_METADATA_DISABLED", "true"}}),
                             options);
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  EXPECT_EQ(resolved->credentials.access_key_id, "ASIAFROMAGENT");
  bool found = false;
  for (const Sent& sent : recorder.sent()) {
    if (sent.request.url != "http://169.254.170.2/v2/credentials/abc") continue;
    found = true;
    EXPECT_FALSE(sent.options.use_proxy);
    EXPECT_EQ(sent.options.connect_timeout, kContainerConnectTimeout);
  }
  EXPECT_TRUE(found);
}

TEST(CredentialEndpoints, ImdsDefaultsIPv4AndIPv6NoProxyShortTimeoutsTokenTtl) {
  for (const auto& [mode, base] : std::vector<std::pair<std::string, std::string>>{
           {"", "http://169.254.169.254"}, {"IPv6", "http://[fd00:ec2::254]"}}) {
    Recorder recorder;
    recorder.Answer("PUT " + base + "/latest/api/token", 200, "tok");
    recorder.Answer("GET " + base + "/latest/meta-data/iam/security-credentials/role", 200, kJson);
    recorder.Answer("GET " + base + "/latest/meta-data/iam/security-credentials/", 200, "role\n");
    recorder.Answer("GET " + base + "/latest/meta-data/placement/region", 200, "ap-south-1");
    std::map<std::string, std::string> env;
    if (!mode.empty()) env["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"] = mode;
    ResolveOptions options;
    options.http = recorder.maker();
    auto resolved = ResolveAws(AwsSettings{}, MapEnv(env), options);
    ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
    EXPECT_EQ(resolved->credentials.access_key_id, "ASIAFROMAGENT");
    EXPECT_EQ(resolved->region, "ap-south-1");
    const auto sent = recorder.sent();
    ASSERT_FALSE(sent.empty());
    EXPECT_EQ(sent[0].request.method, "PUT");
    EXPECT_EQ(sent[0].request.url, base + "/latest/api/token");
    ASSERT_EQ(sent[0].request.headers.size(), 1u);
    EXPECT_EQ(sent[0].request.headers[0].first, "X-aws-ec2-metadata-token-ttl-seconds");
    EXPECT_EQ(sent[0].request.headers[0].second, "21600");
    for (const Sent& each : sent) {
      if (each.request.url.rfind(base, 0) != 0) continue;
      EXPECT_FALSE(each.options.use_proxy) << each.request.url;
      EXPECT_EQ(each.options.connect_timeout, kImdsConnectTimeout);
      if (each.request.method == "GET") {
        ASSERT_EQ(each.request.headers.size(), 1u);
        EXPECT_EQ(each.request.headers[0].first, "X-aws-ec2-metadata-token");
        EXPECT_EQ(each.request.headers[0].second, "tok");
      }
    }
  }
}

TEST(CredentialEndpoints, StsRequestIsAFormPostWithVersionAndCaBundle) {
  Recorder recorder;
  recorder.Answer("POST https://sts.eu-west-1.amazonaws.com/", 200,
                  "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>"
                  "<AccessKeyId>ASIASTS</AccessKeyId><SecretAccessKey>x</SecretAccessKey><SessionToken>y</SessionToken>"
                  "<Expiration>2099-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleWithWebIdentityResult>"
                  "</AssumeRoleWithWebIdentityResponse>");
  const std::string token_file = ::testing::TempDir() + "/ddb2pg-unit-irsa-token";
  FILE* file = fopen(token_file.c_str(), "w");
  ASSERT_NE(file, nullptr);
  fputs("eyJ.token.here\n", file);
  fclose(file);
  ResolveOptions options;
  options.http = recorder.maker();
  auto resolved = ResolveAws(AwsSettings{}, MapEnv({{"AWS_REGION", "eu-west-1"},
                                                   {"AWS_WEB_IDENTITY_TOKEN_FILE", token_file},
                                                   {"AWS_ROLE_ARN", "arn:aws:iam::1:role/r"},
                                                   {"AWS_ROLE_SESSION_NAME", "s1"},
                                                   {"AWS_CA_BUNDLE", "/etc/corp/ca.pem"}}),
                             options);
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  EXPECT_EQ(resolved->credentials.access_key_id, "ASIASTS");
  EXPECT_EQ(resolved->ca_bundle, "/etc/corp/ca.pem");
  const auto sent = recorder.sent();
  ASSERT_FALSE(sent.empty());
  const Sent& sts = sent.back();
  EXPECT_EQ(sts.request.body,
            "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fr"
            "&RoleSessionName=s1&WebIdentityToken=eyJ.token.here");
  EXPECT_EQ(sts.options.ca_file, "/etc/corp/ca.pem");
  EXPECT_TRUE(sts.options.use_proxy);
  for (const auto& [name, value] : sts.request.headers) EXPECT_NE(name, "Authorization") << "AssumeRoleWithWebIdentity is unsigned";
}

}  // namespace
}  // namespace ddb2pg::aws
