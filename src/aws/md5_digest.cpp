#include "aws/md5_digest.h"

#include <openssl/evp.h>

#include <stdexcept>

#include "core/base64.h"

namespace ddb2pg::aws {

struct Md5Digest::Context {
  EVP_MD_CTX* ctx = nullptr;
  Context() : ctx(EVP_MD_CTX_new()) {
    if (ctx == nullptr || EVP_DigestInit_ex(ctx, EVP_md5(), nullptr) != 1) {
      EVP_MD_CTX_free(ctx);
      throw std::runtime_error("MD5: OpenSSL failed to start a digest");
    }
  }
  ~Context() { EVP_MD_CTX_free(ctx); }
};

Md5Digest::Md5Digest() : context_(std::make_unique<Context>()) {}
Md5Digest::~Md5Digest() = default;

void Md5Digest::Update(std::string_view bytes) {
  if (EVP_DigestUpdate(context_->ctx, bytes.data(), bytes.size()) != 1) {
    throw std::runtime_error("MD5: OpenSSL failed to update a digest");
  }
}

std::string Md5Digest::FinishBase64() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_DigestFinal_ex(context_->ctx, digest, &length) != 1) {
    throw std::runtime_error("MD5: OpenSSL failed to finish a digest");
  }
  return core::Base64Encode(std::string_view(reinterpret_cast<const char*>(digest), length));
}

std::string Md5Digest::Base64Of(std::string_view bytes) {
  Md5Digest digest;
  digest.Update(bytes);
  return digest.FinishBase64();
}

}  // namespace ddb2pg::aws
