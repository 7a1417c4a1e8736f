// result.hpp: a value or an error, never an exception on the error path.
//
// result<T, E> holds either a T or an E (std::error_code by default). It is
// [[nodiscard]] so an ignored error is a compiler warning. Accessing the value
// of an errored result is a programming error: it terminates with a message in
// every build (value()), or is unchecked (operator*, for the hot path).
#pragma once

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <system_error>
#include <type_traits>
#include <utility>

namespace prio {

// Errors of prio itself (not errno values). Their category is prio_category().
enum class errc : int {
  ok = 0,
  cannot_suspend = 1,      // suspend() on a context that has no stack of its own
  task_exception = 2,      // an exception escaped a task body
  not_on_executor = 3,     // called from a thread that does not own the executor
  executor_closed = 4,     // the executor or dispatcher no longer accepts work
  config_unknown_key = 5,  // a config file names an option nobody declared
  config_duplicate_key = 6,
  config_bad_value = 7,
  config_syntax = 8,
  task_busy = 9,           // the task is attached already
  feature_missing = 10,    // the kernel or liburing lacks what was asked for
  foreign_handle = 11,     // a socket or file of another executor's ring
};

const std::error_category& prio_category() noexcept;

inline std::error_code make_error_code(errc e) noexcept {
  return {static_cast<int>(e), prio_category()};
}

// errno_error(e) is the std::error_code of errno value e (positive).
inline std::error_code errno_error(int e) noexcept {
  return {e, std::system_category()};
}

// Tag for building an errored result: `return failure(errno_error(EINVAL));`.
template <class E>
struct failure_t {
  E error;
};
template <class E>
failure_t<std::decay_t<E>> failure(E&& e) {
  return {std::forward<E>(e)};
}
inline failure_t<std::error_code> failure(errc e) { return {make_error_code(e)}; }

namespace detail {
[[noreturn]] void bad_result_access(const char* what) noexcept;
}

template <class T, class E = std::error_code>
class [[nodiscard]] result {
 public:
  using value_type = T;
  using error_type = E;

  template <class U = T,
            class = std::enable_if_t<std::is_constructible_v<T, U&&> &&
                                     !std::is_same_v<std::decay_t<U>, result>>>
  result(U&& v) noexcept(std::is_nothrow_constructible_v<T, U&&>)  // NOLINT
      : ok_(true) {
    ::new (&storage_.value) T(std::forward<U>(v));
  }
  template <class G>
  result(failure_t<G> f) noexcept : ok_(false) {  // NOLINT
    ::new (&storage_.error) E(std::move(f.error));
  }
  result(const result& o) : ok_(o.ok_) {
    if (ok_)
      ::new (&storage_.value) T(o.storage_.value);
    else
      ::new (&storage_.error) E(o.storage_.error);
  }
  result(result&& o) noexcept(std::is_nothrow_move_constructible_v<T>) : ok_(o.ok_) {
    if (ok_)
      ::new (&storage_.value) T(std::move(o.storage_.value));
    else
      ::new (&storage_.error) E(std::move(o.storage_.error));
  }
  result& operator=(result o) noexcept(std::is_nothrow_move_constructible_v<T>) {
    destroy();
    ok_ = o.ok_;
    if (ok_)
      ::new (&storage_.value) T(std::move(o.storage_.value));
    else
      ::new (&storage_.error) E(std::move(o.storage_.error));
    return *this;
  }
  ~result() { destroy(); }

  bool has_value() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }

  T& value() & {
    if (!ok_) detail::bad_result_access("value() of an errored result");
    return storage_.value;
  }
  const T& value() const& {
    if (!ok_) detail::bad_result_access("value() of an errored result");
    return storage_.value;
  }
  T&& value() && {
    if (!ok_) detail::bad_result_access("value() of an errored result");
    return std::move(storage_.value);
  }
  T& operator*() & noexcept { return storage_.value; }
  const T& operator*() const& noexcept { return storage_.value; }
  T* operator->() noexcept { return &storage_.value; }
  const T* operator->() const noexcept { return &storage_.value; }

  const E& error() const& {
    if (ok_) detail::bad_result_access("error() of a successful result");
    return storage_.error;
  }

  template <class U>
  T value_or(U&& fallback) const& {
    return ok_ ? storage_.value : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  void destroy() noexcept {
    if (ok_)
      storage_.value.~T();
    else
      storage_.error.~E();
  }
  union storage {
    storage() {}
    ~storage() {}
    T value;
    E error;
  } storage_;
  bool ok_;
};

template <class E>
class [[nodiscard]] result<void, E> {
 public:
  using value_type = void;
  using error_type = E;

  // The error is constructed only on failure: success costs one byte store
  // (std::error_code's default constructor is an out-of-line call).
  result() noexcept : ok_(true) {}
  template <class G>
  result(failure_t<G> f) noexcept : ok_(false) {  // NOLINT
    ::new (&storage_.error) E(std::move(f.error));
  }
  result(const result& o) noexcept : ok_(o.ok_) {
    if (!ok_) ::new (&storage_.error) E(o.storage_.error);
  }
  result& operator=(const result& o) noexcept {
    if (this == &o) return *this;
    destroy();
    ok_ = o.ok_;
    if (!ok_) ::new (&storage_.error) E(o.storage_.error);
    return *this;
  }
  ~result() { destroy(); }

  bool has_value() const noexcept { return ok_; }
  explicit operator bool() const noexcept { return ok_; }
  void value() const {
    if (!ok_) detail::bad_result_access("value() of an errored result");
  }
  const E& error() const& {
    if (ok_) detail::bad_result_access("error() of a successful result");
    return storage_.error;
  }

 private:
  void destroy() noexcept {
    if (!ok_) storage_.error.~E();
  }
  union storage {
    storage() {}
    ~storage() {}
    E error;
  } storage_;
  bool ok_;
};

// success() is the successful result<void>.
inline result<void> success() noexcept { return {}; }

}  // namespace prio

namespace std {
template <>
struct is_error_code_enum<prio::errc> : true_type {};
}  // namespace std

// PRIO_TRY(expr): evaluate a result; on error return its error from the
// enclosing function (which must return a result).
#define PRIO_TRY(expr)                                  \
  do {                                                  \
    auto&& prio_try_r_ = (expr);                        \
    if (!prio_try_r_) return ::prio::failure(prio_try_r_.error()); \
  } while (0)
