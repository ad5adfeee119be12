// bench_admin --count N [--threads T] [--ops O] [--mem BYTES]: hashes N random passwords with
// argon2id (libsodium crypto_pwhash_str, the same call as core::hash_password) on T threads
// (default every core) and prints "argon2id_per_s <rate>". Independent of the importer's own
// hashing code, so that the import can be compared with what the machine can do at best.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "core/auth.hpp"

namespace {

std::uint64_t arg(int argc, char** argv, const std::string& name, std::uint64_t fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (argv[i] == name) return std::strtoull(argv[i + 1], nullptr, 10);
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const std::uint64_t count = arg(argc, argv, "--count", 200);
  const unsigned threads = static_cast<unsigned>(
      arg(argc, argv, "--threads", std::max(1u, std::thread::hardware_concurrency())));
  const std::uint64_t ops = arg(argc, argv, "--ops", 2), mem = arg(argc, argv, "--mem", 64u << 20);
  std::vector<std::string> passwords;
  for (std::uint64_t i = 0; i < count; ++i) passwords.push_back(govmail::core::random_password());
  std::atomic<std::uint64_t> next{0};
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      for (auto i = next++; i < count; i = next++)
        if (govmail::core::hash_password(passwords[i], ops, mem).empty()) std::abort();
    });
  for (auto& th : pool) th.join();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("argon2id ops=%llu mem=%llu threads=%u count=%llu seconds=%.2f\n",
              static_cast<unsigned long long>(ops), static_cast<unsigned long long>(mem), threads,
              static_cast<unsigned long long>(count), secs);
  std::printf("argon2id_per_s %.2f\n", static_cast<double>(count) / secs);
  return 0;
}
