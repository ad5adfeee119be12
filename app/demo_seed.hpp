#pragma once
#include "admin/provisioning.hpp"
#include "core/awaitable_fwd.hpp"
#include "core/config.hpp"

namespace govmail::app {

// Development only (demo.seed): on first start, creates the demo domain and accounts with random
// passwords and prints each password once on standard output. Later starts change nothing.
awaitable<bool> seed_demo(admin::Provisioning& prov, store::Directory& dir,
                          const core::DemoConfig& demo);

}  // namespace govmail::app
