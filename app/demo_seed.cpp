#include "demo_seed.hpp"

#include <spdlog/spdlog.h>
#include <cstdio>

#include "core/auth.hpp"

namespace govmail::app {

awaitable<bool> seed_demo(admin::Provisioning& prov, store::Directory& dir,
                          const core::DemoConfig& demo) {
  auto existing = co_await dir.find_domain(demo.domain);
  if (existing) co_return true;  // seeded before: passwords were printed then
  if (existing.error() != store::StoreError::not_found) {
    spdlog::error("demo seed: cannot look up {}: {}", demo.domain,
                  store::to_string(existing.error()));
    co_return false;
  }
  auto domain = co_await prov.add_domain(demo.domain);
  if (!domain) {
    spdlog::error("demo seed: {}", domain.error().message);
    co_return false;
  }
  std::printf("Demo accounts created (passwords are shown this once):\n");
  for (const auto& local : demo.accounts) {
    admin::Provisioning::NewAccountRequest req;
    req.address = local + "@" + demo.domain;
    req.display_name = "Demo " + local;
    req.password = core::random_password();
    auto acc = co_await prov.add_account(req);
    if (!acc) {
      spdlog::error("demo seed: {}", acc.error().message);
      co_return false;
    }
    std::printf("  %s  password: %s\n", acc->address.c_str(), req.password.c_str());
  }
  std::fflush(stdout);
  co_return true;
}

}  // namespace govmail::app
