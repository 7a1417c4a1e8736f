// config.hpp: the runtime's configuration: a schema of known options and a
// reader for `option=value` files with PRIO_<OPTION> environment overrides.
//
//   # comment                 whole-line comments and blank lines are ignored
//   threads = 4   # trailing  whitespace around key and value is trimmed;
//                             '#' always starts a comment (there is no quoting)
//
// Every option must be declared in a config_schema (key, type, default, doc);
// an unknown key, a key set twice, a value that does not parse as its type, a
// line without '=' or an unreadable file is an error naming the file, the line
// and the key, e.g. `config/config:7: unknown option 'treads'`. An environment
// variable PRIO_<KEY upper-cased> (e.g. PRIO_RING_ENTRIES) overrides the file
// and is validated the same way. Nothing here throws.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "prio/runtime/result.hpp"

namespace prio {

// option_type: how an option's text is parsed.
enum class option_type : std::uint8_t {
  integer,           // signed 64-bit, decimal or 0x hex
  unsigned_integer,  // unsigned 64-bit, decimal or 0x hex
  size,              // unsigned byte count, optional K/M/G/T suffix (powers of 1024)
  boolean,           // true/false, 1/0, yes/no, on/off (any case)
  string,            // any text (may be empty)
  choice,            // one of option_spec::choices, exactly
};

// type_name() is "integer", "unsigned", "size", "bool", "string" or "enum".
const char* type_name(option_type t) noexcept;

// option_spec declares one option. default_value is text, parsed by the same
// rules as a file value (so "256K" is a valid size default).
struct option_spec {
  std::string key;  // [a-z0-9_]+
  option_type type = option_type::string;
  std::string default_value;
  std::string doc;                   // one line
  std::vector<std::string> choices;  // option_type::choice only
  // unsigned and size options: the values accepted (range()).
  std::uint64_t min = 0, max = UINT64_MAX;
};

// config_error: what went wrong and where. code is a prio::errc::config_*
// value, or an errno error for I/O; message is the full human-readable text.
struct config_error {
  std::error_code code;
  std::string message;
  std::string file;   // path, "<string>" name, or "PRIO_X" for an env value
  unsigned line = 0;  // 1-based; 0 when not about a line
  std::string key;    // the option concerned, empty when none
};

// config_schema: the set of options a program understands. Copyable and
// extensible: `config_schema s = default_schema(); s.add_uint("port", 80, "...");`.
// Declaring a key twice or an invalid default is reported by validate(), which
// every config loader calls first.
class config_schema {
 public:
  config_schema& add(option_spec spec);
  config_schema& add_int(std::string key, std::int64_t def, std::string doc);
  config_schema& add_uint(std::string key, std::uint64_t def, std::string doc);
  config_schema& add_size(std::string key, std::string def, std::string doc);
  config_schema& add_bool(std::string key, bool def, std::string doc);
  config_schema& add_string(std::string key, std::string def, std::string doc);
  config_schema& add_choice(std::string key, std::vector<std::string> choices, std::string def,
                            std::string doc);
  // range() bounds the option declared last (unsigned or size): a value
  // outside [min, max] is a bad value naming the range.
  config_schema& range(std::uint64_t min, std::uint64_t max);

  // find() is the declaration of key, or nullptr.
  const option_spec* find(std::string_view key) const noexcept;
  const std::vector<option_spec>& options() const noexcept { return options_; }

  // validate() checks keys (non-empty, [a-z0-9_], unique), choice lists and
  // that every default parses as its type.
  result<void, config_error> validate() const;

  // format_defaults() renders a config file setting every option to its
  // default, each preceded by its doc as a comment.
  std::string format_defaults() const;

 private:
  std::vector<option_spec> options_;
};

// default_schema() declares the options the runtime's layers read (see
// config/config for their documentation). Built once; thread-safe.
const config_schema& default_schema();

// option_value: one option's parsed value and where it came from.
struct option_value {
  enum class origin : std::uint8_t { schema_default, file, environment, program };
  std::string text;        // as written (trimmed)
  std::int64_t i = 0;      // integer
  std::uint64_t u = 0;     // unsigned_integer, size, boolean (0/1)
  origin from = origin::schema_default;
  unsigned line = 0;       // line in the file when from == file
};

// env_overrides: whether PRIO_<KEY> environment variables apply to a load.
enum class env_overrides : bool { ignore, apply };

// config: the effective value of every option of a schema. Getters take a
// declared key of a compatible type; anything else is a programming error and
// terminates with a message (like result::value()).
class config {
 public:
  // from_string() parses text; name is what error messages call it.
  static result<config, config_error> from_string(std::string_view text, const config_schema& schema,
                                                  std::string_view name = "<string>",
                                                  env_overrides env = env_overrides::apply);
  // from_file() reads and parses the file at path.
  static result<config, config_error> from_file(const std::string& path, const config_schema& schema,
                                                env_overrides env = env_overrides::apply);
  // from_file_or_defaults() is from_file(), except that a missing file
  // (ENOENT) yields the defaults (plus environment overrides).
  static result<config, config_error> from_file_or_defaults(const std::string& path,
                                                            const config_schema& schema,
                                                            env_overrides env = env_overrides::apply);
  // defaults() is every option at its default (plus environment overrides).
  static result<config, config_error> defaults(const config_schema& schema,
                                               env_overrides env = env_overrides::apply);

  std::int64_t get_int(std::string_view key) const;     // integer, unsigned (if it fits), size
  std::uint64_t get_uint(std::string_view key) const;   // unsigned, size
  std::uint64_t get_size(std::string_view key) const;   // size, unsigned
  bool get_bool(std::string_view key) const;            // boolean
  const std::string& get_string(std::string_view key) const;  // any type: the text
  const std::string& get_choice(std::string_view key) const { return get_string(key); }

  // set() overrides one option from program code, validated like a file value.
  result<void, config_error> set(std::string_view key, std::string_view value);

  // find() is the value of key, or nullptr if the schema does not declare it.
  const option_value* find(std::string_view key) const noexcept;
  const config_schema& schema() const noexcept { return schema_; }
  const std::string& source_name() const noexcept { return source_; }

  // describe() renders `key=value  # origin` lines, for logs and demos.
  std::string describe() const;

 private:
  config(const config_schema& schema, std::string source);
  const option_value& checked(std::string_view key, const char* getter) const;
  result<void, config_error> apply_environment();

  config_schema schema_;
  std::string source_;
  std::vector<option_value> values_;  // parallel to schema_.options()
  std::map<std::string, std::size_t, std::less<>> index_;
};

}  // namespace prio
