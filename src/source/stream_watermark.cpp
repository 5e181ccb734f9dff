#include "source/stream_watermark.h"

#include <charconv>

namespace ddb2pg::source {

std::string StreamWatermark::Position(int64_t taken_ms, const std::string& iterator) {
  return std::string(kPrefix) + std::to_string(taken_ms) + ":" + iterator;
}

std::string StreamWatermark::ExactPosition(int64_t from_ms) { return std::string(kExactPrefix) + std::to_string(from_ms); }

std::optional<StreamWatermark::Parsed> StreamWatermark::Parse(std::string_view position) {
  if (position.substr(0, kExactPrefix.size()) == kExactPrefix) {
    position.remove_prefix(kExactPrefix.size());
    Parsed parsed;
    parsed.margin_ms = 0;
    auto [end, error] = std::from_chars(position.data(), position.data() + position.size(), parsed.taken_ms);
    if (error != std::errc() || end != position.data() + position.size() || parsed.taken_ms <= 0) return std::nullopt;
    return parsed;
  }
  if (position.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  position.remove_prefix(kPrefix.size());
  const size_t colon = position.find(':');
  if (colon == std::string_view::npos || colon == 0) return std::nullopt;
  Parsed parsed;
  auto [end, error] = std::from_chars(position.data(), position.data() + colon, parsed.taken_ms);
  if (error != std::errc() || end != position.data() + colon) return std::nullopt;
  parsed.iterator = std::string(position.substr(colon + 1));
  return parsed;
}

}  // namespace ddb2pg::source
