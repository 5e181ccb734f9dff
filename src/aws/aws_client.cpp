#include "aws/aws_client.h"

#include "aws/curl_transport.h"

namespace ddb2pg::aws {

TransportFactory CurlTransportFactory(CurlTransportOptions options) {
  return [options]() -> std::unique_ptr<HttpTransport> { return std::make_unique<CurlTransport>(options); };
}

// Borrows an idle transport from the pool (or makes one) and gives it back when done. A
// transport that failed is dropped instead: its connection may be half-broken, and a fresh one
// costs one connect.
class AwsClient::Lease {
 public:
  explicit Lease(AwsClient& client) : client_(client) {
    {
      std::lock_guard lock(client_.pool_mutex_);
      if (!client_.idle_.empty()) {
        transport_ = std::move(client_.idle_.back());
        client_.idle_.pop_back();
      }
    }
    if (transport_ == nullptr) transport_ = client_.transports_();
  }
  ~Lease() {
    if (transport_ == nullptr || broken_) return;
    std::lock_guard lock(client_.pool_mutex_);
    client_.idle_.push_back(std::move(transport_));
  }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

  HttpTransport* get() const { return transport_.get(); }
  void MarkBroken() { broken_ = true; }

 private:
  AwsClient& client_;
  std::unique_ptr<HttpTransport> transport_;
  bool broken_ = false;
};

namespace {
std::string EndpointUrl(std::string endpoint) {
  while (!endpoint.empty() && endpoint.back() == '/') endpoint.pop_back();
  endpoint += '/';
  return endpoint;
}
}  // namespace

AwsClient::AwsClient(AwsClientConfig config, RetryPolicy retry, const core::Clock& clock,
                     TransportFactory transports, std::shared_ptr<RetryStats> stats)
    : url_(EndpointUrl(std::move(config.endpoint))),
      signer_(config.credentials, config.region, "dynamodb", clock),
      retry_(std::move(retry)),
      clock_(clock),
      transports_(std::move(transports)),
      stats_(stats ? std::move(stats) : std::make_shared<RetryStats>()) {
  if (!config.credentials.secret_access_key.empty()) secrets_.push_back(config.credentials.secret_access_key);
  if (!config.credentials.session_token.empty()) secrets_.push_back(config.credentials.session_token);
}

AwsClient::~AwsClient() = default;

HttpRequest AwsClient::BuildRequest(AwsOperation operation, std::string body) const {
  HttpRequest request;
  request.method = "POST";
  request.url = url_;
  request.headers = {
      {"Content-Type", "application/x-amz-json-1.0"},
      {"X-Amz-Target", OperationTarget(operation)},
  };
  request.body = std::move(body);
  return request;
}

core::Result<std::string> AwsClient::Attempt(AwsOperation operation, std::string_view resource,
                                             HttpRequest& request) {
  // Signed per attempt: the signature covers X-Amz-Date, and AWS rejects one older than 5 min.
  signer_.Sign(request);
  Lease lease(*this);
  if (lease.get() == nullptr) {
    return core::Status::Internal(std::string(OperationName(operation)) + ": no HTTP transport available");
  }
  core::Result<HttpResponse> response = lease.get()->Send(request);
  if (!response.ok()) {
    lease.MarkBroken();
    std::string context = CallContext(operation, resource);
    const core::Status failure = response.status().WithContext(context);
    return core::Status(failure.code(), RedactSecrets(failure.message(), secrets_));
  }
  if (response->status != 200) {
    return AwsErrorStatus(operation, resource, response->status, response->body, secrets_);
  }
  return std::move(response->body);
}

core::Result<std::string> AwsClient::CallOnce(AwsOperation operation, std::string_view resource,
                                              const std::string& body) {
  HttpRequest request = BuildRequest(operation, body);
  return Attempt(operation, resource, request);
}

core::Result<std::string> AwsClient::Call(AwsOperation operation, std::string_view resource, std::string body) {
  HttpRequest request = BuildRequest(operation, std::move(body));
  return RunWithRetries<std::string>(retry_, operation, clock_, *stats_,
                                     [&]() { return Attempt(operation, resource, request); });
}

}  // namespace ddb2pg::aws
