#include "processor/expression.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>

namespace ddb2pg::processor {
namespace {

using core::Value;

class FixedClock : public core::Clock {
 public:
  std::chrono::system_clock::time_point Now() const override {
    return std::chrono::system_clock::time_point(std::chrono::milliseconds(1735689600000));  // 2025-01-01
  }
  std::chrono::steady_clock::time_point Monotonic() const override { return {}; }
  void SleepFor(std::chrono::nanoseconds) const override {}
};

Value Item() {
  return Value::MakeMap({
      {"id", Value::String("3f2c1a4e-8b7d-4c2a-9e1f-0a1b2c3d4e5f")},
      {"name", Value::String("Avery Quinn")},
      {"repScore", Value::Number("5")},
      {"first-name", Value::String("Avery")},
      {"null", Value::String("a name that is a keyword")},
      {"nothing", Value::Null()},
      {"active", Value::Bool(true)},
      {"appearance", Value::MakeMap({{"mode", Value::String("dark")}})},
      {"pronouns", Value::MakeList({Value::MakeMap({{"pronoun", Value::String("they")}})})},
      {"notifications", Value::MakeList({Value::String("Follows"), Value::String("TeaPartyInvites")})},
      {"tags", Value::StringSet({"green", "black"})},
      {"scores", Value::NumberSet({"1", "2.50"})},
      {"padded", Value::String("  spaced out \t")},
  });
}

struct Fixture {
  Value item = Item();
  core::Record record;
  FixedClock clock;
  std::deque<std::string> strings;
  std::deque<Value> values;
  EvalContext context;
  Fixture() {
    record.operation = core::Operation::kUpdate;
    record.key = Value::MakeMap({{"id", *item.Find("id")}});
    record.metadata.change_time_ms = 1725556580382;
    context.image = &item;
    context.record = &record;
    context.clock = &clock;
    context.strings = &strings;
    context.values = &values;
  }
};

// Evaluates `source` and renders the result: "S:text", "N:5", "BOOL:true", "NULL", "T:<micros>",
// "M"/"L"/… for values, or "ERROR:<message>".
std::string Eval(std::string_view source) {
  static Fixture fixture;
  auto expression = Expression::Parse(source);
  if (!expression.ok()) return "PARSE:" + expression.status().message();
  auto result = expression->Evaluate(fixture.context);
  if (!result.ok()) return "ERROR:" + result.status().message();
  const Datum& d = *result;
  switch (d.kind) {
    case Datum::Kind::kNull: return "NULL";
    case Datum::Kind::kBool: return d.boolean ? "BOOL:true" : "BOOL:false";
    case Datum::Kind::kString: return "S:" + std::string(d.text);
    case Datum::Kind::kNumber: return "N:" + std::string(d.text);
    case Datum::Kind::kTimestamp: return "T:" + std::to_string(d.micros);
    case Datum::Kind::kValue: return std::string(d.TypeName());
  }
  return "?";
}

TEST(Expression, Paths) {
  EXPECT_EQ(Eval("name"), "S:Avery Quinn");
  EXPECT_EQ(Eval("appearance.mode"), "S:dark");
  EXPECT_EQ(Eval("pronouns[0].pronoun"), "S:they");
  EXPECT_EQ(Eval("pronouns[1].pronoun"), "NULL");
  EXPECT_EQ(Eval("\"first-name\""), "S:Avery");
  EXPECT_EQ(Eval("`first-name`"), "S:Avery");
  EXPECT_EQ(Eval("\"null\""), "S:a name that is a keyword");
  EXPECT_EQ(Eval("missing"), "NULL");
  EXPECT_EQ(Eval("missing.deeper[3].x"), "NULL");
  EXPECT_EQ(Eval("nothing.x"), "NULL");
  EXPECT_EQ(Eval("appearance"), "M");
  EXPECT_EQ(Eval("tags"), "SS");
  EXPECT_EQ(Eval("  appearance . mode  "), "S:dark");
}

TEST(Expression, SteppingIntoTheWrongTypeIsAnErrorNamingThePath) {
  EXPECT_EQ(Eval("name.first"), "ERROR:path name.first: name is S \"Avery Quinn\", not a map");
  EXPECT_EQ(Eval("appearance[0]"), "ERROR:path appearance[0]: appearance is M {\"mode\": S\"dark\"}, not a list");
  EXPECT_EQ(Eval("exists(name.first)"), "BOOL:false");
}

TEST(Expression, Literals) {
  EXPECT_EQ(Eval("'it''s'"), "S:it's");
  EXPECT_EQ(Eval("'back\\slash'"), "S:back\\slash");
  EXPECT_EQ(Eval("-3.5"), "N:-3.5");
  EXPECT_EQ(Eval("1e6"), "N:1e6");
  EXPECT_EQ(Eval("TRUE"), "BOOL:true");
  EXPECT_EQ(Eval("false"), "BOOL:false");
  EXPECT_EQ(Eval("null"), "NULL");
}

TEST(Expression, ComparisonAndLogic) {
  EXPECT_EQ(Eval("repScore == 5"), "BOOL:true");
  EXPECT_EQ(Eval("repScore == 5.0"), "BOOL:true");
  EXPECT_EQ(Eval("repScore = 0.5e1"), "BOOL:true");
  EXPECT_EQ(Eval("repScore != 5"), "BOOL:false");
  EXPECT_EQ(Eval("repScore <> 6"), "BOOL:true");
  EXPECT_EQ(Eval("repScore == '5'"), "BOOL:false");  // different types are unequal
  EXPECT_EQ(Eval("missing == null"), "BOOL:true");
  EXPECT_EQ(Eval("nothing == null"), "BOOL:true");
  EXPECT_EQ(Eval("name == null"), "BOOL:false");
  EXPECT_EQ(Eval("appearance.mode == 'dark' and active"), "BOOL:true");
  EXPECT_EQ(Eval("appearance.mode == 'light' or not active"), "BOOL:false");
  EXPECT_EQ(Eval("missing or active"), "BOOL:true");  // null counts as false
  EXPECT_EQ(Eval("!active or active && false"), "BOOL:false");
  EXPECT_EQ(Eval("name and true"), "ERROR:and expects a boolean, got S \"Avery Quinn\" (at position 1)");
  // Short-circuit: the right side is not evaluated.
  EXPECT_EQ(Eval("false and name"), "BOOL:false");
  EXPECT_EQ(Eval("true or name"), "BOOL:true");
}

TEST(Expression, PrecedenceIsOrThenAndThenNotThenComparison) {
  // true or (false and false) = true; (true or false) and false would be false.
  EXPECT_EQ(Eval("true or false and false"), "BOOL:true");
  // (not false) == ... is not how it groups: not (false == false) = false.
  EXPECT_EQ(Eval("not false == false"), "BOOL:false");
  EXPECT_EQ(Eval("(true or false) and false"), "BOOL:false");
  EXPECT_EQ(Eval("not not true"), "BOOL:true");
  EXPECT_EQ(Eval("false and false or true"), "BOOL:true");
}

TEST(Expression, Functions) {
  EXPECT_EQ(Eval("coalesce(missing, nothing, name, 'x')"), "S:Avery Quinn");
  EXPECT_EQ(Eval("coalesce(missing, nothing)"), "NULL");
  EXPECT_EQ(Eval("contains(notifications, 'follows')"), "BOOL:false");
  EXPECT_EQ(Eval("contains(notifications, 'follows', true)"), "BOOL:true");
  EXPECT_EQ(Eval("contains(notifications, 'Follows')"), "BOOL:true");
  EXPECT_EQ(Eval("contains(notifications, 'teapartyreply', true)"), "BOOL:false");
  EXPECT_EQ(Eval("contains(missing, 'x')"), "BOOL:false");
  EXPECT_EQ(Eval("contains(tags, 'green')"), "BOOL:true");
  EXPECT_EQ(Eval("contains(scores, 2.5)"), "BOOL:true");
  EXPECT_EQ(Eval("contains(name, 'QUINN', true)"), "BOOL:true");
  EXPECT_EQ(Eval("contains(name, 'QUINN')"), "BOOL:false");
  EXPECT_EQ(Eval("contains(appearance, 'mode')"), "BOOL:true");
  EXPECT_EQ(Eval("contains(repScore, 5)"),
            "ERROR:contains(): the first argument must be a list, set, map or string, got N 5 (at position 1)");
  EXPECT_EQ(Eval("if(active, 'on', 'off')"), "S:on");
  EXPECT_EQ(Eval("if(missing, 'on', 'off')"), "S:off");
  EXPECT_EQ(Eval("if(true, 'on', name.first)"), "S:on");  // the other side is never evaluated
  EXPECT_EQ(Eval("exists(name)"), "BOOL:true");
  EXPECT_EQ(Eval("exists(nothing)"), "BOOL:true");  // a DynamoDB NULL is present
  EXPECT_EQ(Eval("exists(missing)"), "BOOL:false");
  EXPECT_EQ(Eval("exists(appearance.theme)"), "BOOL:false");
  EXPECT_EQ(Eval("lower(name)"), "S:avery quinn");
  EXPECT_EQ(Eval("UPPER(name)"), "S:AVERY QUINN");
  EXPECT_EQ(Eval("upper('ÄBC é')"), "S:ÄBC é");  // ASCII only
  EXPECT_EQ(Eval("trim(padded)"), "S:spaced out");
  EXPECT_EQ(Eval("lower(missing)"), "NULL");
  EXPECT_EQ(Eval("lower(repScore)"), "S:5");
  EXPECT_EQ(Eval("lower(appearance)"),
            "ERROR:lower() expects a string, got M {\"mode\": S\"dark\"} (at position 1)");
  EXPECT_EQ(Eval("now()"), "T:1735689600000000");
  EXPECT_EQ(Eval("change_time()"), "T:1725556580382000");
  EXPECT_EQ(Eval("operation()"), "S:update");
  EXPECT_EQ(Eval("key('id')"), "S:3f2c1a4e-8b7d-4c2a-9e1f-0a1b2c3d4e5f");
  EXPECT_EQ(Eval("key(id)"), "S:3f2c1a4e-8b7d-4c2a-9e1f-0a1b2c3d4e5f");
  EXPECT_EQ(Eval("key('other')"), "NULL");
  EXPECT_EQ(Eval("operation() == 'update' and coalesce(active, false)"), "BOOL:true");
}

TEST(Expression, ParseErrorsGiveThePosition) {
  EXPECT_EQ(Eval(""), "PARSE:position 1: the expression is empty");
  EXPECT_EQ(Eval("coalesce(a, b"), "PARSE:position 14: expected ')' to close coalesce(, found end of expression");
  EXPECT_EQ(Eval("a.b c"), "PARSE:position 5: unexpected name 'c' after a complete expression");
  EXPECT_EQ(Eval("frobnicate(x)"),
            "PARSE:position 1: unknown function 'frobnicate' (known: coalesce, contains, if, exists, "
            "lower, upper, trim, now, change_time, operation, ttl_delete, key, concat, substr, length, replace, "
            "regex_match, regex_extract, regex_replace, split, join, round, abs, floor, ceil, to_text, to_number, "
            "parse_time, format_time, epoch_ms, sha256, md5, json, item, item_except, keys, values)");
  EXPECT_EQ(Eval("if(a, b)"), "PARSE:position 1: if() takes 3 arguments, got 2");
  EXPECT_EQ(Eval("contains(a)"), "PARSE:position 1: contains() takes 2 or 3 arguments, got 1");
  EXPECT_EQ(Eval("lower(a, b)"), "PARSE:position 1: lower() takes 1 argument, got 2");
  EXPECT_EQ(Eval("coalesce()"), "PARSE:position 1: coalesce() takes at least 1 argument, got 0");
  EXPECT_EQ(Eval("exists('x')"), "PARSE:position 8: exists() takes an attribute path");
  EXPECT_EQ(Eval("'open"), "PARSE:position 1: unterminated string (missing closing ')");
  EXPECT_EQ(Eval("name == 'a' == 'b'"), "PARSE:position 13: comparisons do not chain; use parentheses");
  EXPECT_EQ(Eval("first-name"),
            "PARSE:position 6: '-' between two names reads as a subtraction; quote a name with a '-' "
            "(\"first-name\" or `first-name`), or put spaces around the minus");
  EXPECT_EQ(Eval("first@name"),
            "PARSE:position 6: unexpected character '@' (quote attribute names with other characters: "
            "\"name\" or `name`)");
  EXPECT_EQ(Eval("a[x]"), "PARSE:position 3: expected a list index (0, 1, …) inside [ ], found name 'x'");
  EXPECT_EQ(Eval("a."), "PARSE:position 3: expected an attribute name after '.', found end of expression");
  EXPECT_EQ(Eval("(a"), "PARSE:position 3: expected ')' to close the '(' at position 1, found end of expression");
  EXPECT_EQ(Eval("a & b"), "PARSE:position 3: unexpected '&' (did you mean '&&' or 'and'?)");
  EXPECT_EQ(Eval("1x"), "PARSE:position 1: malformed number '1x' (names cannot start with a digit; quote them: \"1st\")");
  EXPECT_EQ(Eval("1e999"),
            "PARSE:position 1: '1e999' is not a valid DynamoDB number (at most 38 significant digits, "
            "magnitude 1E-130 to 9.9E+125)");
  EXPECT_EQ(Eval("\"\""), "PARSE:position 1: a quoted name must not be empty");
  EXPECT_EQ(Eval("key(a.b)"), "PARSE:position 5: key() takes a key attribute name, e.g. key('id')");
  EXPECT_EQ(Eval("and"), "PARSE:position 1: expected a value, a path or a function call, found 'and'");
}

TEST(Expression, ArithmeticIsExactDecimal) {
  EXPECT_EQ(Eval("repScore * 2"), "N:10");
  EXPECT_EQ(Eval("0.1 + 0.2"), "N:0.3");  // 0.30000000000000004 in binary floating point
  EXPECT_EQ(Eval("1 / 3 * 3"), "N:0.99999999999999999999999999999999999999");
  EXPECT_EQ(Eval("-repScore"), "N:-5");
  EXPECT_EQ(Eval("- 5"), "N:-5");
  EXPECT_EQ(Eval("2 - -3"), "N:5");
  EXPECT_EQ(Eval("1e100 * 1e25"), "N:1E+125");
  EXPECT_EQ(Eval("1e-100 / 1e30"), "N:1E-130");
  EXPECT_EQ(Eval("1e-100 / 1e31"),
            "ERROR:the result of / (1E-131) is outside DynamoDB's number range (1E-130 to 9.9E+125) (at position 8)");
  EXPECT_EQ(Eval("repScore / 0"), "ERROR:division by zero in '/' (at position 10)");
  EXPECT_EQ(Eval("name * 2"), "ERROR:* expects numbers (use to_number() for an S), got S \"Avery Quinn\" (at position 6)");
  EXPECT_EQ(Eval("missing + 1"), "NULL");
}

TEST(Expression, ConcatenationReplacedTheOldOrSpelling) {
  EXPECT_EQ(Eval("name || '!'"), "S:Avery Quinn!");
  EXPECT_EQ(Eval("'a' || 'b' || repScore"), "S:ab5");
  EXPECT_EQ(Eval("active || active"),
            "ERROR:'||' joins text, got BOOL true (it is no longer a logical or; write 'or') (at position 8)");
  EXPECT_EQ(Eval("true || false"),
            "PARSE:position 6: '||' joins text (it is no longer a logical or); for a logical or write 'or'; an "
            "operand here is a boolean");
  EXPECT_EQ(Eval("a | b"), "PARSE:position 3: unexpected '|' (did you mean '||' to join text, or 'or'?)");
  // && stays a synonym of and.
  EXPECT_EQ(Eval("active && true"), "BOOL:true");
}

TEST(Expression, OrderingComparisons) {
  EXPECT_EQ(Eval("repScore < 10"), "BOOL:true");
  EXPECT_EQ(Eval("repScore >= 5.0"), "BOOL:true");
  EXPECT_EQ(Eval("repScore > 5"), "BOOL:false");
  EXPECT_EQ(Eval("-1 < -0.5"), "BOOL:true");
  EXPECT_EQ(Eval("'abc' < 'abd'"), "BOOL:true");
  EXPECT_EQ(Eval("now() > change_time()"), "BOOL:true");
  EXPECT_EQ(Eval("missing < 1"), "NULL");
  EXPECT_EQ(Eval("1 < 2 < 3"), "PARSE:position 7: comparisons do not chain; use parentheses");
  EXPECT_EQ(Eval("1 + 2 * 3 == 7 and 10 % 4 == 2"), "BOOL:true");
}

TEST(Expression, ItemReadsEveryAttribute) {
  std::set<std::string> names;
  EXPECT_FALSE(Expression::Parse("item()")->CollectTopLevelAttributes(&names));
  EXPECT_FALSE(Expression::Parse("coalesce(name, item_except('id'))")->CollectTopLevelAttributes(&names));
  EXPECT_TRUE(Expression::Parse("concat(name, regex_extract(bio, 'x'))")->CollectTopLevelAttributes(&names));
  EXPECT_EQ(names, (std::set<std::string>{"bio", "name"}));

  // Without an image (a record that carries none) both are null.
  std::deque<std::string> strings;
  std::deque<Value> values;
  EvalContext no_image;
  no_image.strings = &strings;
  no_image.values = &values;
  EXPECT_TRUE(Expression::Parse("item()")->Evaluate(no_image)->is_null());
  EXPECT_TRUE(Expression::Parse("item_except('id')")->Evaluate(no_image)->is_null());
}

// Found by fuzz/targets/expression.cpp: ~2,800 nested parentheses overflowed the stack.
TEST(Expression, NestingIsBoundedInsteadOfOverflowingTheStack) {
  const std::string deep = std::string(5000, '(') + "a" + std::string(5000, ')');
  EXPECT_EQ(Eval(deep).substr(0, 5), "PARSE") << Eval(deep).substr(0, 120);
  EXPECT_NE(Eval(deep).find("the expression nests deeper than 256 levels"), std::string::npos);
  std::string nots;
  for (int i = 0; i < 5000; ++i) nots += "not ";
  EXPECT_NE(Eval(nots + "true").find("nests deeper than 256 levels"), std::string::npos);
  std::string chain = "a";
  for (int i = 0; i < 5000; ++i) chain += " or a";
  EXPECT_NE(Eval(chain).find("nests deeper than 256 levels"), std::string::npos);
  for (const char* op : {" + ", " * ", " || "}) {
    std::string operands = "a";
    for (int i = 0; i < 5000; ++i) operands += op + std::string("a");
    EXPECT_NE(Eval(operands).find("nests deeper than 256 levels"), std::string::npos) << op;
  }
  std::string minuses;
  for (int i = 0; i < 5000; ++i) minuses += "- ";
  EXPECT_NE(Eval(minuses + "1").find("nests deeper than 256 levels"), std::string::npos);
  // Ordinary depth still parses.
  EXPECT_EQ(Eval(std::string(50, '(') + "true" + std::string(50, ')')), "BOOL:true");
  // The arithmetic levels of the grammar cost nothing until an operator chains operands.
  EXPECT_EQ(Eval(std::string(120, '(') + "1 + 2 * 3" + std::string(120, ')')), "N:7");
}

TEST(Expression, LookupHintsNeverGiveWrongAnswersWhenAttributeOrderChanges) {
  auto expression = Expression::Parse("b");
  ASSERT_TRUE(expression.ok());
  Value first = Value::MakeMap({{"a", Value::String("1")}, {"b", Value::String("first")}});
  Value second = Value::MakeMap({{"b", Value::String("second")}, {"a", Value::String("1")}});
  Value third = Value::MakeMap({{"a", Value::String("1")}});
  EvalContext context;
  for (int round = 0; round < 3; ++round) {
    context.image = &first;
    EXPECT_EQ(expression->Evaluate(context)->text, "first");
    context.image = &second;
    EXPECT_EQ(expression->Evaluate(context)->text, "second");
    context.image = &third;
    EXPECT_TRUE(expression->Evaluate(context)->is_null());
  }
}

// ttl_delete(): true only for a REMOVE that DynamoDB's Time to Live made; never NULL.
TEST(Expression, TtlDeleteTellsExpiryFromUserDeletes) {
  Fixture fixture;
  auto expression = Expression::Parse("TTL_DELETE()");  // names are case-insensitive
  ASSERT_TRUE(expression.ok()) << expression.status().ToString();
  const auto eval = [&](core::Operation operation, bool ttl_flag) {
    fixture.record.operation = operation;
    fixture.record.metadata.ttl_delete = ttl_flag;
    auto result = expression->Evaluate(fixture.context);
    EXPECT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_EQ(result->kind, Datum::Kind::kBool);
    return result.ok() && result->kind == Datum::Kind::kBool ? std::string(result->boolean ? "true" : "false")
                                                              : std::string("?");
  };
  EXPECT_EQ(eval(core::Operation::kDelete, true), "true");
  EXPECT_EQ(eval(core::Operation::kDelete, false), "false");
  EXPECT_EQ(eval(core::Operation::kUpdate, false), "false");
  EXPECT_EQ(eval(core::Operation::kSnapshot, false), "false");
  // The flag means something only on a REMOVE.
  EXPECT_EQ(eval(core::Operation::kUpdate, true), "false");

  // Without a record (preview of an item): false, not NULL.
  EvalContext no_record;
  no_record.image = &fixture.item;
  auto alone = expression->Evaluate(no_record);
  ASSERT_TRUE(alone.ok());
  EXPECT_EQ(alone->kind, Datum::Kind::kBool);
  EXPECT_FALSE(alone->boolean);

  // In logic and if(), as filters and columns use it.
  fixture.record.operation = core::Operation::kDelete;
  fixture.record.metadata.ttl_delete = true;
  auto why = Expression::Parse("if(ttl_delete(), 'expired', operation())");
  ASSERT_TRUE(why.ok());
  EXPECT_EQ(why->Evaluate(fixture.context)->text, "expired");
  fixture.record.metadata.ttl_delete = false;
  EXPECT_EQ(why->Evaluate(fixture.context)->text, "delete");
  auto filter = Expression::Parse("not ttl_delete() and name != 'x'");
  ASSERT_TRUE(filter.ok());
  EXPECT_TRUE(filter->Evaluate(fixture.context)->boolean);
  fixture.record.metadata.ttl_delete = true;
  EXPECT_FALSE(filter->Evaluate(fixture.context)->boolean);

  EXPECT_EQ(Eval("ttl_delete(x)"), "PARSE:position 1: ttl_delete() takes 0 arguments, got 1");
}

TEST(Expression, CanBeNullAndReadsChangeKind) {
  const auto parse = [](std::string_view source) {
    auto expression = Expression::Parse(source);
    EXPECT_TRUE(expression.ok()) << source;
    return std::move(expression).value();
  };
  EXPECT_FALSE(parse("ttl_delete()").CanBeNull());
  EXPECT_FALSE(parse("if(ttl_delete(), 'expired', 'deleted')").CanBeNull());
  EXPECT_TRUE(parse("if(ttl_delete(), name, 'deleted')").CanBeNull());
  EXPECT_TRUE(parse("ttl_delete()").ReadsChangeKind());
  EXPECT_TRUE(parse("operation()").ReadsChangeKind());
  EXPECT_TRUE(parse("coalesce(name, if(ttl_delete(), 'x', 'y'))").ReadsChangeKind());
  EXPECT_FALSE(parse("coalesce(name, change_time())").ReadsChangeKind());
  EXPECT_FALSE(parse("appearance.mode").ReadsChangeKind());
}

}  // namespace
}  // namespace ddb2pg::processor
