// The JMAP endpoints on the HTTP server: one JmapService per process, shared by its routes.
#pragma once
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "auth/web_auth.hpp"
#include "core/config.hpp"
#include "core/http_server.hpp"
#include "jmap/method.hpp"
#include "jmap/session_resource.hpp"

namespace govmail::core {
class SessionRegistry;
}

namespace govmail::webmail::jmap {

// Per-account counters of things in progress (requests, uploads, push streams), per process.
class AccountGate {
 public:
  explicit AccountGate(std::size_t max) : max_(max) {}
  class Ticket {
   public:
    Ticket() = default;
    Ticket(AccountGate* gate, store::AccountId account) : gate_(gate), account_(account) {}
    Ticket(Ticket&& o) noexcept : gate_(std::exchange(o.gate_, nullptr)), account_(o.account_) {}
    Ticket& operator=(Ticket&& o) noexcept {
      if (this != &o) {
        release();
        gate_ = std::exchange(o.gate_, nullptr);
        account_ = o.account_;
      }
      return *this;
    }
    ~Ticket() { release(); }
    void release() {
      if (gate_) std::exchange(gate_, nullptr)->leave(account_);
    }
    explicit operator bool() const { return gate_ != nullptr; }

   private:
    AccountGate* gate_ = nullptr;
    store::AccountId account_ = 0;
  };
  Ticket enter(store::AccountId account);  // empty ticket when the account is at the limit

 private:
  void leave(store::AccountId account);
  std::size_t max_;
  std::mutex mu_;
  std::map<store::AccountId, std::size_t> in_use_;
};

struct JmapService {
  JmapService(const core::Config& config, std::shared_ptr<store::Database> database,
              core::AuthService& auth_service, std::shared_ptr<core::SessionRegistry> registry);

  core::Config cfg;
  std::shared_ptr<store::Database> db;
  auth::WebAuth auth;
  std::shared_ptr<core::SessionRegistry> sessions;
  std::shared_ptr<search::Index> search;  // may be null (search.use_index = false)
  MethodRegistry methods;
  AccountGate requests;
  AccountGate uploads;
  AccountGate push_streams;
  SessionStateCache session_states;

  awaitable<core::HttpResponse> session(const core::HttpRequest& request);
  awaitable<core::HttpResponse> api(const core::HttpRequest& request);
  awaitable<core::HttpResponse> upload(const core::HttpRequest& request);
  awaitable<core::HttpResponse> download(const core::HttpRequest& request);
  awaitable<core::HttpResponse> eventsource(const core::HttpRequest& request);  // push.cpp
};

// A request-level error of RFC 8620 3.6.1 as application/problem+json.
core::HttpResponse problem(int status, std::string_view type, std::string detail,
                           std::string_view limit = {});

// "https://host" as the client reached us (for the URLs of the session resource).
std::string base_url(const core::HttpRequest& request);

}  // namespace govmail::webmail::jmap
