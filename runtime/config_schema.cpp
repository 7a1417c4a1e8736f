// config_schema.cpp: declaring options, checking a schema, and the options
// of the runtime itself (default_schema()).
#include <set>
#include <string>
#include <utility>

#include "prio/runtime/config.hpp"
#include "runtime/config_value.hpp"

namespace prio {

const char* type_name(option_type t) noexcept {
  switch (t) {
    case option_type::integer: return "integer";
    case option_type::unsigned_integer: return "unsigned";
    case option_type::size: return "size";
    case option_type::boolean: return "bool";
    case option_type::string: return "string";
    case option_type::choice: return "enum";
  }
  return "?";
}

config_schema& config_schema::add(option_spec spec) {
  options_.push_back(std::move(spec));
  return *this;
}

config_schema& config_schema::add_int(std::string key, std::int64_t def, std::string doc) {
  return add({std::move(key), option_type::integer, std::to_string(def), std::move(doc), {}});
}

config_schema& config_schema::add_uint(std::string key, std::uint64_t def, std::string doc) {
  return add({std::move(key), option_type::unsigned_integer, std::to_string(def), std::move(doc), {}});
}

config_schema& config_schema::add_size(std::string key, std::string def, std::string doc) {
  return add({std::move(key), option_type::size, std::move(def), std::move(doc), {}});
}

config_schema& config_schema::add_bool(std::string key, bool def, std::string doc) {
  return add({std::move(key), option_type::boolean, def ? "true" : "false", std::move(doc), {}});
}

config_schema& config_schema::add_string(std::string key, std::string def, std::string doc) {
  return add({std::move(key), option_type::string, std::move(def), std::move(doc), {}});
}

config_schema& config_schema::add_choice(std::string key, std::vector<std::string> choices,
                                         std::string def, std::string doc) {
  return add({std::move(key), option_type::choice, std::move(def), std::move(doc), std::move(choices)});
}

config_schema& config_schema::range(std::uint64_t min, std::uint64_t max) {
  if (!options_.empty()) {
    options_.back().min = min;
    options_.back().max = max;
  }
  return *this;
}

const option_spec* config_schema::find(std::string_view key) const noexcept {
  for (const option_spec& o : options_)
    if (o.key == key) return &o;
  return nullptr;
}

namespace {

bool valid_key(std::string_view k) noexcept {
  if (k.empty()) return false;
  for (char c : k)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

config_error schema_error(errc code, const std::string& key, std::string what) {
  return {make_error_code(code), "schema: option '" + key + "': " + what, "schema", 0, key};
}

}  // namespace

result<void, config_error> config_schema::validate() const {
  std::set<std::string_view> seen;
  for (const option_spec& o : options_) {
    if (!valid_key(o.key))
      return failure(schema_error(errc::config_syntax, o.key, "a key must be non-empty [a-z0-9_]"));
    if (!seen.insert(o.key).second)
      return failure(schema_error(errc::config_duplicate_key, o.key, "declared twice"));
    if (o.type == option_type::choice && o.choices.empty())
      return failure(schema_error(errc::config_bad_value, o.key, "an enum needs at least one choice"));
    if (o.min > o.max) return failure(schema_error(errc::config_bad_value, o.key, "an empty range"));
    option_value v;
    std::string why;
    if (!detail::parse_option_value(o, o.default_value, v, why))
      return failure(schema_error(errc::config_bad_value, o.key,
                                  "bad default '" + o.default_value + "': " + why));
  }
  return {};
}

std::string config_schema::format_defaults() const {
  std::string out;
  for (const option_spec& o : options_) {
    out += "# " + o.doc + "\n# (" + type_name(o.type);
    if (o.type == option_type::choice) {
      out += ": ";
      for (std::size_t i = 0; i < o.choices.size(); ++i) out += (i ? "|" : "") + o.choices[i];
    }
    if (o.min != 0 || o.max != UINT64_MAX) out += ", " + std::to_string(o.min) + "-" + std::to_string(o.max);
    out += ")\n" + o.key + "=" + o.default_value + "\n\n";
  }
  return out;
}

// default_schema() is built on first use (a function-local static: thread-safe).
const config_schema& default_schema() {
  static const config_schema schema = [] {
    config_schema s;
    s.add_uint("threads", 0, "Executor threads in the pool; 0 = one per online CPU core.")
        .range(0, 4096);
    s.add_uint("ring_entries", 256,
               "io_uring submission queue entries per executor; 0 = compute-only executors (no ring).")
        .range(0, 32768);  // the kernel's IORING_MAX_ENTRIES
    s.add_size("stack_size", "256K",
               "Stack size of each stackful task (K/M/G suffixes); a guard page is added below it.")
        .range(16 * 1024, 1024 * 1024 * 1024);  // stack_pool's bounds (a test checks they agree)
    s.add_uint("max_pooled_tasks", 4096,
               "Most tasks the pool keeps for submitted callables, per switcher kind; callables "
               "submitted while all are out wait in the pool's backlog.")
        .range(1, std::uint64_t{1} << 24);
    s.add_choice("switcher", {"none", "sjlj", "ucontext", "asm", "coroutine"}, "asm",
                 "Default context switcher for new tasks.");
    s.add_bool("cpu_pinning", false, "Pin each pool executor thread to one CPU core.");
    s.add_uint("spin_before_sleep_us", 50,
               "Microseconds an idle executor polls for work before sleeping in the kernel.");
    s.add_uint("registered_buffers_small", 64,
               "Registered (fixed) 4 KiB I/O buffers per executor.")
        .range(0, 16384);  // the kernel's limit on one buffer table (small + large)
    s.add_uint("registered_buffers_large", 4, "Registered (fixed) 2 MiB I/O buffers per executor.")
        .range(0, 16384);
    s.add_uint("low_priority_io_cap", 0,
               "Max in-flight low-priority I/O operations per executor; 0 = no cap.");
    s.add_bool("track_task_time", true,
               "Read the clock at the end of every task slice so per-task executed time and the "
               "executors' in-task time add up; false saves one TSC read per slice.");
    s.add_uint("stats_publish_us", 100,
               "Microseconds between the stats snapshots a busy executor publishes for other "
               "threads (pool::live_stats()); an executor also publishes before it sleeps.");
    s.add_uint("demo_seconds", 10, "How long prio-demo runs, in seconds.");
    s.add_uint("demo_port", 0, "TCP port of prio-demo's server; 0 = pick a free port.");
    return s;
  }();
  return schema;
}

}  // namespace prio
