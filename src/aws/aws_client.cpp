#include "aws/aws_client.h"

#include "aws/curl_transport.h"

#include <algorithm>

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
      region_(std::move(config.region)),
      credential_source_(config.credential_source ? std::move(config.credential_source)
                                                  : RefreshingCredentials::Static(std::move(config.credentials))),
      retry_(std::move(retry)),
      clock_(clock),
      transports_(std::move(transports)),
      stats_(stats ? std::move(stats) : std::make_shared<RetryStats>()) {
  SignerFor(credential_source_->Current());
}

std::shared_ptr<const SigV4Signer> AwsClient::SignerFor(const std::shared_ptr<const Credentials>& credentials) {
  std::lock_guard lock(signer_mutex_);
  if (signed_with_ != credentials || signer_ == nullptr) {
    signer_ = std::make_shared<const SigV4Signer>(*credentials, region_, "dynamodb", clock_);
    signed_with_ = credentials;
    for (const std::string* secret : {&credentials->secret_access_key, &credentials->session_token}) {
      if (!secret->empty() && std::find(secrets_.begin(), secrets_.end(), *secret) == secrets_.end()) {
        secrets_.push_back(*secret);
      }
    }
    // A long run rotates credentials every hour or so: keep the recent ones only (a message can
    // only quote the credentials of a request still in flight).
    constexpr size_t kKeptSecrets = 8;
    if (secrets_.size() > kKeptSecrets) secrets_.erase(secrets_.begin(), secrets_.end() - kKeptSecrets);
  }
  return signer_;
}

std::vector<std::string> AwsClient::secrets() const {
  std::lock_guard lock(signer_mutex_);
  return secrets_;
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

namespace {
// The error types with which AWS refuses credentials that a refresh can replace.
bool RefreshCanHelp(const std::string& error_type) {
  return error_type == "ExpiredTokenException" || error_type == "UnrecognizedClientException" ||
         error_type == "InvalidClientTokenId" || error_type == "ExpiredToken";
}
}  // namespace

core::Result<std::string> AwsClient::Attempt(AwsOperation operation, std::string_view resource,
                                             HttpRequest& request) {
  std::shared_ptr<const Credentials> credentials = credential_source_->Current();
  std::string error_type;
  core::Result<std::string> result = SendSigned(operation, resource, request, *SignerFor(credentials), &error_type);
  if (result.ok() || !RefreshCanHelp(error_type) || !credential_source_->refreshable()) return result;
  auto fresh = credential_source_->RefreshAfterRejection(credentials);
  if (!fresh.ok()) {
    return core::Status(result.status().code(), result.status().message() + " (refreshing the credentials failed: " +
                                                    fresh.status().message() + ")");
  }
  credential_retries_.fetch_add(1);
  return SendSigned(operation, resource, request, *SignerFor(*fresh), nullptr);
}

core::Result<std::string> AwsClient::SendSigned(AwsOperation operation, std::string_view resource,
                                                HttpRequest& request, const SigV4Signer& signer,
                                                std::string* error_type) {
  // Signed per attempt: the signature covers X-Amz-Date, and AWS rejects one older than 5 min.
  signer.Sign(request);
  Lease lease(*this);
  if (lease.get() == nullptr) {
    return core::Status::Internal(std::string(OperationName(operation)) + ": no HTTP transport available");
  }
  core::Result<HttpResponse> response = lease.get()->Send(request);
  if (!response.ok()) {
    lease.MarkBroken();
    std::string context = CallContext(operation, resource);
    const core::Status failure = response.status().WithContext(context);
    return core::Status(failure.code(), RedactSecrets(failure.message(), secrets()));
  }
  if (response->status != 200) {
    if (error_type != nullptr) *error_type = ParseAwsErrorBody(response->body).type;
    return AwsErrorStatus(operation, resource, response->status, response->body, secrets());
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
