// bench_file.hpp: the data file the file benchmarks read, created once.
//
// Size: PRIO_BENCH_FILE_MB (default 1024 = 1 GiB). Place: PRIO_BENCH_DIR,
// else the current directory (run from the release build dir: a real
// filesystem, so O_DIRECT works). Written with real data, not sparse, so
// reads hit the device and not the zero page.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace prio::bench {

inline std::uint64_t bench_file_bytes() {
  const char* mb = std::getenv("PRIO_BENCH_FILE_MB");
  const std::uint64_t n = mb && *mb ? std::strtoull(mb, nullptr, 10) : 1024;
  return (n ? n : 1) << 20;
}

// bench_file_path() creates the file if it is missing or of another size
// and returns its path. Not thread-safe; call before the benchmarks run.
// The file lives in $PRIO_BENCH_DIR, else beside the benchmark binary (the
// build dir: a real filesystem, and never the source tree).
inline std::string bench_file_dir() {
  if (const char* dir = std::getenv("PRIO_BENCH_DIR"); dir && *dir) return dir;
  char exe[4096];
  const ssize_t n = ::readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n <= 0) return ".";
  std::string p(exe, static_cast<std::size_t>(n));
  const auto slash = p.rfind('/');
  return slash == std::string::npos ? std::string(".") : p.substr(0, slash);
}

inline std::string bench_file_path() {
  const std::uint64_t bytes = bench_file_bytes();
  std::string path = bench_file_dir() + "/prio_file_bench_" + std::to_string(bytes >> 20) + "M.dat";
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && static_cast<std::uint64_t>(st.st_size) == bytes &&
      static_cast<std::uint64_t>(st.st_blocks) * 512 >= bytes)
    return path;
  std::fprintf(stderr, "creating %s (%llu MiB)...\n", path.c_str(), static_cast<unsigned long long>(bytes >> 20));
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::perror("open bench file");
    std::exit(1);
  }
  std::vector<std::uint64_t> chunk((1u << 20) / 8);
  std::uint64_t x = 0x9e3779b97f4a7c15ull;
  for (std::uint64_t done = 0; done < bytes; done += 1u << 20) {
    for (auto& v : chunk) v = (x ^= x << 13, x ^= x >> 7, x ^= x << 17);
    if (::write(fd, chunk.data(), 1u << 20) != (1 << 20)) {
      std::perror("write bench file");
      std::exit(1);
    }
  }
  ::fsync(fd);
  ::close(fd);
  return path;
}

// offsets() is n random 4 KiB-aligned offsets inside the file.
inline std::vector<std::uint64_t> random_offsets(std::size_t n, std::uint64_t file_bytes) {
  std::vector<std::uint64_t> v(n);
  std::uint64_t x = 88172645463325252ull;
  const std::uint64_t blocks = file_bytes / 4096;
  for (auto& o : v) o = ((x ^= x << 13, x ^= x >> 7, x ^= x << 17) % blocks) * 4096;
  return v;
}

// warm_page_cache() reads the 4 KiB blocks at offs once through the page
// cache, so buffered benchmarks measure page-cache hits as they claim to
// (on the shared VMs here the file's pages are dropped between runs: a
// benchmark that found part of it evicted timed the disk, and whichever
// side read an offset first paid for both). Returns false on a read error.
inline bool warm_page_cache(const std::string& path, const std::vector<std::uint64_t>& offs) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char block[4096];
  bool ok = true;
  for (std::uint64_t off : offs)
    if (::pread(fd, block, sizeof(block), static_cast<off_t>(off)) != static_cast<ssize_t>(sizeof(block))) ok = false;
  ::close(fd);
  return ok;
}

}  // namespace prio::bench
