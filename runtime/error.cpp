// error.cpp: the "prio" error category and the fatal path of result<T>.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <system_error>

#include "prio/runtime/result.hpp"

namespace prio {
namespace {

// prio_error_category names prio::errc values; it is stateless.
class prio_error_category final : public std::error_category {
 public:
  const char* name() const noexcept override { return "prio"; }

  std::string message(int ev) const override {
    switch (static_cast<errc>(ev)) {
      case errc::ok: return "success";
      case errc::cannot_suspend: return "cannot suspend: the context has no stack of its own";
      case errc::task_exception: return "an exception escaped a task body";
      case errc::not_on_executor: return "called from a thread that does not own the executor";
      case errc::executor_closed: return "the executor no longer accepts work";
      case errc::config_unknown_key: return "unknown config option";
      case errc::config_duplicate_key: return "duplicate config option";
      case errc::config_bad_value: return "bad config value";
      case errc::config_syntax: return "config syntax error";
      case errc::task_busy: return "the task is attached already";
      case errc::feature_missing: return "a required kernel or liburing feature is missing";
      case errc::foreign_handle: return "the socket or file belongs to another executor's ring";
    }
    return "unknown prio error " + std::to_string(ev);
  }

  // default_error_condition maps the errors that have a natural errno
  // equivalent, so `ec == std::errc::invalid_argument` works for config errors.
  std::error_condition default_error_condition(int ev) const noexcept override {
    switch (static_cast<errc>(ev)) {
      case errc::config_unknown_key:
      case errc::config_duplicate_key:
      case errc::config_bad_value:
      case errc::config_syntax: return std::errc::invalid_argument;
      case errc::task_busy: return std::errc::device_or_resource_busy;
      case errc::feature_missing: return std::errc::function_not_supported;
      case errc::foreign_handle: return std::errc::bad_file_descriptor;
      default: return {ev, *this};
    }
  }
};

}  // namespace

// prio_category() is the singleton category of prio::errc; thread-safe.
const std::error_category& prio_category() noexcept {
  static const prio_error_category category;
  return category;
}

namespace detail {

// bad_result_access() reports a misuse of result<T> and aborts; it never
// returns and allocates nothing, so it is safe on any thread.
void bad_result_access(const char* what) noexcept {
  std::fprintf(stderr, "prio: fatal: %s\n", what);
  std::fflush(stderr);
  std::abort();
}

}  // namespace detail
}  // namespace prio
