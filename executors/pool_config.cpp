// pool_config.cpp: the pool's options from config/config (default_schema()
// keys) with PRIO_<OPTION> environment overrides.
#include "prio/executors/pool.hpp"

namespace prio {

namespace {
unsigned clamp_u32(std::uint64_t v) noexcept {
  return v > 0xffffffffu ? 0xffffffffu : static_cast<unsigned>(v);
}
}  // namespace

pool_options pool_options::from_config(const config& c) {
  pool_options o;
  o.threads = clamp_u32(c.get_uint("threads"));
  o.exec.ring_entries = clamp_u32(c.get_uint("ring_entries"));
  o.exec.low_priority_io_cap = clamp_u32(c.get_uint("low_priority_io_cap"));
  o.exec.track_task_time = c.get_bool("track_task_time");
  o.exec.stats_publish_interval = std::chrono::microseconds(c.get_uint("stats_publish_us"));
  o.stack_size = c.get_size("stack_size");
  o.max_pooled_tasks = static_cast<std::size_t>(c.get_uint("max_pooled_tasks"));
  // The schema restricts the value to the switcher names.
  o.switcher = parse_switcher(c.get_choice("switcher")).value();
  o.cpu_pinning = c.get_bool("cpu_pinning");
  o.spin_before_sleep = std::chrono::microseconds(c.get_uint("spin_before_sleep_us"));
  o.registered_buffers_small = clamp_u32(c.get_uint("registered_buffers_small"));
  o.registered_buffers_large = clamp_u32(c.get_uint("registered_buffers_large"));
  return o;
}

result<pool_options, config_error> pool_options::load(const std::string& path, bool missing_ok) {
  auto c = missing_ok ? config::from_file_or_defaults(path, default_schema())
                      : config::from_file(path, default_schema());
  if (!c) return failure(c.error());
  return from_config(*c);
}

}  // namespace prio
