// Expression parser: any bytes as a mapping/filter expression. Parsing must fail cleanly with a
// "position N: …" error, or give an expression that evaluates (to a value or a clean error)
// against a scenario-shaped record, twice with the same outcome.
#include <deque>
#include <set>
#include <string>
#include <string_view>

#include "aws/attribute_codec.h"
#include "fixed_clock.h"
#include "fuzz_check.h"
#include "fuzz_targets.h"
#include "processor/expression.h"

namespace ddb2pg::fuzz {
namespace {

const core::Record& SampleRecord() {
  static const core::Record record = [] {
    core::Record r;
    r.operation = core::Operation::kUpdate;
    core::Result<core::Value> item = aws::ParseItemJson(
        R"({"id":{"S":"k1"},"name":{"S":"  Avery Quinn  "},"nick":{"NULL":true},"score":{"N":"7"},)"
        R"("tags":{"SS":["green","Oolong"]},"ids":{"NS":["1","2.50"]},"blob":{"B":"AAEC"},)"
        R"("brew":{"L":[{"S":"Sencha"},{"N":"1e3"}]},"active":{"BOOL":true},)"
        R"("appearance":{"M":{"mode":{"S":"dark"},"odd-key":{"S":"q"},"null":{"S":"kw"}}},)"
        R"("pronouns":{"L":[{"M":{"pronoun":{"S":"they"}}},{"M":{"pronoun":{"S":"she"}}}]},)"
        R"("created_at":{"S":"2024-01-02T03:04:05Z"}})");
    FUZZ_CHECK(item.ok(), "the sample item does not decode");
    r.key = core::Value::MakeMap({{"id", core::Value::String("k1")}});
    r.after = *item;
    r.before = *item;
    r.metadata.change_time_ms = 1704164645000;
    return r;
  }();
  return record;
}

}  // namespace

int FuzzExpression(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  core::Result<processor::Expression> expression = processor::Expression::Parse(input);
  if (!expression.ok()) {
    FUZZ_CHECK(expression.status().message().starts_with("position "),
               "a parse error that does not say where: " + expression.status().message());
    return 0;
  }
  FUZZ_CHECK(expression->source() == input, "source() is not the parsed text");
  std::set<std::string> names;
  (void)expression->CollectTopLevelAttributes(&names);

  static const FixedClock clock;
  const core::Record& record = SampleRecord();
  std::deque<std::string> strings;
  std::deque<core::Value> values;
  processor::EvalContext context{record.image(), &record, &clock, &strings, &values};
  const core::Result<processor::Datum> first = expression->Evaluate(context);
  const core::Result<processor::Datum> second = expression->Evaluate(context);
  FUZZ_CHECK(first.ok() == second.ok(), "two evaluations of one expression disagree");
  if (first.ok()) {
    (void)first->Describe();
    (void)first->TypeName();
    FUZZ_CHECK(processor::DatumEquals(*first, *second, false), "two evaluations give different values");
  } else {
    FUZZ_CHECK(first.status().message() == second.status().message(), "two evaluations give different errors");
  }
  // With no image at all (a record without images) evaluation must still not crash.
  processor::EvalContext empty{nullptr, nullptr, &clock, &strings, &values};
  (void)expression->Evaluate(empty);

  // As an exploded pipeline's column: `element` and `index` are roots. Each top-level attribute
  // of the sample item in turn is the element, with and without an index.
  core::Result<processor::Expression> exploded = processor::Expression::Parse(input, /*element_roots=*/true);
  if (!exploded.ok()) return 0;
  (void)exploded->ReadsElement();
  const core::Value index = core::Value::Number("0");
  processor::EvalContext at{record.image(), &record, &clock, &strings, &values};
  (void)exploded->Evaluate(at);  // no element: the roots give null
  if (record.image() != nullptr && record.image()->is_map()) {
    for (const auto& [name, element] : record.image()->map()) {
      at.element = &element;
      at.index = &index;
      (void)exploded->Evaluate(at);
    }
  }
  return 0;
}

}  // namespace ddb2pg::fuzz
