// HttpEndpoint's two route sets on loopback listeners (port 0): a listener serves only the set it
// was given, the status data answers 401 without its bearer token, and the token comparison.
#include <gtest/gtest.h>

#include "app/http_endpoint.h"
#include "aws/curl_transport.h"

namespace ddb2pg::app {
namespace {

class HttpEndpointTest : public ::testing::Test {
 protected:
  aws::HttpResponse Get(const HttpEndpoint& endpoint, const std::string& path, const std::string& authorization = "") {
    aws::HttpRequest request;
    request.method = "GET";
    request.url = "http://127.0.0.1:" + std::to_string(endpoint.port()) + path;
    if (!authorization.empty()) request.headers.emplace_back("Authorization", authorization);
    auto response = http_.Send(request);
    EXPECT_TRUE(response.ok()) << path;
    return response.ok() ? *response : aws::HttpResponse{};
  }

  pipeline::Metrics metrics_;
  aws::CurlTransport http_;
};

TEST_F(HttpEndpointTest, MetricsListenerServesProbesAndMetricsOnly) {
  bool ready = false;
  metrics_.Ready().Set(1);
  HttpEndpoint endpoint;
  endpoint.SetMetrics(metrics_, [&ready] { return ready; });
  ASSERT_TRUE(endpoint.Start("127.0.0.1:0").ok());
  ASSERT_GT(endpoint.port(), 0);
  EXPECT_EQ(Get(endpoint, "/healthz").status, 200);
  EXPECT_EQ(Get(endpoint, "/readyz").status, 503);
  ready = true;
  EXPECT_EQ(Get(endpoint, "/readyz").status, 200);
  const auto metrics = Get(endpoint, "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find("ddb2pg_ready"), std::string::npos);
  for (const char* path : {"/", "/index.html", "/status.js", "/api/status", "/elsewhere"}) {
    const auto response = Get(endpoint, path);
    EXPECT_EQ(response.status, 404) << path;
    EXPECT_NE(response.body.find("metrics.status_listen"), std::string::npos) << response.body;
  }
}

TEST_F(HttpEndpointTest, StatusListenerServesThePageOnly) {
  HttpEndpoint endpoint;
  endpoint.SetStatusPage([] { return std::string(R"({"pipelines":[]})"); });
  ASSERT_TRUE(endpoint.Start("127.0.0.1:0").ok());
  EXPECT_EQ(Get(endpoint, "/").status, 200);
  EXPECT_EQ(Get(endpoint, "/status.js").status, 200);
  const auto status = Get(endpoint, "/api/status");
  EXPECT_EQ(status.status, 200);
  EXPECT_EQ(status.body, R"({"pipelines":[]})");
  for (const char* path : {"/metrics", "/healthz", "/readyz"}) EXPECT_EQ(Get(endpoint, path).status, 404) << path;
}

TEST_F(HttpEndpointTest, BothSetsOnOneListenerAndTheStatusDataBehindAToken) {
  HttpEndpoint endpoint;
  endpoint.SetMetrics(metrics_, [] { return true; });
  endpoint.SetStatusPage([] { return std::string(R"({"secret":"item data"})"); }, "t0ken");
  ASSERT_TRUE(endpoint.Start("127.0.0.1:0").ok());
  EXPECT_EQ(Get(endpoint, "/healthz").status, 200);
  EXPECT_EQ(Get(endpoint, "/").status, 200);
  for (const std::string authorization : {"", "Bearer", "Bearer ", "Bearer t0ke", "Bearer t0ken2", "Basic t0ken", "t0ken"}) {
    const auto denied = Get(endpoint, "/api/status", authorization);
    EXPECT_EQ(denied.status, 401) << authorization;
    EXPECT_EQ(denied.body.find("item data"), std::string::npos);
  }
  EXPECT_EQ(Get(endpoint, "/api/status", "Bearer t0ken").status, 200);
  EXPECT_EQ(Get(endpoint, "/api/status", "bearer t0ken").status, 200) << "the scheme is case-insensitive";
}

TEST_F(HttpEndpointTest, AnAddressInUseIsAnErrorNamingTheKey) {
  HttpEndpoint first;
  first.SetMetrics(metrics_, [] { return true; });
  ASSERT_TRUE(first.Start("127.0.0.1:0").ok());
  HttpEndpoint second;
  second.SetStatusPage([] { return std::string("{}"); });
  const core::Status status = second.Start("127.0.0.1:" + std::to_string(first.port()));
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.ToString().find("metrics.status_listen"), std::string::npos) << status.ToString();
}

TEST(BearerTokenMatches, ExactTokenOnly) {
  EXPECT_TRUE(BearerTokenMatches("Bearer abc", "abc"));
  EXPECT_TRUE(BearerTokenMatches("BEARER abc", "abc"));
  EXPECT_FALSE(BearerTokenMatches("Bearer abd", "abc"));
  EXPECT_FALSE(BearerTokenMatches("Bearer ab", "abc"));
  EXPECT_FALSE(BearerTokenMatches("Bearer abcd", "abc"));
  EXPECT_FALSE(BearerTokenMatches("Bearer  abc", "abc"));
  EXPECT_FALSE(BearerTokenMatches("Bearer ", "abc"));
  EXPECT_FALSE(BearerTokenMatches("", "abc"));
  EXPECT_FALSE(BearerTokenMatches("abc", "abc"));
  EXPECT_FALSE(BearerTokenMatches("Bearer ", "")) << "no token configured never matches";
  EXPECT_FALSE(BearerTokenMatches(std::string_view("Bearer abc\0", 11), "abc"));
}

}  // namespace
}  // namespace ddb2pg::app
