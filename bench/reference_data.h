// Reference data for benchmarks and tests: items shaped like the `users` table of the reference
// scenario (shared/SCENARIO.md), and the GetRecords / Scan response bodies that carry them.
//
// Everything is deterministic in `seed`: the same seed gives the same item, byte for byte.
// An item encodes to about 2 KB of DynamoDB JSON: the mapped attributes (id, createdAt with
// microseconds, name, handle, imageUrl, bio, location, repScore, website, date-only birthdate,
// the `appearance` map, the `notifications` map of 16 push_*/app_* BOOLs + deleted) plus the
// attributes no target uses (email, phone, brew, pronouns, memberTour, accessibility, followers).
//
// Header-only (bench/ builds only *_bench.cpp); shared by decode_bench and the mapping bench, so
// keep the functions and their output stable.
#pragma once

#include <array>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "core/json_writer.h"
#include "core/value.h"
#include "core/value_json.h"

namespace ddb2pg::bench {

// splitmix64: tiny, fast, and good enough to vary the data.
class ReferenceRandom {
 public:
  explicit ReferenceRandom(uint64_t seed) : state_(seed * 0x9E3779B97F4A7C15ULL + 0x2545F4914F6CDD1DULL) {}
  uint64_t Next() {
    uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  uint64_t Below(uint64_t bound) { return Next() % bound; }
  bool Chance(int percent) { return Below(100) < static_cast<uint64_t>(percent); }
  template <typename T, size_t N>
  const T& Pick(const std::array<T, N>& options) { return options[Below(N)]; }

 private:
  uint64_t state_;
};

// A version-4 UUID in canonical lower-case form.
inline std::string ReferenceUuid(ReferenceRandom& random) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (int i = 0; i < 32; ++i) {
    if (i == 8 || i == 12 || i == 16 || i == 20) out += '-';
    int digit = static_cast<int>(random.Below(16));
    if (i == 12) digit = 4;
    if (i == 16) digit = 8 + (digit & 3);
    out += kHex[digit];
  }
  return out;
}

inline std::string ReferenceHex(ReferenceRandom& random, int digits) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < digits; ++i) out += kHex[random.Below(16)];
  return out;
}

// The `users` item for `seed` (the after-image of the reference MODIFY).
inline core::Value MakeReferenceItem(uint64_t seed) {
  using core::Value;
  static constexpr std::array<std::string_view, 12> kFirst = {
      "Avery", "Jordan", "Riley", "Morgan", "Quinn", "Harper", "Rowan", "Sage", "Emerson", "Finley", "Zoë", "Mateo"};
  static constexpr std::array<std::string_view, 12> kLast = {
      "Quinn", "Okafor", "Lindqvist", "Castillo", "Nakamura", "Brennan", "Haddad", "Moreau", "Kowalski", "Ivanova",
      "Delacroix", "Sørensen"};
  static constexpr std::array<std::string_view, 10> kCities = {
      "Portland, OR", "Austin, TX", "Berlin", "São Paulo", "Toronto, ON", "Melbourne", "Lisbon", "Osaka",
      "Nairobi", "Brooklyn, NY"};
  static constexpr std::array<std::string_view, 24> kWords = {
      "tea", "enthusiast", "oolong", "collector", "weekend", "potter", "coffee", "skeptic", "matcha", "latte",
      "artist", "sharing", "recipes", "from", "my", "kitchen", "and", "garden", "always", "steeping", "something",
      "new", "☕", "🍵"};
  static constexpr std::array<std::string_view, 3> kModes = {"dark", "light", "system"};
  static constexpr std::array<std::string_view, 6> kColorways = {"lavender", "matcha", "earl-grey", "chai",
                                                                 "hibiscus", "jasmine"};
  static constexpr std::array<std::string_view, 4> kThemes = {"midnight", "paper", "sakura", "forest"};
  static constexpr std::array<std::string_view, 8> kBrews = {"Sencha", "Assam", "Darjeeling", "Rooibos",
                                                             "Genmaicha", "Pu-erh", "Chamomile", "Earl Grey"};
  static constexpr std::array<std::string_view, 16> kNotifications = {
      "push_follows", "push_comments", "push_quotes", "push_likes", "push_mentions", "push_app_wide",
      "push_tp_invites", "push_tp_replies", "app_follows", "app_comments", "app_quotes", "app_likes",
      "app_mentions", "app_app_wide", "app_tp_invites", "app_tp_replies"};

  ReferenceRandom random(seed);
  const std::string id = ReferenceUuid(random);
  const std::string first(random.Pick(kFirst));
  const std::string last(random.Pick(kLast));

  char created_at[40];
  std::snprintf(created_at, sizeof created_at, "2024-%02d-%02dT%02d:%02d:%02d.%06dZ",
                static_cast<int>(1 + random.Below(12)), static_cast<int>(1 + random.Below(28)),
                static_cast<int>(random.Below(24)), static_cast<int>(random.Below(60)),
                static_cast<int>(random.Below(60)), static_cast<int>(random.Below(1000000)));
  char birthdate[16];
  std::snprintf(birthdate, sizeof birthdate, "%04d-%02d-%02d", static_cast<int>(1960 + random.Below(45)),
                static_cast<int>(1 + random.Below(12)), static_cast<int>(1 + random.Below(28)));

  std::string handle = first + "." + last + std::to_string(random.Below(1000));
  for (char& c : handle) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  std::string bio;
  while (bio.size() < 150) {
    if (!bio.empty()) bio += ' ';
    bio += random.Pick(kWords);
  }
  char rep_score[16];
  std::snprintf(rep_score, sizeof rep_score, "%d.%02d", static_cast<int>(random.Below(5)),
                static_cast<int>(random.Below(100)));

  Value::Map appearance = {{"mode", Value::String(std::string(random.Pick(kModes)))},
                           {"colorway", Value::String(std::string(random.Pick(kColorways)))}};
  if (random.Chance(50)) appearance.emplace_back("theme", Value::String(std::string(random.Pick(kThemes))));

  Value::Map notifications;
  notifications.reserve(kNotifications.size() + 1);
  for (std::string_view name : kNotifications) notifications.emplace_back(std::string(name), Value::Bool(random.Chance(60)));
  notifications.emplace_back("deleted", Value::Bool(false));

  Value::List brew;
  for (uint64_t i = 0, n = 2 + random.Below(3); i < n; ++i) brew.push_back(Value::String(std::string(random.Pick(kBrews))));

  Value::List pronouns = {Value::MakeMap({{"subject", Value::String("they")},
                                          {"object", Value::String("them")},
                                          {"possessive", Value::String("theirs")}})};
  if (random.Chance(30)) {
    pronouns.push_back(Value::MakeMap({{"subject", Value::String("she")},
                                       {"object", Value::String("her")},
                                       {"possessive", Value::String("hers")}}));
  }

  return Value::MakeMap({
      {"id", Value::String(id)},
      {"createdAt", Value::String(created_at)},
      {"name", Value::String(first + " " + last)},
      {"handle", Value::String(handle)},
      {"imageUrl", Value::String("https://cdn.teaparty.example/avatars/" + id + "/original.jpg?v=" +
                                 std::to_string(random.Below(100000)))},
      {"bio", Value::String(bio)},
      {"location", Value::String(std::string(random.Pick(kCities)))},
      {"repScore", Value::Number(rep_score)},
      {"website", Value::String("https://" + handle + ".example.com/")},
      {"birthdate", Value::String(birthdate)},
      {"appearance", Value::MakeMap(std::move(appearance))},
      {"notifications", Value::MakeMap(std::move(notifications))},
      {"email", Value::String(handle + "@mail.example.com")},
      {"phone", Value::String("+1-555-" + std::to_string(1000000 + random.Below(9000000)))},
      {"brew", Value::MakeList(std::move(brew))},
      {"pronouns", Value::MakeList(std::move(pronouns))},
      {"memberTour", Value::MakeMap({{"completed", Value::Bool(random.Chance(70))},
                                     {"step", Value::Number(std::to_string(random.Below(9)))},
                                     {"startedAt", Value::String(created_at)},
                                     {"skipped", Value::MakeList({Value::String("intro"), Value::String("brews")})}})},
      {"accessibility", Value::MakeMap({{"reduceMotion", Value::Bool(random.Chance(20))},
                                        {"highContrast", Value::Bool(random.Chance(10))},
                                        {"fontScale", Value::Number("1.25")},
                                        {"captions", Value::Bool(true)}})},
      {"followers", Value::Number(std::to_string(random.Below(250000)))},
      {"following", Value::Number(std::to_string(random.Below(2000)))},
      {"lastSeenAt", Value::Number(std::to_string(1725000000000ULL + random.Below(10000000000ULL)))},
  });
}

// The before-image of the reference MODIFY: the same item with an older repScore and one
// notification setting flipped.
inline core::Value MakeReferenceOldImage(uint64_t seed) {
  core::Value item = MakeReferenceItem(seed);
  item.Set("repScore", core::Value::Number("2.5"));
  for (auto& [name, value] : item.map()) {
    if (name != "notifications") continue;
    for (auto& [setting, enabled] : value.map()) {
      if (setting == "push_likes") enabled = core::Value::Bool(!enabled.as_bool());
    }
  }
  return item;
}

// A GetRecords response body of `record_count` MODIFY records (NEW_AND_OLD_IMAGES) for the items
// of seeds first_seed, first_seed+1, ...; with a NextShardIterator (the shard is open).
inline std::string MakeGetRecordsPageJson(size_t record_count, uint64_t first_seed = 1) {
  std::string out;
  out.reserve(record_count * 4600 + 512);
  core::JsonWriter writer(&out);
  ReferenceRandom random(first_seed ^ 0x5EC0DEULL);
  writer.BeginObject().Key("Records").BeginArray();
  for (size_t i = 0; i < record_count; ++i) {
    const core::Value new_image = MakeReferenceItem(first_seed + i);
    const core::Value old_image = MakeReferenceOldImage(first_seed + i);
    writer.BeginObject();
    writer.Key("eventID").String(ReferenceHex(random, 32));
    writer.Key("eventName").String("MODIFY");
    writer.Key("eventVersion").String("1.1");
    writer.Key("eventSource").String("aws:dynamodb");
    writer.Key("awsRegion").String("us-east-1");
    writer.Key("dynamodb").BeginObject();
    char created[32];
    std::snprintf(created, sizeof created, "1.7255%05dE9", static_cast<int>(i % 100000));
    writer.Key("ApproximateCreationDateTime").RawNumber(created);
    writer.Key("Keys").BeginObject().Key("id");
    core::WriteAttributeValue(writer, *new_image.Find("id"));
    writer.EndObject();
    writer.Key("NewImage");
    core::WriteItem(writer, new_image);
    writer.Key("OldImage");
    core::WriteItem(writer, old_image);
    writer.Key("SequenceNumber").String("4000000000" + std::to_string(100000000000ULL + first_seed * 1000 + i));
    writer.Key("SizeBytes").Int(static_cast<int64_t>(2900 + random.Below(200)));
    writer.Key("StreamViewType").String("NEW_AND_OLD_IMAGES");
    writer.EndObject();  // dynamodb
    writer.EndObject();  // record
  }
  writer.EndArray();
  writer.Key("NextShardIterator")
      .String("arn:aws:dynamodb:us-east-1:123456789012:table/users/stream/2024-09-05T17:16:20.382|1|"
              "AAAAAAAAAAHnYQ7yTbU2x8mKsNN0qPq2b1bC3/7l5oXwZ8W5kzvPp0m8HRsJ9dtkbNfQ4oZ2yT0Yw==");
  writer.EndObject();
  return out;
}

// A Scan response body of `item_count` reference items, with a LastEvaluatedKey (more pages).
inline std::string MakeScanPageJson(size_t item_count, uint64_t first_seed = 1) {
  std::string out;
  out.reserve(item_count * 2300 + 256);
  core::JsonWriter writer(&out);
  writer.BeginObject().Key("Count").Int(static_cast<int64_t>(item_count)).Key("Items").BeginArray();
  core::Value last_key;
  for (size_t i = 0; i < item_count; ++i) {
    const core::Value item = MakeReferenceItem(first_seed + i);
    core::WriteItem(writer, item);
    if (i + 1 == item_count) last_key = core::Value::MakeMap({{"id", *item.Find("id")}});
  }
  writer.EndArray();
  if (item_count > 0) {
    writer.Key("LastEvaluatedKey");
    core::WriteItem(writer, last_key);
  }
  writer.Key("ScannedCount").Int(static_cast<int64_t>(item_count));
  writer.EndObject();
  return out;
}

}  // namespace ddb2pg::bench
