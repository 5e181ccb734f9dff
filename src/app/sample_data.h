// Reference-scenario sample items (../shared/SCENARIO.md), with the traits of real data: missing
// attributes, date-only birthdates, timestamps with and without fractions, unused attributes,
// and, on request, bad items of each kind the product must dead-letter.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "core/value.h"

namespace ddb2pg::app {

enum class ItemShape {
  kNested,  // appearance and notifications as maps
  kList,    // notifications as a list of enabled names ("Follows", "TeaPartyInvites", …)
};

enum class BadKind {
  kNone,
  kIdNotUuid,
  kRepScoreNotNumber,  // repScore stored as S "five"
  kBioTooLong,         // 211 characters
  kUnparseableDate,    // createdAt "yesterday-ish"
  kNameAsNumber,       // name stored as N
  kAppearanceAsString, // appearance stored as S
};

const char* BadKindName(BadKind kind);

class SampleData {
 public:
  explicit SampleData(uint64_t seed, ItemShape shape = ItemShape::kNested) : rng_(seed), shape_(shape) {}

  // A new random UUID (version 4 form).
  std::string NewId();
  // A full item for `id`; `version` is stored as attribute `v` (N) so tests can follow updates.
  core::Value MakeItem(const std::string& id, int64_t version, BadKind bad = BadKind::kNone);
  // A random bad kind other than kNone.
  BadKind RandomBadKind();
  std::mt19937_64& rng() { return rng_; }

 private:
  std::string Pick(std::initializer_list<const char*> options);
  std::mt19937_64 rng_;
  ItemShape shape_;
};

}  // namespace ddb2pg::app
