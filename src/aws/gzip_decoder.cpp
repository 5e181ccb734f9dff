#include "aws/gzip_decoder.h"

#include <zlib.h>

#include <stdexcept>

namespace ddb2pg::aws {

struct GzipDecoder::Stream {
  z_stream z{};
  Stream() {
    // 16 + MAX_WBITS: a gzip header and trailer, not zlib's.
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) throw std::runtime_error("zlib: inflateInit2 failed");
  }
  ~Stream() { inflateEnd(&z); }
};

GzipDecoder::GzipDecoder() : stream_(std::make_unique<Stream>()) {}
GzipDecoder::~GzipDecoder() = default;

core::Status GzipDecoder::Feed(std::string_view compressed, std::string& out) {
  z_stream& z = stream_->z;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(compressed.data()));
  z.avail_in = static_cast<uInt>(compressed.size());
  char buffer[64 * 1024];
  while (z.avail_in > 0) {
    inside_member_ = true;
    z.next_out = reinterpret_cast<Bytef*>(buffer);
    z.avail_out = sizeof(buffer);
    const int result = inflate(&z, Z_NO_FLUSH);
    out.append(buffer, sizeof(buffer) - z.avail_out);
    if (result == Z_STREAM_END) {
      inside_member_ = false;
      if (inflateReset(&z) != Z_OK) return core::Status::DataError("gzip: inflateReset failed");
      continue;
    }
    if (result == Z_BUF_ERROR && z.avail_out != 0) break;  // needs more input
    if (result != Z_OK && result != Z_BUF_ERROR) {
      return core::Status::DataError(std::string("gzip: ") + (z.msg != nullptr ? z.msg : "corrupt data"));
    }
  }
  // The output buffer may have filled exactly as the input ran out: drain what zlib still holds.
  while (inside_member_) {
    z.next_out = reinterpret_cast<Bytef*>(buffer);
    z.avail_out = sizeof(buffer);
    const int result = inflate(&z, Z_NO_FLUSH);
    const size_t produced = sizeof(buffer) - z.avail_out;
    out.append(buffer, produced);
    if (result == Z_STREAM_END) {
      inside_member_ = false;
      if (inflateReset(&z) != Z_OK) return core::Status::DataError("gzip: inflateReset failed");
      break;
    }
    if (result != Z_OK && result != Z_BUF_ERROR) {
      return core::Status::DataError(std::string("gzip: ") + (z.msg != nullptr ? z.msg : "corrupt data"));
    }
    if (produced == 0) break;
  }
  return core::Status::Ok();
}

core::Status GzipDecoder::Finish() const {
  if (inside_member_) return core::Status::DataError("gzip: the stream ends inside a member (truncated file)");
  return core::Status::Ok();
}

core::Result<std::string> GzipDecoder::Inflate(std::string_view compressed) {
  GzipDecoder decoder;
  std::string out;
  DDB2PG_RETURN_IF_ERROR(decoder.Feed(compressed, out));
  DDB2PG_RETURN_IF_ERROR(decoder.Finish());
  return out;
}

}  // namespace ddb2pg::aws
