// replay_server: a memory-speed DynamoDB + DynamoDB Streams endpoint for bench/run.
//
//   replay_server --items N --records M [--shards S] [--table users] [--tables K]
//                 [--listen 127.0.0.1:0] [--ttl-removes T] [--removes R]
//
// Before it listens it encodes N reference items (the table, read by Scan) and M reference
// MODIFY records (NEW_AND_OLD_IMAGES, keys distinct from the items), dealt round-robin over S
// open shards of one stream. After them come T REMOVE records of items 1..T made by the Time to
// Live service (userIdentity {"type": "Service", "principalId": "dynamodb.amazonaws.com"}, as AWS
// documents TTL deletions) and R REMOVE records of items T+1..T+R made by a user (no
// userIdentity), each with the item as its OldImage — DynamoDB Local never expires items, so
// this is how tests see a TTL delete arrive over the wire. Then it answers DescribeTable, Scan, DescribeStream,
// GetShardIterator and GetRecords over HTTP/1.1 keep-alive by concatenating those pre-encoded
// fragments, so a response costs about a memcpy. With it, bench/run measures ddb2pg's own
// ceiling — the real HTTP client, signer, decoder, mapping and sink — with a source far faster
// than DynamoDB Local.
//
// Every served record counts as written after the start: LATEST is the shard's first record, so a
// snapshot's watermark (docs/consistency.md) reads them all. Like the service: Scan pages stop at Limit items or 1 MB, GetRecords pages at Limit (≤ 1000)
// records or 1 MB; Segment/TotalSegments split the items into contiguous ranges; shards stay open,
// so a reader at the end of a shard gets empty pages with a NextShardIterator. Signatures are not
// checked. Unknown operations and bad parameters get a 400 with the service's error shape.
//
// --late-records L: L more MODIFYs of new keys, one per shard spread over the shards, hidden until
// --late-after-ms (60000) after the server listens, then one every --late-spacing-ms (200): single
// writes after a quiet spell, for the lag at the tip. Each prints "late ID EPOCH_MS" (when it
// becomes readable) on stdout before "listening on".
//
// --tables K (1): K tables, <table>_1 .. <table>_K, each with its own stream of S shards serving
// the same items and records (one copy in memory): many sources on one runner.
//
// Prints "listening on 127.0.0.1:PORT" once ready. On SIGTERM or SIGINT it prints one JSON line of
// requests and response bytes per operation, then exits 0.
#include <civetweb.h>
#include <pthread.h>
#include <simdjson.h>

#include <atomic>
#include <charconv>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/json_writer.h"
#include "core/value_json.h"
#include "reference_data.h"

namespace {

using ddb2pg::core::JsonWriter;

constexpr size_t kMaxPageBytes = 1024 * 1024;  // the service's page cap for Scan and GetRecords
constexpr uint64_t kSequenceBase = 100000000000000000ULL;  // 18 digits: shard * stride + position
constexpr uint64_t kShardStride = 10000000000ULL;

struct Options {
  size_t items = 0;
  size_t records = 0;      // MODIFY records of new keys
  size_t ttl_removes = 0;  // then REMOVEs by the TTL service of the first items
  size_t removes = 0;      // then REMOVEs by a user of the next items
  size_t shards = 4;
  std::string table = "users";
  size_t tables = 1;  // > 1: tables <table>_1 .. <table>_<tables>, the same data each
  std::string listen = "127.0.0.1:0";
  size_t late_records = 0;        // MODIFYs of new keys that appear one by one after a quiet spell
  size_t late_after_ms = 60000;   // the first appears this long after the server listens
  size_t late_spacing_ms = 200;   // then one every this many ms, each on another shard
};

std::string ShardId(size_t shard) {
  char id[64];
  std::snprintf(id, sizeof id, "shardId-00000001725000000000-%08zx", shard + 1);
  return id;
}

std::string SequenceNumber(size_t shard, size_t position) {
  return std::to_string(kSequenceBase + shard * kShardStride + position);
}

// Stats of one operation, updated by the server threads.
struct OperationStats {
  std::atomic<int64_t> requests{0};
  std::atomic<int64_t> bytes{0};
};

class ReplayServer {
 public:
  explicit ReplayServer(Options options) : options_(std::move(options)) {
    for (size_t t = 0; t < options_.tables; ++t) {
      const std::string name = options_.tables == 1 ? options_.table : options_.table + "_" + std::to_string(t + 1);
      table_names_.push_back(name);
      stream_arns_.push_back("arn:aws:dynamodb:us-east-1:000000000000:table/" + name + "/stream/2024-09-05T17:16:20.382");
    }
  }

  // Encodes every item and record, on all cores.
  void Generate() {
    items_.resize(options_.items);
    item_ids_.resize(options_.items);
    shards_.assign(options_.shards, {});
    const size_t total_records = TotalRecords();
    for (size_t s = 0; s < options_.shards; ++s) shards_[s].resize(total_records / options_.shards + 1);
    const size_t workers = std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::thread> threads;
    for (size_t w = 0; w < workers; ++w) {
      threads.emplace_back([this, w, workers, total_records] {
        for (size_t i = w; i < options_.items; i += workers) EncodeItem(i);
        for (size_t r = w; r < total_records; r += workers) EncodeRecord(r);
      });
    }
    for (auto& thread : threads) thread.join();
    for (size_t s = 0; s < options_.shards; ++s) {
      shards_[s].resize(total_records / options_.shards + (s < total_records % options_.shards ? 1 : 0));
    }
    visible_from_ms_.assign(options_.shards, {});
    for (size_t s = 0; s < options_.shards; ++s) visible_from_ms_[s].assign(shards_[s].size(), 0);
    for (size_t i = 0; i < options_.items; ++i) item_index_.emplace(item_ids_[i], i);
    size_t bytes = 0;
    for (const auto& item : items_) bytes += item.size();
    for (const auto& shard : shards_) {
      for (const auto& record : shard) bytes += record.size();
    }
    std::fprintf(stderr, "replay_server: %zu items, %zu records over %zu shards, %.0f MB encoded\n",
                 options_.items, total_records, options_.shards, static_cast<double>(bytes) / 1e6);
  }

  // Appends the late records, timed from now (call just before listening); prints
  // "late ID EPOCH_MS" for each on stdout: when it becomes readable.
  void ScheduleLate() {
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch()).count();
    for (size_t i = 0; i < options_.late_records; ++i) {
      const size_t shard = (i * 7919) % options_.shards;
      const size_t position = shards_[shard].size();
      const int64_t visible_ms = now_ms + static_cast<int64_t>(options_.late_after_ms + i * options_.late_spacing_ms);
      const uint64_t seed = options_.items + TotalRecords() + i + 1;
      const auto new_image = ddb2pg::bench::MakeReferenceItem(seed);
      const auto old_image = ddb2pg::bench::MakeReferenceOldImage(seed);
      char event_id[40];
      std::snprintf(event_id, sizeof event_id, "%032zx", TotalRecords() + i + 1);
      std::string out;
      JsonWriter writer(&out);
      BeginRecord(writer, event_id, "MODIFY", position, new_image, visible_ms / 1000);
      writer.Key("NewImage");
      ddb2pg::core::WriteItem(writer, new_image);
      writer.Key("OldImage");
      ddb2pg::core::WriteItem(writer, old_image);
      writer.Key("SequenceNumber").String(SequenceNumber(shard, position));
      writer.Key("SizeBytes").Int(static_cast<int64_t>(out.size() / 2));
      writer.Key("StreamViewType").String("NEW_AND_OLD_IMAGES");
      writer.EndObject();
      writer.EndObject();
      shards_[shard].push_back(std::move(out));
      visible_from_ms_[shard].push_back(visible_ms);
      std::printf("late %s %lld\n", std::string(new_image.Find("id")->as_string()).c_str(),
                  static_cast<long long>(visible_ms));
    }
  }

  int Handle(mg_connection* conn) {
    const mg_request_info* request = mg_get_request_info(conn);
    const char* target_header = mg_get_header(conn, "X-Amz-Target");
    std::string_view target = target_header != nullptr ? target_header : "";
    const size_t dot = target.find('.');
    const std::string operation(dot == std::string_view::npos ? target : target.substr(dot + 1));

    std::string body;
    if (request->content_length > 0) body.resize(static_cast<size_t>(request->content_length));
    size_t read = 0;
    while (read < body.size()) {
      const int n = mg_read(conn, body.data() + read, body.size() - read);
      if (n <= 0) break;
      read += static_cast<size_t>(n);
    }
    body.resize(read);

    std::string response;
    std::string error_type;
    std::string error_message;
    simdjson::dom::parser& parser = Parser();
    simdjson::dom::element root;
    if (parser.parse(body).get(root) != simdjson::SUCCESS || !root.is_object()) {
      error_type = "SerializationException";
      error_message = "the request body is not a JSON object";
    } else if (operation == "Scan") {
      Scan(root, &response, &error_type, &error_message);
    } else if (operation == "GetRecords") {
      GetRecords(root, &response, &error_type, &error_message);
    } else if (operation == "GetShardIterator") {
      GetShardIterator(root, &response, &error_type, &error_message);
    } else if (operation == "DescribeStream") {
      DescribeStream(root, &response, &error_type, &error_message);
    } else if (operation == "DescribeTable") {
      DescribeTable(root, &response, &error_type, &error_message);
    } else {
      error_type = "UnknownOperationException";
      error_message = "replay_server does not implement '" + std::string(target) + "'";
    }
    OperationStats& stats = Stats(error_type.empty() ? operation : "errors");
    if (!error_type.empty()) {
      std::string error;
      JsonWriter(&error).BeginObject().Key("__type").String("com.amazonaws.dynamodb.v20120810#" + error_type)
          .Key("message").String(error_message).EndObject();
      mg_printf(conn,
                "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: %zu\r\n"
                "Connection: close\r\n\r\n",
                error.size());
      mg_write(conn, error.data(), error.size());
      stats.requests += 1;
      return 400;
    }
    mg_send_http_ok(conn, "application/x-amz-json-1.0", static_cast<long long>(response.size()));
    mg_write(conn, response.data(), response.size());
    stats.requests += 1;
    stats.bytes += static_cast<int64_t>(response.size());
    return 200;
  }

  std::string StatsJson() {
    std::string out;
    JsonWriter writer(&out);
    writer.BeginObject();
    std::lock_guard lock(stats_mutex_);
    for (const auto& [name, stats] : stats_) {
      writer.Key(name).BeginObject().Key("requests").Int(stats.requests.load()).Key("bytes").Int(stats.bytes.load());
      writer.EndObject();
    }
    writer.EndObject();
    return out;
  }

 private:
  using Error = std::string;

  static simdjson::dom::parser& Parser() {
    thread_local simdjson::dom::parser parser;
    return parser;
  }

  OperationStats& Stats(const std::string& operation) {
    std::lock_guard lock(stats_mutex_);
    return stats_[operation];
  }

  static std::string_view StringField(simdjson::dom::element root, const char* name) {
    std::string_view value;
    if (root[name].get(value) != simdjson::SUCCESS) return {};
    return value;
  }
  static int64_t IntField(simdjson::dom::element root, const char* name, int64_t fallback) {
    int64_t value = 0;
    if (root[name].get(value) != simdjson::SUCCESS) return fallback;
    return value;
  }

  void EncodeItem(size_t index) {
    const auto item = ddb2pg::bench::MakeReferenceItem(index + 1);
    std::string& out = items_[index];
    out.reserve(2400);
    JsonWriter writer(&out);
    ddb2pg::core::WriteItem(writer, item);
    item_ids_[index] = item.Find("id")->as_string();
  }

  size_t TotalRecords() const { return options_.records + options_.ttl_removes + options_.removes; }

  // Record r: shard r % S, position r / S. The MODIFYs use items of seeds after the table's, so
  // every key is new; the REMOVEs that follow them delete items of the table.
  void EncodeRecord(size_t r) {
    const size_t shard = r % options_.shards;
    const size_t position = r / options_.shards;
    std::string& out = shards_[shard][position];
    char event_id[40];
    std::snprintf(event_id, sizeof event_id, "%032zx", r + 1);
    if (r >= options_.records) {
      EncodeRemove(r - options_.records, shard, position, event_id, &out);
      return;
    }
    const uint64_t seed = options_.items + r + 1;
    const auto new_image = ddb2pg::bench::MakeReferenceItem(seed);
    const auto old_image = ddb2pg::bench::MakeReferenceOldImage(seed);
    out.reserve(4800);
    JsonWriter writer(&out);
    BeginRecord(writer, event_id, "MODIFY", position, new_image);
    writer.Key("NewImage");
    ddb2pg::core::WriteItem(writer, new_image);
    writer.Key("OldImage");
    ddb2pg::core::WriteItem(writer, old_image);
    writer.Key("SequenceNumber").String(SequenceNumber(shard, position));
    writer.Key("SizeBytes").Int(static_cast<int64_t>(out.size() / 2));
    writer.Key("StreamViewType").String("NEW_AND_OLD_IMAGES");
    writer.EndObject();
    writer.EndObject();
  }

  // A stream record up to its Keys: the fields every event shares, then `dynamodb` opened.
  static void BeginRecord(JsonWriter& writer, const char* event_id, const char* event_name, size_t position,
                          const ddb2pg::core::Value& image, int64_t creation_seconds = 0) {
    writer.BeginObject();
    writer.Key("eventID").String(event_id);
    writer.Key("eventName").String(event_name);
    writer.Key("eventVersion").String("1.1");
    writer.Key("eventSource").String("aws:dynamodb");
    writer.Key("awsRegion").String("us-east-1");
    writer.Key("dynamodb").BeginObject();
    writer.Key("ApproximateCreationDateTime")
        .Int(creation_seconds != 0 ? creation_seconds : 1725555380 + static_cast<int64_t>(position / 1000));
    writer.Key("Keys").BeginObject().Key("id");
    ddb2pg::core::WriteAttributeValue(writer, *image.Find("id"));
    writer.EndObject();
  }

  // The REMOVE of item `index` (seed index + 1): by the TTL service for the first ttl_removes,
  // by a user after them. Shaped like the service's: Keys and OldImage, no NewImage.
  void EncodeRemove(size_t index, size_t shard, size_t position, const char* event_id, std::string* out) const {
    const auto old_image = ddb2pg::bench::MakeReferenceItem(index + 1);
    JsonWriter writer(out);
    BeginRecord(writer, event_id, "REMOVE", position, old_image);
    writer.Key("OldImage");
    ddb2pg::core::WriteItem(writer, old_image);
    writer.Key("SequenceNumber").String(SequenceNumber(shard, position));
    writer.Key("SizeBytes").Int(static_cast<int64_t>(out->size() / 2));
    writer.Key("StreamViewType").String("NEW_AND_OLD_IMAGES");
    writer.EndObject();
    if (index < options_.ttl_removes) {
      writer.Key("userIdentity").BeginObject();
      writer.Key("type").String("Service").Key("principalId").String("dynamodb.amazonaws.com");
      writer.EndObject();
    }
    writer.EndObject();
  }

  static constexpr size_t kNoTable = static_cast<size_t>(-1);

  // The index of the request's table, or kNoTable (the error set).
  size_t CheckTable(simdjson::dom::element root, Error* type, Error* message) const {
    const std::string_view table = StringField(root, "TableName");
    for (size_t t = 0; t < table_names_.size(); ++t) {
      if (table == table_names_[t]) return t;
    }
    *type = "ResourceNotFoundException";
    *message = "Requested resource not found: Table: " + std::string(table) + " not found";
    return kNoTable;
  }

  // The index of the request's stream's table, or kNoTable (the error set).
  size_t CheckStream(simdjson::dom::element root, Error* type, Error* message) const {
    const std::string_view arn = StringField(root, "StreamArn");
    for (size_t t = 0; t < stream_arns_.size(); ++t) {
      if (arn == stream_arns_[t]) return t;
    }
    *type = "ResourceNotFoundException";
    *message = "Requested resource not found: Stream: " + std::string(arn) + " not found";
    return kNoTable;
  }

  // Where a page starting at `begin` ends: at most `limit` fragments and, like the service, no
  // more once 1 MB is reached (at least one).
  static size_t PageEnd(const std::vector<std::string>& fragments, size_t begin, size_t end, size_t limit) {
    size_t stop = begin;
    size_t bytes = 0;
    while (stop < end && stop - begin < limit && (stop == begin || bytes < kMaxPageBytes)) {
      bytes += fragments[stop].size() + 1;
      ++stop;
    }
    return stop;
  }

  // Appends fragments[begin, stop) as a JSON array.
  static void AppendArray(const std::vector<std::string>& fragments, size_t begin, size_t stop, std::string* out) {
    size_t bytes = 2;
    for (size_t i = begin; i < stop; ++i) bytes += fragments[i].size() + 1;
    out->reserve(out->size() + bytes + 128);
    out->push_back('[');
    for (size_t i = begin; i < stop; ++i) {
      if (i != begin) out->push_back(',');
      out->append(fragments[i]);
    }
    out->push_back(']');
  }

  void DescribeTable(simdjson::dom::element root, std::string* out, Error* type, Error* message) const {
    const size_t table = CheckTable(root, type, message);
    if (table == kNoTable) return;
    size_t bytes = 0;
    for (const auto& item : items_) bytes += item.size();
    JsonWriter writer(out);
    writer.BeginObject().Key("Table").BeginObject();
    writer.Key("TableName").String(table_names_[table]).Key("TableStatus").String("ACTIVE");
    writer.Key("ItemCount").Int(static_cast<int64_t>(options_.items));
    writer.Key("TableSizeBytes").Int(static_cast<int64_t>(bytes));
    writer.Key("KeySchema").BeginArray().BeginObject().Key("AttributeName").String("id");
    writer.Key("KeyType").String("HASH").EndObject().EndArray();
    writer.Key("AttributeDefinitions").BeginArray().BeginObject().Key("AttributeName").String("id");
    writer.Key("AttributeType").String("S").EndObject().EndArray();
    writer.Key("StreamSpecification").BeginObject().Key("StreamEnabled").Bool(true);
    writer.Key("StreamViewType").String("NEW_AND_OLD_IMAGES").EndObject();
    writer.Key("LatestStreamArn").String(stream_arns_[table]);
    writer.Key("LatestStreamLabel").String("2024-09-05T17:16:20.382");
    writer.EndObject().EndObject();
  }

  void Scan(simdjson::dom::element root, std::string* out, Error* type, Error* message) const {
    if (CheckTable(root, type, message) == kNoTable) return;
    const int64_t total = IntField(root, "TotalSegments", 1);
    const int64_t segment = IntField(root, "Segment", 0);
    const int64_t limit = IntField(root, "Limit", 1 << 30);
    if (total < 1 || total > 1000000 || segment < 0 || segment >= total || limit < 1) {
      *type = "ValidationException";
      *message = "bad Segment/TotalSegments/Limit";
      return;
    }
    const size_t n = options_.items;
    const size_t begin = n * static_cast<size_t>(segment) / static_cast<size_t>(total);
    const size_t end = n * static_cast<size_t>(segment + 1) / static_cast<size_t>(total);
    size_t start = begin;
    simdjson::dom::element start_key;
    if (root["ExclusiveStartKey"].get(start_key) == simdjson::SUCCESS) {
      std::string_view id;
      if (start_key["id"]["S"].get(id) != simdjson::SUCCESS) {
        *type = "ValidationException";
        *message = "ExclusiveStartKey has no id (S)";
        return;
      }
      auto found = item_index_.find(id);
      if (found == item_index_.end() || found->second < begin || found->second >= end) {
        *type = "ValidationException";
        *message = "ExclusiveStartKey is not in this segment";
        return;
      }
      start = found->second + 1;
    }
    const size_t stop = PageEnd(items_, start, end, static_cast<size_t>(limit));
    out->append("{\"Count\":").append(std::to_string(stop - start)).append(",\"Items\":");
    AppendArray(items_, start, stop, out);
    out->append(",\"ScannedCount\":").append(std::to_string(stop - start));
    if (stop < end) out->append(",\"LastEvaluatedKey\":{\"id\":{\"S\":\"").append(item_ids_[stop - 1]).append("\"}}");
    out->append("}");
  }

  void DescribeStream(simdjson::dom::element root, std::string* out, Error* type, Error* message) const {
    const size_t table = CheckStream(root, type, message);
    if (table == kNoTable) return;
    const int64_t limit = IntField(root, "Limit", 100);
    const std::string_view after = StringField(root, "ExclusiveStartShardId");
    simdjson::dom::element filter;
    const bool children_only = root["ShardFilter"].get(filter) == simdjson::SUCCESS;  // no shard has children
    size_t first = 0;
    if (!after.empty()) {
      while (first < options_.shards && ShardId(first) != after) ++first;
      ++first;
    }
    JsonWriter writer(out);
    writer.BeginObject().Key("StreamDescription").BeginObject();
    writer.Key("StreamArn").String(stream_arns_[table]).Key("StreamLabel").String("2024-09-05T17:16:20.382");
    writer.Key("StreamStatus").String("ENABLED").Key("StreamViewType").String("NEW_AND_OLD_IMAGES");
    writer.Key("TableName").String(table_names_[table]);
    writer.Key("KeySchema").BeginArray().BeginObject().Key("AttributeName").String("id");
    writer.Key("KeyType").String("HASH").EndObject().EndArray();
    writer.Key("Shards").BeginArray();
    size_t shard = first;
    for (; !children_only && shard < options_.shards && static_cast<int64_t>(shard - first) < limit; ++shard) {
      writer.BeginObject().Key("ShardId").String(ShardId(shard));
      writer.Key("SequenceNumberRange").BeginObject().Key("StartingSequenceNumber").String(SequenceNumber(shard, 0));
      writer.EndObject().EndObject();
    }
    writer.EndArray();
    if (!children_only && shard < options_.shards) writer.Key("LastEvaluatedShardId").String(ShardId(shard - 1));
    writer.EndObject().EndObject();
  }

  // Iterators are "replay/<shard>/<position>".
  void GetShardIterator(simdjson::dom::element root, std::string* out, Error* type, Error* message) const {
    if (CheckStream(root, type, message) == kNoTable) return;
    const std::string_view shard_id = StringField(root, "ShardId");
    size_t shard = 0;
    while (shard < options_.shards && ShardId(shard) != shard_id) ++shard;
    if (shard == options_.shards) {
      *type = "ResourceNotFoundException";
      *message = "Requested resource not found: Shard: " + std::string(shard_id) + " not found";
      return;
    }
    const std::string_view iterator_type = StringField(root, "ShardIteratorType");
    size_t position = 0;
    if (iterator_type == "LATEST") {
      // The served records are changes made after the start (their keys are not in the table,
      // and the TTL removes are of items the Scan still returns): a LATEST iterator, such as a
      // snapshot's watermark takes before its Scan, comes before all of them.
      position = 0;
    } else if (iterator_type == "AT_SEQUENCE_NUMBER" || iterator_type == "AFTER_SEQUENCE_NUMBER") {
      const std::string_view text = StringField(root, "SequenceNumber");
      uint64_t sequence = 0;
      const auto parsed = std::from_chars(text.data(), text.data() + text.size(), sequence);
      const uint64_t shard_base = kSequenceBase + shard * kShardStride;
      if (parsed.ec != std::errc() || sequence < shard_base || sequence - shard_base >= shards_[shard].size()) {
        *type = "ValidationException";
        *message = "SequenceNumber " + std::string(text) + " is not in shard " + std::string(shard_id);
        return;
      }
      position = sequence - shard_base + (iterator_type == "AFTER_SEQUENCE_NUMBER" ? 1 : 0);
    } else if (iterator_type != "TRIM_HORIZON") {
      *type = "ValidationException";
      *message = "bad ShardIteratorType " + std::string(iterator_type);
      return;
    }
    out->append("{\"ShardIterator\":\"replay/").append(std::to_string(shard)).append("/");
    out->append(std::to_string(position)).append("\"}");
  }

  void GetRecords(simdjson::dom::element root, std::string* out, Error* type, Error* message) const {
    const std::string_view iterator = StringField(root, "ShardIterator");
    size_t shard = 0;
    size_t position = 0;
    const size_t slash = iterator.rfind('/');
    const bool parsed = iterator.starts_with("replay/") && slash > 7 &&
                        std::from_chars(iterator.data() + 7, iterator.data() + slash, shard).ec == std::errc() &&
                        std::from_chars(iterator.data() + slash + 1, iterator.data() + iterator.size(), position).ec ==
                            std::errc() &&
                        shard < options_.shards && position <= shards_[shard].size();
    const int64_t limit = IntField(root, "Limit", 1000);
    if (!parsed || limit < 1 || limit > 1000) {
      *type = "ValidationException";
      *message = "bad ShardIterator or Limit";
      return;
    }
    const auto& records = shards_[shard];
    // Late records are at each shard's end, in the order they appear.
    const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch()).count();
    size_t visible = records.size();
    while (visible > position && visible_from_ms_[shard][visible - 1] > now_ms) --visible;
    out->append("{\"Records\":");
    const size_t stop = PageEnd(records, position, visible, static_cast<size_t>(limit));
    AppendArray(records, position, stop, out);
    out->append(",\"NextShardIterator\":\"replay/").append(std::to_string(shard)).append("/");
    out->append(std::to_string(stop)).append("\"}");
  }

  Options options_;
  std::vector<std::string> table_names_;  // one per table; the same data behind each
  std::vector<std::string> stream_arns_;
  std::vector<std::string> items_;
  std::vector<std::string> item_ids_;
  std::unordered_map<std::string_view, size_t> item_index_;
  std::vector<std::vector<std::string>> shards_;
  std::vector<std::vector<int64_t>> visible_from_ms_;  // per record: readable from (epoch ms); 0: always
  std::mutex stats_mutex_;
  std::map<std::string, OperationStats> stats_;
};

int HandleRequest(mg_connection* conn, void* self) { return static_cast<ReplayServer*>(self)->Handle(conn); }

bool ParseSize(const char* text, size_t* out) {
  const std::string_view view(text);
  return std::from_chars(view.data(), view.data() + view.size(), *out).ec == std::errc() && !view.empty();
}

int Usage(const char* problem) {
  std::fprintf(stderr, "replay_server: %s\nusage: replay_server --items N --records M [--shards S] [--table NAME] "
                       "[--tables K] [--listen HOST:PORT] [--ttl-removes T] [--removes R]\n"
                       "       [--late-records L] [--late-after-ms MS] [--late-spacing-ms MS]\n", problem);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string_view flag = argv[i];
    if (i + 1 >= argc) return Usage(("missing value of " + std::string(flag)).c_str());
    const char* value = argv[++i];
    if (flag == "--items") {
      if (!ParseSize(value, &options.items)) return Usage("--items takes a count");
    } else if (flag == "--records") {
      if (!ParseSize(value, &options.records)) return Usage("--records takes a count");
    } else if (flag == "--shards") {
      if (!ParseSize(value, &options.shards) || options.shards < 1 || options.shards > 1000) {
        return Usage("--shards takes 1..1000");
      }
    } else if (flag == "--ttl-removes") {
      if (!ParseSize(value, &options.ttl_removes)) return Usage("--ttl-removes takes a count");
    } else if (flag == "--removes") {
      if (!ParseSize(value, &options.removes)) return Usage("--removes takes a count");
    } else if (flag == "--late-records") {
      if (!ParseSize(value, &options.late_records)) return Usage("--late-records takes a count");
    } else if (flag == "--late-after-ms") {
      if (!ParseSize(value, &options.late_after_ms)) return Usage("--late-after-ms takes milliseconds");
    } else if (flag == "--late-spacing-ms") {
      if (!ParseSize(value, &options.late_spacing_ms)) return Usage("--late-spacing-ms takes milliseconds");
    } else if (flag == "--tables") {
      if (!ParseSize(value, &options.tables) || options.tables < 1 || options.tables > 1000) {
        return Usage("--tables takes 1..1000");
      }
    } else if (flag == "--table") {
      options.table = value;
    } else if (flag == "--listen") {
      options.listen = value;
    } else {
      return Usage(("unknown option " + std::string(flag)).c_str());
    }
  }

  if (options.ttl_removes + options.removes > options.items) {
    return Usage("--ttl-removes plus --removes must not exceed --items (they delete items of the table)");
  }

  // Signals are taken by sigwait below, on the main thread only.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  ReplayServer server(options);
  server.Generate();

  server.ScheduleLate();
  mg_init_library(0);
  const char* mg_options[] = {"listening_ports", options.listen.c_str(), "num_threads", "64",
                              "enable_keep_alive", "yes", "request_timeout_ms", "120000",
                              // A response is two writes (headers, body): with Nagle on, the
                              // client's delayed ACK holds each one ~40 ms (as AWS does not).
                              "tcp_nodelay", "1", nullptr};
  mg_callbacks callbacks{};
  mg_context* context = mg_start(&callbacks, nullptr, mg_options);
  if (context == nullptr) {
    std::fprintf(stderr, "replay_server: cannot listen on %s\n", options.listen.c_str());
    return 1;
  }
  mg_set_request_handler(context, "/", &HandleRequest, &server);
  mg_server_port ports[2];
  if (mg_get_server_ports(context, 2, ports) < 1) {
    std::fprintf(stderr, "replay_server: no listening port\n");
    return 1;
  }
  std::printf("listening on 127.0.0.1:%d\n", ports[0].port);
  std::fflush(stdout);

  int signal = 0;
  sigwait(&signals, &signal);
  std::printf("%s\n", server.StatsJson().c_str());
  std::fflush(stdout);
  std::_Exit(0);  // skip freeing ~1 GB of fragments and civetweb's shutdown wait
}
