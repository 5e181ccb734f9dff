#include "app/sample_data.h"

#include <fmt/format.h>

#include <array>
#include <ctime>

namespace ddb2pg::app {
namespace {
using core::Value;

constexpr std::array<const char*, 16> kNotificationColumns = {
    "push_follows", "push_comments", "push_quotes", "push_likes", "push_mentions", "push_app_wide",
    "push_tp_invites", "push_tp_replies", "app_follows", "app_comments", "app_quotes", "app_likes",
    "app_mentions", "app_app_wide", "app_tp_invites", "app_tp_replies"};
constexpr std::array<const char*, 8> kNotificationNames = {
    "Follows", "Comments", "Quotes", "Likes", "Mentions", "AppWide", "TeaPartyInvites", "TeaPartyReply"};

std::string IsoTimestamp(std::mt19937_64& rng, bool with_fraction) {
  // Between 2022-01-01 and 2025-12-31.
  std::uniform_int_distribution<int64_t> seconds(1640995200, 1767139200);
  std::time_t t = seconds(rng);
  std::tm tm{};
  gmtime_r(&t, &tm);
  if (!with_fraction) {
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                       tm.tm_hour, tm.tm_min, tm.tm_sec);
  }
  std::uniform_int_distribution<int> micros(0, 999999);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, micros(rng));
}
}  // namespace

const char* BadKindName(BadKind kind) {
  switch (kind) {
    case BadKind::kNone: return "none";
    case BadKind::kIdNotUuid: return "id-not-uuid";
    case BadKind::kRepScoreNotNumber: return "repscore-not-number";
    case BadKind::kBioTooLong: return "bio-too-long";
    case BadKind::kUnparseableDate: return "unparseable-date";
    case BadKind::kNameAsNumber: return "name-as-number";
    case BadKind::kAppearanceAsString: return "appearance-as-string";
  }
  return "?";
}

std::string SampleData::NewId() {
  std::uniform_int_distribution<uint64_t> any;
  uint64_t hi = any(rng_), lo = any(rng_);
  hi = (hi & 0xFFFFFFFFFFFF0FFFull) | 0x0000000000004000ull;  // version 4
  lo = (lo & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;  // variant 10
  return fmt::format("{:08x}-{:04x}-{:04x}-{:04x}-{:012x}", hi >> 32, (hi >> 16) & 0xFFFF, hi & 0xFFFF, lo >> 48,
                     lo & 0xFFFFFFFFFFFFull);
}

std::string SampleData::Pick(std::initializer_list<const char*> options) {
  std::uniform_int_distribution<size_t> index(0, options.size() - 1);
  return *(options.begin() + index(rng_));
}

BadKind SampleData::RandomBadKind() {
  std::uniform_int_distribution<int> kind(1, 6);
  return static_cast<BadKind>(kind(rng_));
}

Value SampleData::MakeItem(const std::string& id, int64_t version, BadKind bad) {
  std::uniform_int_distribution<int> percent(0, 99);
  Value item = Value::MakeMap();
  item.Set("id", Value::String(bad == BadKind::kIdNotUuid ? "user-" + id.substr(0, 8) : id));
  item.Set("v", Value::Number(std::to_string(version)));
  item.Set("createdAt", Value::String(bad == BadKind::kUnparseableDate ? "yesterday-ish"
                                                                         : IsoTimestamp(rng_, percent(rng_) < 80)));
  const std::string first = Pick({"Ada", "Grace", "Linus", "Barbara", "Ken", "Margaret", "Dennis", "Frances"});
  const std::string last = Pick({"Lovelace", "Hopper", "Liskov", "Thompson", "Hamilton", "Ritchie", "Allen"});
  if (bad == BadKind::kNameAsNumber) {
    item.Set("name", Value::Number("42"));
  } else {
    item.Set("name", Value::String(first + " " + last));
  }
  const std::string handle = fmt::format("{}{}", first, std::uniform_int_distribution<int>(1, 99999)(rng_));
  item.Set("handle", Value::String(handle));
  item.Set("imageUrl", Value::String("https://img.example.com/u/" + id.substr(0, 8) + ".png"));
  if (bad == BadKind::kBioTooLong) {
    item.Set("bio", Value::String(std::string(211, 'x')));
  } else if (percent(rng_) < 85) {
    item.Set("bio", Value::String(Pick({"Writes compilers for fun.", "Tea first, then code. \"Really\".",
                                        "Backslashes \\ and tabs\there; O'Brien says hi.",
                                        "Ünïcödé fan 🚀 — long live UTF-8", "Building things."})));
  }
  if (percent(rng_) < 70) item.Set("location", Value::String(Pick({"London", "Zürich", "São Paulo", "Tokyo"})));
  if (bad == BadKind::kRepScoreNotNumber) {
    item.Set("repScore", Value::String("five"));
  } else {
    item.Set("repScore", Value::Number(std::to_string(std::uniform_int_distribution<int>(0, 100)(rng_))));
  }
  if (percent(rng_) < 50) item.Set("website", Value::String("https://" + handle + ".example.org"));
  if (percent(rng_) < 75) {
    item.Set("birthdate", Value::String(fmt::format("{:04}-{:02}-{:02}", std::uniform_int_distribution<int>(1950, 2008)(rng_),
                                                    std::uniform_int_distribution<int>(1, 12)(rng_),
                                                    std::uniform_int_distribution<int>(1, 28)(rng_))));
  }

  if (bad == BadKind::kAppearanceAsString) {
    item.Set("appearance", Value::String("dark"));
  } else {
    Value appearance = Value::MakeMap();
    appearance.Set("mode", Value::String(Pick({"light", "dark", "system"})));
    appearance.Set("colorway", Value::String(Pick({"sage", "rose", "ocean", "ember"})));
    if (percent(rng_) < 30) appearance.Set("theme", Value::String(Pick({"classic", "compact"})));
    item.Set("appearance", std::move(appearance));
  }

  if (shape_ == ItemShape::kNested) {
    Value notifications = Value::MakeMap();
    for (const char* column : kNotificationColumns) notifications.Set(column, Value::Bool(percent(rng_) < 50));
    item.Set("notifications", std::move(notifications));
  } else {
    Value::List enabled;
    for (const char* name : kNotificationNames) {
      if (percent(rng_) < 50) {
        // Real data is not consistent about case.
        std::string spelled = name;
        if (percent(rng_) < 20) {
          for (auto& c : spelled) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        }
        enabled.push_back(Value::String(spelled));
      }
    }
    item.Set("notifications", Value::MakeList(std::move(enabled)));
  }

  // Attributes no target uses.
  item.Set("email", Value::String(handle + "@example.com"));
  item.Set("phone", Value::String(fmt::format("+44 20 {:04} {:04}", percent(rng_) * 37 % 10000, percent(rng_) * 91 % 10000)));
  item.Set("brew", Value::MakeList({Value::String("oolong"), Value::String("sencha")}));
  item.Set("pronouns", Value::MakeList({Value::MakeMap({{"pronoun", Value::String("they")}, {"order", Value::Number("1")}})}));
  item.Set("memberTour", Value::MakeMap({{"step", Value::Number("3")}, {"done", Value::Bool(false)}}));
  item.Set("accessibility", Value::MakeMap({{"reduceMotion", Value::Bool(percent(rng_) < 10)}}));
  item.Set("followers", Value::Number(std::to_string(std::uniform_int_distribution<int>(0, 50000)(rng_))));
  return item;
}

}  // namespace ddb2pg::app
