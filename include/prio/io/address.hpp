// address.hpp: a socket address (IPv4, IPv6 or Unix-domain) held by value.
//
// One type for every family the socket operations accept, so an operation
// never needs a template or a cast. Building one validates its input and
// returns EINVAL for a malformed address instead of throwing.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "prio/runtime/result.hpp"

namespace prio::net {

class address {
 public:
  address() noexcept;

  // ipv4() parses a dotted quad ("127.0.0.1") and a port. Any thread.
  static result<address> ipv4(std::string_view ip, std::uint16_t port) noexcept;
  // ipv6() parses a textual IPv6 address ("::1") and a port. Any thread.
  static result<address> ipv6(std::string_view ip, std::uint16_t port) noexcept;
  // unix_path() is a Unix-domain address; a leading '@' names the abstract
  // namespace (no file is created). EINVAL if empty or too long. Any thread.
  static result<address> unix_path(std::string_view path) noexcept;
  // from_sockaddr() copies what the kernel wrote (accept, getsockname).
  static address from_sockaddr(const sockaddr* sa, socklen_t len) noexcept;

  int family() const noexcept { return storage_.ss_family; }
  // port() is the TCP port of an IPv4/IPv6 address (0 for Unix).
  std::uint16_t port() const noexcept;
  // with_port() is a copy with another port (IPv4/IPv6 only).
  address with_port(std::uint16_t port) const noexcept;
  // to_string() is "127.0.0.1:80", "[::1]:80" or the Unix path.
  std::string to_string() const;

  const sockaddr* get() const noexcept { return reinterpret_cast<const sockaddr*>(&storage_); }
  sockaddr* get() noexcept { return reinterpret_cast<sockaddr*>(&storage_); }
  socklen_t size() const noexcept { return len_; }
  // reset_for_kernel() sets the length to the full capacity so the kernel
  // can fill the address (accept, getsockname); size_ptr() is where it
  // writes the length back.
  void reset_for_kernel() noexcept { len_ = sizeof(storage_); }
  socklen_t* size_ptr() noexcept { return &len_; }

 private:
  sockaddr_storage storage_;
  socklen_t len_ = 0;
};

}  // namespace prio::net
