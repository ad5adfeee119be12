// A main() for any libFuzzer target (LLVMFuzzerTestOneInput) when libFuzzer is not available:
// runs every file of a corpus directory, then a bounded number of deterministic mutations of
// them (bit flips, byte edits, chunk duplication, splices, truncation). ctest runs it in every
// build, so the sanitizer CI build exercises each parser on malformed input.
//   usage: <target> <corpus-dir> [mutations=3000] [seed=1]
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

constexpr std::size_t kMaxInput = 1u << 20;

struct Rng {
  std::uint64_t state;
  std::uint64_t next() {  // xorshift64*
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 2685821657736338717ull;
  }
  std::size_t below(std::size_t n) { return n == 0 ? 0 : static_cast<std::size_t>(next() % n); }
};

std::vector<std::string> load_corpus(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> paths;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.is_regular_file()) paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());  // deterministic order
  std::vector<std::string> out;
  for (const auto& p : paths) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    out.push_back(ss.str().substr(0, kMaxInput));
  }
  return out;
}

// Interesting bytes for text protocols: line ends, MIME/IMAP punctuation, NUL, 8-bit.
constexpr char kSpecial[] = {'\r', '\n', '-', ':',  ';',  '=', '"',  '<', '>',    '(',
                             ')',  '{',  '}', '\0', '\\', ' ', '\t', '?', '\x80', '\xFF'};

std::string mutate(const std::vector<std::string>& corpus, Rng& rng) {
  std::string s = corpus[rng.below(corpus.size())];
  const std::size_t edits = 1 + rng.below(8);
  for (std::size_t e = 0; e < edits; ++e) {
    const std::size_t pos = rng.below(s.size() + 1);
    switch (rng.below(7)) {
      case 0:  // flip a bit
        if (!s.empty()) s[rng.below(s.size())] ^= static_cast<char>(1u << rng.below(8));
        break;
      case 1:  // insert a special byte
        s.insert(pos, 1, kSpecial[rng.below(sizeof kSpecial)]);
        break;
      case 2:  // delete a range
        s.erase(pos, rng.below(64));
        break;
      case 3: {  // duplicate a chunk (repeats structure: nesting, headers)
        const std::size_t len = std::min<std::size_t>(rng.below(256), s.size() - pos);
        const std::string chunk = s.substr(pos, len);
        for (std::size_t k = rng.below(16); k > 0 && s.size() < kMaxInput; --k)
          s.insert(pos, chunk);
        break;
      }
      case 4: {  // splice in a piece of another input
        const std::string& other = corpus[rng.below(corpus.size())];
        const std::size_t from = rng.below(other.size() + 1);
        s.insert(pos, other.substr(from, rng.below(512)));
        break;
      }
      case 5:  // truncate
        s.resize(pos);
        break;
      default:  // overwrite a byte
        if (!s.empty()) s[rng.below(s.size())] = static_cast<char>(rng.next());
        break;
    }
    if (s.size() > kMaxInput) s.resize(kMaxInput);
  }
  return s;
}

// The input being run, written to ./fuzz-crash-input if it crashes (so CI keeps a reproducer).
const std::string* g_current = nullptr;

extern "C" void dump_current(int sig) {
  if (g_current != nullptr) {
    const int fd = ::open("fuzz-crash-input", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0) {
      [[maybe_unused]] const auto n = ::write(fd, g_current->data(), g_current->size());
      ::close(fd);
    }
    static const char msg[] = "crashing input written to ./fuzz-crash-input\n";
    [[maybe_unused]] const auto m = ::write(2, msg, sizeof msg - 1);
  }
  std::signal(sig, SIG_DFL);
  std::raise(sig);
}

int run(const std::string& input) {
  g_current = &input;
  return LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <corpus-dir> [mutations] [seed]\n", argv[0]);
    return 2;
  }
  std::signal(SIGABRT, dump_current);
  std::signal(SIGSEGV, dump_current);
  const std::vector<std::string> corpus = load_corpus(argv[1]);
  if (corpus.empty()) {
    std::fprintf(stderr, "empty corpus: %s\n", argv[1]);
    return 2;
  }
  const long mutations = argc > 2 ? std::strtol(argv[2], nullptr, 10) : 3000;
  Rng rng{argc > 3 ? std::strtoull(argv[3], nullptr, 10) | 1 : 0x9E3779B97F4A7C15ull};
  for (const std::string& input : corpus) run(input);
  run(std::string());
  for (long i = 0; i < mutations; ++i) run(mutate(corpus, rng));
  std::printf("%zu corpus inputs and %ld mutations ran\n", corpus.size(), mutations);
  return 0;
}
