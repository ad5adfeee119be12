#include <cstdio>
#include <string_view>

#include "core/version.hpp"

int main(int argc, char** argv) {
  if (argc > 1 && std::string_view(argv[1]) == "--version") {
    std::printf("govmail %.*s\n", static_cast<int>(govmail::core::version().size()),
                govmail::core::version().data());
    return 0;
  }
  std::fprintf(stderr, "usage: govmail serve | admin ... | check-config FILE | --version\n");
  return 2;
}
