// Md5Digest: the MD5 of bytes fed in pieces, in the base64 form S3 and DynamoDB export manifests
// give (Content-MD5, manifest-files.json's md5Checksum). An integrity check against corruption in
// transit or storage, not a security measure.
//
// Ownership: owns its OpenSSL digest context. Not copyable.
// Thread-safety: one thread at a time.
#pragma once

#include <memory>
#include <string>
#include <string_view>

namespace ddb2pg::aws {

class Md5Digest {
 public:
  Md5Digest();  // throws std::runtime_error only if OpenSSL itself fails
  ~Md5Digest();
  Md5Digest(const Md5Digest&) = delete;
  Md5Digest& operator=(const Md5Digest&) = delete;

  void Update(std::string_view bytes);
  // The digest of everything fed, base64 (24 characters). Ends the digest: call once.
  std::string FinishBase64();

  static std::string Base64Of(std::string_view bytes);

 private:
  struct Context;
  std::unique_ptr<Context> context_;
};

}  // namespace ddb2pg::aws
