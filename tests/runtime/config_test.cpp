// Description: the config reader accepts comments, blank lines and
// whitespace, parses every option type (sizes with suffixes), applies
// PRIO_<KEY> overrides, reports each kind of error with file, line and key,
// and the shipped config/config parses with default_schema().
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>
#include <string>

#include "prio/context/stack_pool.hpp"
#include "prio/runtime/config.hpp"

namespace {

using prio::config;
using prio::config_schema;
using prio::default_schema;
using prio::env_overrides;
using prio::errc;
using prio::option_spec;
using prio::stack_pool;

// env_guard sets an environment variable for one test and restores it.
class env_guard {
 public:
  env_guard(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) {
      had_ = true;
      old_ = old;
    }
    setenv(name, value, 1);
  }
  ~env_guard() {
    if (had_)
      setenv(name_, old_.c_str(), 1);
    else
      unsetenv(name_);
  }

 private:
  const char* name_;
  bool had_ = false;
  std::string old_;
};

config_schema test_schema() {
  config_schema s;
  s.add_int("offset", -3, "a signed number")
      .add_uint("count", 7, "an unsigned number")
      .add_size("buffer", "4K", "a size")
      .add_bool("verbose", false, "a flag")
      .add_string("name", "prio", "a name")
      .add_choice("mode", {"fast", "safe"}, "safe", "a mode");
  return s;
}

// expect_error checks one failed load: its code, and that the message and
// fields name the file, the line and the key.
template <class R>
void expect_error(const R& r, errc code, const std::string& file, unsigned line, const std::string& key) {
  ASSERT_FALSE(r) << "expected an error";
  const prio::config_error& e = r.error();
  EXPECT_EQ(e.code, code) << e.message;
  EXPECT_EQ(e.file, file);
  EXPECT_EQ(e.line, line);
  EXPECT_EQ(e.key, key);
  EXPECT_EQ(e.message.rfind(file + ":" + std::to_string(line) + ":", 0), 0u) << e.message;
  EXPECT_NE(e.message.find(key), std::string::npos) << e.message;
}

TEST(Config, DefaultsWithoutAFile) {
  auto r = config::defaults(test_schema(), env_overrides::ignore);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->get_int("offset"), -3);
  EXPECT_EQ(r->get_uint("count"), 7u);
  EXPECT_EQ(r->get_size("buffer"), 4096u);
  EXPECT_FALSE(r->get_bool("verbose"));
  EXPECT_EQ(r->get_string("name"), "prio");
  EXPECT_EQ(r->get_choice("mode"), "safe");
  EXPECT_EQ(r->find("count")->from, prio::option_value::origin::schema_default);
  EXPECT_EQ(r->find("nope"), nullptr);
}

TEST(Config, CommentsBlankLinesAndWhitespace) {
  const char* text =
      "# a whole-line comment\n"
      "\n"
      "   \t\n"
      "  count = 12   # trailing comment\n"
      "offset=-40\r\n"
      "\tname =  hello world  \n"
      "verbose=yes#no space before the comment\n"
      "   # indented comment\n"
      "mode=fast";  // no final newline
  auto r = config::from_string(text, test_schema(), "t.conf", env_overrides::ignore);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->get_uint("count"), 12u);
  EXPECT_EQ(r->get_int("offset"), -40);
  EXPECT_EQ(r->get_string("name"), "hello world");
  EXPECT_TRUE(r->get_bool("verbose"));
  EXPECT_EQ(r->get_string("mode"), "fast");
  EXPECT_EQ(r->find("count")->line, 4u);
  EXPECT_EQ(r->find("count")->from, prio::option_value::origin::file);
  EXPECT_EQ(r->get_size("buffer"), 4096u);  // untouched: default
}

TEST(Config, EmptyStringValue) {
  auto r = config::from_string("name=\n", test_schema(), "t", env_overrides::ignore);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->get_string("name"), "");
}

TEST(Config, SizeSuffixes) {
  struct {
    const char* text;
    std::uint64_t bytes;
  } cases[] = {{"0", 0},           {"512", 512},
               {"4k", 4096},       {"256K", 262144},
               {"2M", 2u << 20},   {"1G", 1ull << 30},
               {"3T", 3ull << 40}, {"0x10", 16}};
  for (const auto& c : cases) {
    auto r = config::from_string(std::string("buffer=") + c.text, test_schema(), "t",
                                 env_overrides::ignore);
    ASSERT_TRUE(r) << c.text << ": " << r.error().message;
    EXPECT_EQ(r->get_size("buffer"), c.bytes) << c.text;
    EXPECT_EQ(r->get_string("buffer"), c.text);
  }
  for (const char* bad : {"", "K", "4X", "-1", "4 K", "1.5M", "17179869184G", "99999999999999999999"}) {
    auto r = config::from_string(std::string("buffer=") + bad, test_schema(), "t",
                                 env_overrides::ignore);
    expect_error(r, errc::config_bad_value, "t", 1, "buffer");
  }
}

TEST(Config, BooleanSpellings) {
  for (const char* t : {"true", "1", "yes", "on", "TRUE", "Yes", "ON"}) {
    auto r = config::from_string(std::string("verbose=") + t, test_schema(), "t", env_overrides::ignore);
    ASSERT_TRUE(r) << t;
    EXPECT_TRUE(r->get_bool("verbose")) << t;
  }
  for (const char* t : {"false", "0", "no", "off", "False"}) {
    auto r = config::from_string(std::string("verbose=") + t, test_schema(), "t", env_overrides::ignore);
    ASSERT_TRUE(r) << t;
    EXPECT_FALSE(r->get_bool("verbose")) << t;
  }
  expect_error(config::from_string("verbose=maybe", test_schema(), "t", env_overrides::ignore),
               errc::config_bad_value, "t", 1, "verbose");
}

TEST(Config, IntegerBounds) {
  auto lo = config::from_string("offset=-9223372036854775808", test_schema(), "t", env_overrides::ignore);
  ASSERT_TRUE(lo) << lo.error().message;
  EXPECT_EQ(lo->get_int("offset"), INT64_MIN);
  expect_error(config::from_string("offset=9223372036854775808", test_schema(), "t", env_overrides::ignore),
               errc::config_bad_value, "t", 1, "offset");
  expect_error(config::from_string("count=-1", test_schema(), "t", env_overrides::ignore),
               errc::config_bad_value, "t", 1, "count");
  expect_error(config::from_string("count=12abc", test_schema(), "t", env_overrides::ignore),
               errc::config_bad_value, "t", 1, "count");
}

// A ranged option (range()) refuses values outside it, naming the range; the
// runtime's own options carry the limits the kernel and the stack pool have.
TEST(Config, RangesRefuseValuesOutside) {
  config_schema s;
  s.add_size("buf", "4K", "a buffer").range(1024, 8192);
  ASSERT_TRUE(s.validate());
  EXPECT_TRUE(config::from_string("buf=8K", s, "t", env_overrides::ignore));
  auto r = config::from_string("buf=9K", s, "t", env_overrides::ignore);
  expect_error(r, errc::config_bad_value, "t", 1, "buf");
  EXPECT_NE(r.error().message.find("out of range [1024, 8192]"), std::string::npos) << r.error().message;
  config_schema empty;
  empty.add_uint("n", 5, "a count").range(9, 1);
  EXPECT_FALSE(empty.validate());
  for (const char* bad : {"stack_size=1", "stack_size=4G", "ring_entries=100000", "threads=100000",
                          "registered_buffers_small=20000"}) {
    auto d = config::from_string(bad, default_schema(), "c", env_overrides::ignore);
    ASSERT_FALSE(d) << bad;
    EXPECT_EQ(d.error().code, make_error_code(errc::config_bad_value)) << bad;
  }
  const option_spec* st = default_schema().find("stack_size");
  ASSERT_NE(st, nullptr);
  EXPECT_EQ(st->min, stack_pool::min_stack_size);
  EXPECT_EQ(st->max, stack_pool::max_stack_size);
}

TEST(Config, UnknownKeyNamesFileLineAndKey) {
  auto r = config::from_string("threads=1\n\n# x\n\n\n\ntreads=4\n", default_schema(), "config/config",
                               env_overrides::ignore);
  expect_error(r, errc::config_unknown_key, "config/config", 7, "treads");
  EXPECT_EQ(r.error().message.rfind("config/config:7: unknown option 'treads'", 0), 0u) << r.error().message;
  EXPECT_NE(r.error().message.find("did you mean 'threads'"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().code, std::errc::invalid_argument);
}

TEST(Config, DuplicateKey) {
  auto r = config::from_string("count=1\nname=x\n count = 2\n", test_schema(), "dup.conf",
                               env_overrides::ignore);
  expect_error(r, errc::config_duplicate_key, "dup.conf", 3, "count");
  EXPECT_NE(r.error().message.find("line 1"), std::string::npos) << r.error().message;
}

TEST(Config, BadValue) {
  auto r = config::from_string("\nmode=turbo\n", test_schema(), "bad.conf", env_overrides::ignore);
  expect_error(r, errc::config_bad_value, "bad.conf", 2, "mode");
  EXPECT_NE(r.error().message.find("turbo"), std::string::npos);
  EXPECT_NE(r.error().message.find("fast|safe"), std::string::npos) << r.error().message;
}

TEST(Config, SyntaxErrors) {
  auto no_eq = config::from_string("count=1\nthreads 4\n", test_schema(), "s.conf", env_overrides::ignore);
  expect_error(no_eq, errc::config_syntax, "s.conf", 2, "threads 4");
  auto no_key = config::from_string("  = 4\n", test_schema(), "s.conf", env_overrides::ignore);
  ASSERT_FALSE(no_key);
  EXPECT_EQ(no_key.error().code, errc::config_syntax);
  EXPECT_EQ(no_key.error().line, 1u);
  EXPECT_EQ(no_key.error().message.rfind("s.conf:1:", 0), 0u);
}

TEST(Config, UnreadableFile) {
  auto r = config::from_file("/nonexistent/prio/config", test_schema(), env_overrides::ignore);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, std::errc::no_such_file_or_directory);
  EXPECT_EQ(r.error().file, "/nonexistent/prio/config");
  EXPECT_EQ(r.error().message.rfind("/nonexistent/prio/config:", 0), 0u) << r.error().message;

  auto dir = config::from_file("/", test_schema(), env_overrides::ignore);
  ASSERT_FALSE(dir);
  EXPECT_EQ(dir.error().code, std::errc::is_a_directory);

  auto fallback = config::from_file_or_defaults("/nonexistent/prio/config", test_schema(),
                                                env_overrides::ignore);
  ASSERT_TRUE(fallback);
  EXPECT_EQ(fallback->get_uint("count"), 7u);
}

TEST(Config, EnvironmentOverridesFile) {
  env_guard g1("PRIO_COUNT", " 99 ");
  env_guard g2("PRIO_BUFFER", "1M");
  auto r = config::from_string("count=1\nbuffer=8K\n", test_schema(), "e.conf");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->get_uint("count"), 99u);
  EXPECT_EQ(r->get_size("buffer"), 1u << 20);
  EXPECT_EQ(r->find("count")->from, prio::option_value::origin::environment);
  EXPECT_NE(r->describe().find("count=99  # environment PRIO_COUNT"), std::string::npos) << r->describe();

  auto ignored = config::from_string("count=1\n", test_schema(), "e.conf", env_overrides::ignore);
  ASSERT_TRUE(ignored);
  EXPECT_EQ(ignored->get_uint("count"), 1u);
}

TEST(Config, BadEnvironmentValueNamesTheVariable) {
  env_guard g("PRIO_VERBOSE", "perhaps");
  auto r = config::from_string("count=1\n", test_schema(), "e.conf");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, errc::config_bad_value);
  EXPECT_EQ(r.error().file, "PRIO_VERBOSE");
  EXPECT_EQ(r.error().key, "verbose");
  EXPECT_EQ(r.error().line, 0u);
  EXPECT_NE(r.error().message.find("PRIO_VERBOSE"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("perhaps"), std::string::npos) << r.error().message;
}

TEST(Config, ProgramSet) {
  auto r = config::defaults(test_schema(), env_overrides::ignore);
  ASSERT_TRUE(r);
  ASSERT_TRUE(r->set("count", "5"));
  EXPECT_EQ(r->get_uint("count"), 5u);
  EXPECT_EQ(r->find("count")->from, prio::option_value::origin::program);
  auto bad = r->set("count", "five");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().key, "count");
  EXPECT_EQ(r->get_uint("count"), 5u);  // unchanged by the failed set
  EXPECT_EQ(r->set("cout", "1").error().code, errc::config_unknown_key);
}

TEST(Config, SchemaIsExtensibleAndValidated) {
  config_schema s = default_schema();
  s.add_uint("http_port", 8080, "extra option of an application");
  auto r = config::from_string("http_port=81\nthreads=2\n", s, "app.conf", env_overrides::ignore);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->get_uint("http_port"), 81u);
  EXPECT_EQ(r->get_uint("threads"), 2u);

  config_schema dup = test_schema();
  dup.add_uint("count", 1, "again");
  auto d = config::defaults(dup, env_overrides::ignore);
  ASSERT_FALSE(d);
  EXPECT_EQ(d.error().code, errc::config_duplicate_key);
  EXPECT_EQ(d.error().key, "count");

  config_schema bad_default;
  bad_default.add_size("sz", "lots", "bad default");
  EXPECT_EQ(bad_default.validate().error().code, errc::config_bad_value);
  config_schema bad_key;
  bad_key.add_uint("Bad-Key", 1, "bad key");
  EXPECT_FALSE(bad_key.validate());
}

TEST(Config, DefaultSchemaDeclaresTheRuntimeOptions) {
  auto r = config::defaults(default_schema(), env_overrides::ignore);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->get_uint("threads"), 0u);
  EXPECT_EQ(r->get_uint("ring_entries"), 256u);
  EXPECT_EQ(r->get_size("stack_size"), 256u * 1024);
  EXPECT_EQ(r->get_string("switcher"), "asm");
  EXPECT_FALSE(r->get_bool("cpu_pinning"));
  EXPECT_EQ(r->get_uint("spin_before_sleep_us"), 50u);
  EXPECT_EQ(r->get_uint("registered_buffers_small"), 64u);
  EXPECT_EQ(r->get_uint("registered_buffers_large"), 4u);
  EXPECT_EQ(r->get_uint("low_priority_io_cap"), 0u);
  EXPECT_EQ(r->get_uint("demo_seconds"), 10u);
  EXPECT_EQ(r->get_uint("demo_port"), 0u);
  for (const auto& o : default_schema().options()) EXPECT_FALSE(o.doc.empty()) << o.key;
  // format_defaults() output parses back to the defaults.
  auto back = config::from_string(default_schema().format_defaults(), default_schema(), "gen",
                                  env_overrides::ignore);
  ASSERT_TRUE(back) << back.error().message;
}

// The shipped file sets every declared option, each to its default.
TEST(Config, ShippedConfigParses) {
  const char* root = std::getenv("PRIO_SOURCE_ROOT");
  if (root == nullptr) GTEST_SKIP() << "PRIO_SOURCE_ROOT is not set (run through meson test)";
  const std::string path = std::string(root) + "/config/config";
  auto r = config::from_file(path, default_schema(), env_overrides::ignore);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->source_name(), path);
  for (const auto& o : default_schema().options()) {
    const prio::option_value* v = r->find(o.key);
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(v->from, prio::option_value::origin::file) << o.key << " is not in config/config";
    auto d = config::defaults(default_schema(), env_overrides::ignore);
    EXPECT_EQ(v->u, d->find(o.key)->u) << o.key;
    EXPECT_EQ(v->text, d->find(o.key)->text) << o.key;
  }
}

TEST(ConfigDeathTest, GetterMisuseTerminates) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto r = config::defaults(test_schema(), env_overrides::ignore);
  ASSERT_TRUE(r);
  EXPECT_DEATH((void)r->get_uint("nope"), "not declared");
  EXPECT_DEATH((void)r->get_bool("count"), "of type unsigned");
}

}  // namespace
