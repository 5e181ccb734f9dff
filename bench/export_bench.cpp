// Reading a DynamoDB export data file: the gzip'd {"Item":{…}} lines ExportFileReader inflates in
// 1 MiB pieces, splits into lines and decodes (issue 28: the export path cost more CPU per item
// than the Scan, and a profile pointed at memmove, i.e. copies).
//
// The file holds reference `users` items (bench/reference_data.h, ~2 KB each). bytes/s counts the
// inflated text. First figures (a loaded 2-core shared machine, 2026-12-06, CPU time, three runs):
// InflateAndSplit 580-900 MB/s (2-3 µs per item) against zlib's own 0.87-1.1 GB/s (ZlibFloor);
// InflateSplitAndDecode 163-224k items/s (4.5-6 µs per item). So the reader's inflate, split and
// decode are not where the export path's extra CPU per item goes (38.6 µs against the Scan's 20.5
// in bench/run). A 7 MB file inflated into one growing string, not the reader's pattern, ran 10x
// slower: the string's growth (fresh pages, copies), not zlib.
//
//   build/bench/export_bench --benchmark_min_time=2
#include <benchmark/benchmark.h>
#include <simdjson.h>
#include <zlib.h>

#include <stdexcept>
#include <string>

#include "aws/attribute_codec.h"
#include "aws/gzip_decoder.h"
#include "core/json_writer.h"
#include "core/value_json.h"
#include "reference_data.h"

namespace ddb2pg {
namespace {

constexpr size_t kItems = 20000;  // ~35 MB of lines, ~2.5 MB gzip'd: three 1 MiB pieces
constexpr size_t kChunk = 1u << 20;

struct ExportFile {
  std::string text;  // the lines
  std::string gzip;  // the object
};

const ExportFile& File() {
  static const ExportFile file = [] {
    ExportFile out;
    for (size_t i = 0; i < kItems; ++i) {
      core::JsonWriter writer(&out.text);
      writer.BeginObject().Key("Item");
      core::WriteItem(writer, bench::MakeReferenceItem(i + 1));
      writer.EndObject();
      out.text += '\n';
    }
    z_stream z{};
    if (deflateInit2(&z, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      throw std::runtime_error("deflateInit2");
    }
    out.gzip.resize(deflateBound(&z, out.text.size()) + 64);
    z.next_in = reinterpret_cast<Bytef*>(out.text.data());
    z.avail_in = static_cast<uInt>(out.text.size());
    z.next_out = reinterpret_cast<Bytef*>(out.gzip.data());
    z.avail_out = static_cast<uInt>(out.gzip.size());
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) throw std::runtime_error("deflate");
    out.gzip.resize(z.total_out);
    deflateEnd(&z);
    return out;
  }();
  return file;
}

// What ExportFileReader::Read does per piece, with `decode` calling ExportFileReader::Decode's
// steps on each line.
template <typename LineFn>
size_t ReadFile(const ExportFile& file, LineFn&& on_line) {
  aws::GzipDecoder gzip;
  std::string text;
  size_t lines = 0;
  for (size_t offset = 0; offset < file.gzip.size(); offset += kChunk) {
    const std::string_view chunk = std::string_view(file.gzip).substr(offset, kChunk);
    if (!gzip.Feed(chunk, text).ok()) throw std::runtime_error("inflate");
    size_t start = 0;
    for (size_t newline = text.find('\n'); newline != std::string::npos; newline = text.find('\n', start)) {
      on_line(std::string_view(text).substr(start, newline - start));
      ++lines;
      start = newline + 1;
    }
    text.erase(0, start);
  }
  return lines;
}

void InflateAndSplit(benchmark::State& state) {
  const ExportFile& file = File();
  for (auto _ : state) {
    size_t bytes = 0;
    const size_t lines = ReadFile(file, [&](std::string_view line) { bytes += line.size(); });
    if (lines != kItems) state.SkipWithError("line count");
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kItems));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * file.text.size()));
  state.counters["gzip_bytes"] = static_cast<double>(file.gzip.size());
}
BENCHMARK(InflateAndSplit)->Unit(benchmark::kMillisecond);

// zlib alone, into one buffer of the right size: the floor for InflateAndSplit.
void ZlibFloor(benchmark::State& state) {
  const ExportFile& file = File();
  std::string out(file.text.size(), '\0');
  for (auto _ : state) {
    z_stream z{};
    inflateInit2(&z, 16 + MAX_WBITS);
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(file.gzip.data()));
    z.avail_in = static_cast<uInt>(file.gzip.size());
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    if (inflate(&z, Z_FINISH) != Z_STREAM_END) state.SkipWithError("inflate");
    inflateEnd(&z);
    benchmark::DoNotOptimize(out);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * file.text.size()));
}
BENCHMARK(ZlibFloor)->Unit(benchmark::kMillisecond);

void InflateSplitAndDecode(benchmark::State& state) {
  const ExportFile& file = File();
  std::string scratch;
  simdjson::ondemand::parser parser;
  for (auto _ : state) {
    size_t fields = 0;
    ReadFile(file, [&](std::string_view line) {
      scratch.assign(line);
      scratch.reserve(line.size() + simdjson::SIMDJSON_PADDING);
      simdjson::ondemand::document document;
      simdjson::ondemand::object item_json;
      if (parser.iterate(simdjson::padded_string_view(scratch.data(), line.size(), scratch.capacity()))
                  .get(document) != simdjson::SUCCESS ||
          document.get_object().find_field("Item").get_object().get(item_json) != simdjson::SUCCESS) {
        throw std::runtime_error("line");
      }
      auto item = aws::DecodeItem(item_json, aws::AttributePath{nullptr, "Item"});
      if (!item.ok()) throw std::runtime_error("decode");
      fields += item->map().size();
    });
    benchmark::DoNotOptimize(fields);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kItems));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * file.text.size()));
}
BENCHMARK(InflateSplitAndDecode)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ddb2pg

BENCHMARK_MAIN();
