// address.cpp: building, parsing and printing socket addresses.
#include "prio/io/address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cerrno>
#include <cstddef>
#include <cstring>

namespace prio::net {

address::address() noexcept { std::memset(&storage_, 0, sizeof(storage_)); }

result<address> address::ipv4(std::string_view ip, std::uint16_t port) noexcept {
  char text[INET_ADDRSTRLEN];
  if (ip.empty() || ip.size() >= sizeof(text)) return failure(errno_error(EINVAL));
  std::memcpy(text, ip.data(), ip.size());
  text[ip.size()] = '\0';
  address a;
  auto* in = reinterpret_cast<sockaddr_in*>(&a.storage_);
  in->sin_family = AF_INET;
  in->sin_port = htons(port);
  if (::inet_pton(AF_INET, text, &in->sin_addr) != 1) return failure(errno_error(EINVAL));
  a.len_ = sizeof(sockaddr_in);
  return a;
}

result<address> address::ipv6(std::string_view ip, std::uint16_t port) noexcept {
  char text[INET6_ADDRSTRLEN];
  if (ip.empty() || ip.size() >= sizeof(text)) return failure(errno_error(EINVAL));
  std::memcpy(text, ip.data(), ip.size());
  text[ip.size()] = '\0';
  address a;
  auto* in6 = reinterpret_cast<sockaddr_in6*>(&a.storage_);
  in6->sin6_family = AF_INET6;
  in6->sin6_port = htons(port);
  if (::inet_pton(AF_INET6, text, &in6->sin6_addr) != 1) return failure(errno_error(EINVAL));
  a.len_ = sizeof(sockaddr_in6);
  return a;
}

result<address> address::unix_path(std::string_view path) noexcept {
  address a;
  auto* un = reinterpret_cast<sockaddr_un*>(&a.storage_);
  // Abstract names keep their leading NUL in the length; paths carry a
  // terminating NUL.
  const bool abstract = !path.empty() && path[0] == '@';
  if (path.size() < (abstract ? 2u : 1u) || path.size() >= sizeof(un->sun_path))
    return failure(errno_error(EINVAL));
  un->sun_family = AF_UNIX;
  std::memcpy(un->sun_path, path.data(), path.size());
  if (abstract) {
    un->sun_path[0] = '\0';
    a.len_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size());
  } else {
    a.len_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + 1);
  }
  return a;
}

address address::from_sockaddr(const sockaddr* sa, socklen_t len) noexcept {
  address a;
  if (sa && len > 0) {
    if (len > sizeof(a.storage_)) len = sizeof(a.storage_);
    std::memcpy(&a.storage_, sa, len);
    a.len_ = len;
  }
  return a;
}

std::uint16_t address::port() const noexcept {
  if (family() == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in*>(&storage_)->sin_port);
  if (family() == AF_INET6) return ntohs(reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_port);
  return 0;
}

address address::with_port(std::uint16_t port) const noexcept {
  address a = *this;
  if (family() == AF_INET) reinterpret_cast<sockaddr_in*>(&a.storage_)->sin_port = htons(port);
  if (family() == AF_INET6) reinterpret_cast<sockaddr_in6*>(&a.storage_)->sin6_port = htons(port);
  return a;
}

std::string address::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  if (family() == AF_INET) {
    ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(&storage_)->sin_addr, text, sizeof(text));
    return std::string(text) + ":" + std::to_string(port());
  }
  if (family() == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&storage_)->sin6_addr, text, sizeof(text));
    std::string r = "[";  // (appended: "[" + std::string&& trips GCC 12's -Wrestrict)
    r += text;
    r += "]:";
    r += std::to_string(port());
    return r;
  }
  if (family() == AF_UNIX) {
    const auto* un = reinterpret_cast<const sockaddr_un*>(&storage_);
    const std::size_t n = len_ > offsetof(sockaddr_un, sun_path) ? len_ - offsetof(sockaddr_un, sun_path) : 0;
    if (n == 0) return "unix:(unnamed)";
    if (un->sun_path[0] == '\0') return "unix:@" + std::string(un->sun_path + 1, n - 1);
    return "unix:" + std::string(un->sun_path);
  }
  return "(unspecified)";
}

}  // namespace prio::net
