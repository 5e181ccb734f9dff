// Decoding DynamoDB responses into core::Value: the stream reader's and snapshot's hot path.
//
// Pages hold reference `users` items (bench/reference_data.h, ~2 KB each). A GetRecords record
// carries a NewImage and an OldImage, so a 1000-record page is ~4.5 MB of JSON. items/s counts
// records (or scanned items); bytes/s counts response bytes. Target: >= 300 MB/s on one core.
//
//   build-rel/bench/decode_bench --benchmark_min_time=2
#include <benchmark/benchmark.h>

#include <string>

#include "aws/attribute_codec.h"
#include "aws/response_parser.h"
#include "reference_data.h"

namespace ddb2pg {
namespace {

void DecodeGetRecordsPage(benchmark::State& state) {
  const size_t records = static_cast<size_t>(state.range(0));
  const std::string body = bench::MakeGetRecordsPageJson(records);
  for (auto _ : state) {
    core::Result<aws::GetRecordsResult> result = aws::ParseGetRecordsResponse(std::string_view(body));
    if (!result.ok() || result->records.size() != records) {
      state.SkipWithError(result.status().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * records));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
  state.counters["page_bytes"] = static_cast<double>(body.size());
}
BENCHMARK(DecodeGetRecordsPage)->Arg(1000)->Arg(100)->Unit(benchmark::kMillisecond);

// Decoding alone: the previous page's records are freed outside the timed region. The difference
// to DecodeGetRecordsPage is what freeing ~100k small allocations costs glibc malloc.
void DecodeGetRecordsPageExcludingFree(benchmark::State& state) {
  const size_t records = static_cast<size_t>(state.range(0));
  const std::string body = bench::MakeGetRecordsPageJson(records);
  for (auto _ : state) {
    core::Result<aws::GetRecordsResult> result = aws::ParseGetRecordsResponse(std::string_view(body));
    if (!result.ok()) {
      state.SkipWithError(result.status().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(result);
    state.PauseTiming();
    { core::Result<aws::GetRecordsResult> discard = std::move(result); }
    state.ResumeTiming();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * records));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(DecodeGetRecordsPageExcludingFree)->Arg(1000)->Unit(benchmark::kMillisecond);

// The same with the caller's std::string padded in place (how the Streams client calls it).
void DecodeGetRecordsPageInPlace(benchmark::State& state) {
  const size_t records = static_cast<size_t>(state.range(0));
  std::string body = bench::MakeGetRecordsPageJson(records);
  for (auto _ : state) {
    core::Result<aws::GetRecordsResult> result = aws::ParseGetRecordsResponse(body);
    if (!result.ok()) {
      state.SkipWithError(result.status().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(result);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * records));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(DecodeGetRecordsPageInPlace)->Arg(1000)->Unit(benchmark::kMillisecond);

void DecodeScanPage(benchmark::State& state) {
  const size_t items = static_cast<size_t>(state.range(0));
  const std::string body = bench::MakeScanPageJson(items);
  for (auto _ : state) {
    core::Result<aws::ScanPage> page = aws::ParseScanResponse(std::string_view(body));
    if (!page.ok() || page->items.size() != items) {
      state.SkipWithError(page.status().ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(page);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * items));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(DecodeScanPage)->Arg(1000)->Unit(benchmark::kMillisecond);

void DecodeOneItem(benchmark::State& state) {
  const std::string body = core::ItemToJson(bench::MakeReferenceItem(1));
  for (auto _ : state) {
    core::Result<core::Value> item = aws::ParseItemJson(body);
    benchmark::DoNotOptimize(item);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(DecodeOneItem);

// Lower bound for comparison: simdjson alone walking the same page (every string read with the
// on-demand API, nothing built). Shows how much of the cost is the parser and how much is
// building Values (allocation).
size_t WalkValue(simdjson::ondemand::value value);

size_t WalkObject(simdjson::ondemand::object object) {
  size_t bytes = 0;
  for (auto field : object) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return bytes;
    bytes += key.size() + WalkValue(field.value());
  }
  return bytes;
}

size_t WalkValue(simdjson::ondemand::value value) {
  simdjson::ondemand::json_type type;
  if (value.type().get(type)) return 0;
  switch (type) {
    case simdjson::ondemand::json_type::object: {
      simdjson::ondemand::object object;
      return value.get_object().get(object) ? 0 : WalkObject(object);
    }
    case simdjson::ondemand::json_type::array: {
      size_t bytes = 0;
      simdjson::ondemand::array array;
      if (value.get_array().get(array)) return 0;
      for (auto element : array) {
        simdjson::ondemand::value inner;
        if (element.get(inner)) return bytes;
        bytes += WalkValue(inner);
      }
      return bytes;
    }
    case simdjson::ondemand::json_type::string: {
      std::string_view text;
      return value.get_string().get(text) ? 0 : text.size();
    }
    default: {
      bool flag;
      if (type == simdjson::ondemand::json_type::boolean && !value.get_bool().get(flag)) return flag ? 1 : 0;
      double number;
      if (type == simdjson::ondemand::json_type::number && !value.get_double().get(number)) return 8;
      return 0;
    }
  }
}

void SimdjsonWalkBaseline(benchmark::State& state) {
  const std::string body = bench::MakeGetRecordsPageJson(static_cast<size_t>(state.range(0)));
  simdjson::padded_string padded(body);
  simdjson::ondemand::parser parser;
  for (auto _ : state) {
    simdjson::ondemand::document document;
    simdjson::ondemand::object top;
    if (parser.iterate(padded).get(document) || document.get_object().get(top)) {
      state.SkipWithError("parse failed");
      break;
    }
    benchmark::DoNotOptimize(WalkObject(top));
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * body.size()));
}
BENCHMARK(SimdjsonWalkBaseline)->Arg(1000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ddb2pg

BENCHMARK_MAIN();
