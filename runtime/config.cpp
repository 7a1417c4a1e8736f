// config.cpp: reading `option=value` text, environment overrides, getters.
#include "prio/runtime/config.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <utility>

#include "runtime/config_value.hpp"

namespace prio {
namespace {

config_error make_error(errc code, std::string_view file, unsigned line, std::string_view key,
                        std::string_view what) {
  std::string msg(file);
  if (line != 0) {  // (appended: ":" + std::string&& trips GCC 12's -Wrestrict)
    msg += ':';
    msg += std::to_string(line);
  }
  msg += ": ";
  msg += what;
  return {make_error_code(code), std::move(msg), std::string(file), line, std::string(key)};
}

// edit_distance() is the Levenshtein distance, for "did you mean" hints.
std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// suggestion() is " (did you mean 'x'?)" for the closest declared key within
// two edits, or empty.
std::string suggestion(const config_schema& schema, std::string_view key) {
  const option_spec* best = nullptr;
  std::size_t best_d = 3;
  for (const option_spec& o : schema.options()) {
    const std::size_t d = edit_distance(key, o.key);
    if (d < best_d) {
      best_d = d;
      best = &o;
    }
  }
  return best ? " (did you mean '" + best->key + "'?)" : std::string();
}

// env_name() is PRIO_<key upper-cased>.
std::string env_name(std::string_view key) {
  std::string n = "PRIO_";
  for (char c : key) n += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  return n;
}

// read_whole_file() reads path into out; on failure returns the errno.
int read_whole_file(const std::string& path, std::string& out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n == 0) break;
    if (n < 0) {
      if (errno == EINTR) continue;
      const int e = errno;
      ::close(fd);
      return e;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return 0;
}

const char* origin_name(option_value::origin o) noexcept {
  switch (o) {
    case option_value::origin::schema_default: return "default";
    case option_value::origin::file: return "file";
    case option_value::origin::environment: return "environment";
    case option_value::origin::program: return "program";
  }
  return "?";
}

}  // namespace

config::config(const config_schema& schema, std::string source)
    : schema_(schema), source_(std::move(source)) {
  values_.resize(schema_.options().size());
  for (std::size_t i = 0; i < schema_.options().size(); ++i) {
    const option_spec& o = schema_.options()[i];
    index_.emplace(o.key, i);
    std::string why;
    // Defaults were checked by validate() before any config is built.
    (void)detail::parse_option_value(o, o.default_value, values_[i], why);
  }
}

// apply_environment() overrides every option whose PRIO_<KEY> variable is
// set, validated like a file value; an error names the variable.
result<void, config_error> config::apply_environment() {
  for (std::size_t i = 0; i < values_.size(); ++i) {
    const option_spec& o = schema_.options()[i];
    const std::string name = env_name(o.key);
    const char* raw = std::getenv(name.c_str());
    if (raw == nullptr) continue;
    const std::string_view text = detail::trim(raw);
    option_value v;
    std::string why;
    if (!detail::parse_option_value(o, text, v, why))
      return failure(make_error(errc::config_bad_value, name, 0, o.key,
                                "bad value '" + std::string(text) + "' in " + name + " for option '" +
                                    o.key + "' (" + type_name(o.type) + "): " + why));
    v.from = option_value::origin::environment;
    values_[i] = std::move(v);
  }
  return {};
}

result<config, config_error> config::from_string(std::string_view text, const config_schema& schema,
                                                 std::string_view name, env_overrides env) {
  PRIO_TRY(schema.validate());
  config c(schema, std::string(name));
  unsigned lineno = 0;
  while (!text.empty() || lineno == 0) {
    ++lineno;
    const std::size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);

    if (const std::size_t hash = line.find('#'); hash != std::string_view::npos) line = line.substr(0, hash);
    line = detail::trim(line);
    if (line.empty()) continue;

    const std::size_t eq = line.find('=');
    if (eq == std::string_view::npos)
      return failure(make_error(errc::config_syntax, name, lineno, line,
                                "syntax error: expected 'option=value', got '" + std::string(line) + "'"));
    const std::string_view key = detail::trim(line.substr(0, eq));
    const std::string_view value = detail::trim(line.substr(eq + 1));
    if (key.empty())
      return failure(make_error(errc::config_syntax, name, lineno, key,
                                "syntax error: missing option name before '='"));

    const auto it = c.index_.find(key);
    if (it == c.index_.end())
      return failure(make_error(errc::config_unknown_key, name, lineno, key,
                                "unknown option '" + std::string(key) + "'" + suggestion(schema, key)));
    option_value& slot = c.values_[it->second];
    if (slot.from == option_value::origin::file)
      return failure(make_error(errc::config_duplicate_key, name, lineno, key,
                                "duplicate option '" + std::string(key) + "' (first set on line " +
                                    std::to_string(slot.line) + ")"));
    const option_spec& spec = schema.options()[it->second];
    std::string why;
    if (!detail::parse_option_value(spec, value, slot, why))
      return failure(make_error(errc::config_bad_value, name, lineno, key,
                                "bad value '" + std::string(value) + "' for option '" + std::string(key) +
                                    "' (" + type_name(spec.type) + "): " + why));
    slot.from = option_value::origin::file;
    slot.line = lineno;
  }
  if (env == env_overrides::apply) PRIO_TRY(c.apply_environment());
  return c;
}

result<config, config_error> config::from_file(const std::string& path, const config_schema& schema,
                                               env_overrides env) {
  std::string text;
  if (const int e = read_whole_file(path, text); e != 0) {
    config_error err{errno_error(e), path + ": cannot read: " + std::strerror(e), path, 0, {}};
    return failure(std::move(err));
  }
  return from_string(text, schema, path, env);
}

result<config, config_error> config::from_file_or_defaults(const std::string& path,
                                                           const config_schema& schema,
                                                           env_overrides env) {
  auto r = from_file(path, schema, env);
  if (!r && r.error().code == errno_error(ENOENT)) return defaults(schema, env);
  return r;
}

result<config, config_error> config::defaults(const config_schema& schema, env_overrides env) {
  return from_string({}, schema, "<defaults>", env);
}

result<void, config_error> config::set(std::string_view key, std::string_view value) {
  const auto it = index_.find(key);
  if (it == index_.end())
    return failure(make_error(errc::config_unknown_key, "<program>", 0, key,
                              "unknown option '" + std::string(key) + "'" + suggestion(schema_, key)));
  const option_spec& spec = schema_.options()[it->second];
  option_value v;
  std::string why;
  if (!detail::parse_option_value(spec, value, v, why))
    return failure(make_error(errc::config_bad_value, "<program>", 0, key,
                              "bad value '" + std::string(value) + "' for option '" + std::string(key) +
                                  "': " + why));
  v.from = option_value::origin::program;
  values_[it->second] = std::move(v);
  return {};
}

const option_value* config::find(std::string_view key) const noexcept {
  const auto it = index_.find(key);
  return it == index_.end() ? nullptr : &values_[it->second];
}

// checked() is the value of a declared key whose type suits getter; anything
// else is a bug in the caller and terminates with a message.
const option_value& config::checked(std::string_view key, const char* getter) const {
  const auto it = index_.find(key);
  if (it == index_.end()) {
    const std::string msg = std::string("config::") + getter + "('" + std::string(key) +
                            "'): option not declared in the schema";
    detail::bad_result_access(msg.c_str());
  }
  const option_type t = schema_.options()[it->second].type;
  const std::string_view g = getter;
  const bool ok = g == "get_string" ||
                  (g == "get_bool" && t == option_type::boolean) ||
                  ((g == "get_uint" || g == "get_size") &&
                   (t == option_type::unsigned_integer || t == option_type::size)) ||
                  (g == "get_int" && (t == option_type::integer || t == option_type::unsigned_integer ||
                                      t == option_type::size));
  if (!ok) {
    const std::string msg = std::string("config::") + getter + "('" + std::string(key) +
                            "'): option is of type " + type_name(t);
    detail::bad_result_access(msg.c_str());
  }
  return values_[it->second];
}

std::int64_t config::get_int(std::string_view key) const {
  const option_value& v = checked(key, "get_int");
  if (schema_.find(key)->type != option_type::integer &&
      v.u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
    detail::bad_result_access("config::get_int(): value does not fit a signed 64-bit integer");
  return v.i;
}

std::uint64_t config::get_uint(std::string_view key) const { return checked(key, "get_uint").u; }
std::uint64_t config::get_size(std::string_view key) const { return checked(key, "get_size").u; }
bool config::get_bool(std::string_view key) const { return checked(key, "get_bool").u != 0; }
const std::string& config::get_string(std::string_view key) const {
  return checked(key, "get_string").text;
}

std::string config::describe() const {
  std::string out;
  for (std::size_t i = 0; i < values_.size(); ++i) {
    const option_value& v = values_[i];
    const std::string& key = schema_.options()[i].key;
    out += key + "=" + v.text + "  # " + origin_name(v.from);
    // Appended piece by piece: GCC 12 warns (-Wrestrict, a false positive)
    // on " " + std::string&& in a release build.
    if (v.from == option_value::origin::file) {
      out += ' ';
      out += source_;
      out += ':';
      out += std::to_string(v.line);
    }
    if (v.from == option_value::origin::environment) {
      out += ' ';
      out += env_name(key);
    }
    out += "\n";
  }
  return out;
}

}  // namespace prio
