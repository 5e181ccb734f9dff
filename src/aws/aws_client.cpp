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
      service_(std::move(config.service)),
      signing_(config.signing),
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
    signer_ = std::make_shared<const SigV4Signer>(*credentials, region_, service_, clock_, signing_);
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

// The JSON APIs answer 200 or an error document (aws_error.h).
core::Status JsonResponseCheck(AwsOperation operation, std::string_view resource, const HttpResponse& response,
                               std::span<const std::string> secrets, std::string* error_type) {
  if (response.status == 200) return core::Status::Ok();
  if (error_type != nullptr) *error_type = ParseAwsErrorBody(response.body).type;
  return AwsErrorStatus(operation, resource, response.status, response.body, secrets);
}
}  // namespace

core::Result<HttpResponse> AwsClient::Attempt(AwsOperation operation, std::string_view resource,
                                              HttpRequest& request, const ResponseCheck& check) {
  std::shared_ptr<const Credentials> credentials = credential_source_->Current();
  std::string error_type;
  core::Result<HttpResponse> result =
      SendSigned(operation, resource, request, check, *SignerFor(credentials), &error_type);
  if (result.ok() || !RefreshCanHelp(error_type) || !credential_source_->refreshable()) return result;
  auto fresh = credential_source_->RefreshAfterRejection(credentials);
  if (!fresh.ok()) {
    return core::Status(result.status().code(), result.status().message() + " (refreshing the credentials failed: " +
                                                    fresh.status().message() + ")");
  }
  credential_retries_.fetch_add(1);
  return SendSigned(operation, resource, request, check, *SignerFor(*fresh), nullptr);
}

core::Result<HttpResponse> AwsClient::SendSigned(AwsOperation operation, std::string_view resource,
                                                 HttpRequest& request, const ResponseCheck& check,
                                                 const SigV4Signer& signer, std::string* error_type) {
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
  core::Status verdict = check(operation, resource, *response, secrets(), error_type);
  if (!verdict.ok()) return verdict;
  return response;
}

core::Result<std::string> AwsClient::CallOnce(AwsOperation operation, std::string_view resource,
                                              const std::string& body) {
  HttpRequest request = BuildRequest(operation, body);
  auto response = Attempt(operation, resource, request, JsonResponseCheck);
  if (!response.ok()) return response.status();
  return std::move(response->body);
}

core::Result<std::string> AwsClient::Call(AwsOperation operation, std::string_view resource, std::string body) {
  HttpRequest request = BuildRequest(operation, std::move(body));
  auto response = RunWithRetries<HttpResponse>(retry_, operation, clock_, *stats_, [&]() {
    return Attempt(operation, resource, request, JsonResponseCheck);
  });
  if (!response.ok()) return response.status();
  return std::move(response->body);
}

core::Result<HttpResponse> AwsClient::Send(AwsOperation operation, std::string_view resource, HttpRequest request,
                                           const ResponseCheck& check) {
  return RunWithRetries<HttpResponse>(retry_, operation, clock_, *stats_,
                                      [&]() { return Attempt(operation, resource, request, check); });
}

}  // namespace ddb2pg::aws
