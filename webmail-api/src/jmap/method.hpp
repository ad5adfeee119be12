// The seam between JMAP core (request parsing, batching, result references, errors, auth, push)
// and the data-type methods (Mailbox/*, Email/*, Thread/*, Identity/*, EmailSubmission/*,
// VacationResponse/*, SearchSnippet/*). Core owns dispatch; each method is a handler registered
// under its name and the capability that must be in "using".
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/awaitable_fwd.hpp"
#include "store/types.hpp"

namespace govmail::core {
struct Config;
}
namespace govmail::store {
class Database;
}

namespace govmail::webmail::jmap {

using Json = nlohmann::json;

inline constexpr std::string_view kCoreCapability = "urn:ietf:params:jmap:core";
inline constexpr std::string_view kMailCapability = "urn:ietf:params:jmap:mail";
inline constexpr std::string_view kSubmissionCapability = "urn:ietf:params:jmap:submission";
inline constexpr std::string_view kVacationCapability = "urn:ietf:params:jmap:vacationresponse";

// Thrown by a handler: becomes ["error", {"type": type, "description": description}, callId]
// (RFC 8620 3.6.2: invalidArguments, accountNotFound, serverFail, unknownMethod, ...).
struct MethodError {
  std::string type;
  std::string description;
};

// What one authenticated API request gives every method call in it.
struct RequestContext {
  store::AccountId account_id = 0;  // the authenticated account; the only accountId served
  std::string account_id_string;    // its JMAP id as sent in "accountId"
  std::string address;              // the account's address
  std::shared_ptr<store::Database> db;
  const core::Config* cfg = nullptr;
  std::vector<std::string> using_capabilities;
  // Creation ids of this request ("#k" -> id, RFC 8620 5.3), filled by /set, /copy, /import.
  std::map<std::string, std::string> created_ids;
  // Responses a method adds after its own (e.g. the implicit Email/set of Email/copy with
  // onSuccessDestroyOriginal, RFC 8620 5.4): {name, arguments}; callId is the caller's.
  std::vector<std::pair<std::string, Json>> extra_responses;
};

// Returns the response arguments; throws MethodError for a method-level error.
using MethodHandler = std::function<awaitable<Json>(const Json& arguments, RequestContext& ctx)>;

class MethodRegistry {
 public:
  struct Entry {
    std::string capability;
    MethodHandler handler;
  };
  void add(std::string name, std::string capability, MethodHandler handler) {
    methods_[std::move(name)] = Entry{std::move(capability), std::move(handler)};
  }
  const Entry* find(const std::string& name) const {
    auto it = methods_.find(name);
    return it == methods_.end() ? nullptr : &it->second;
  }

 private:
  std::map<std::string, Entry> methods_;
};

// Core/echo and the other core-capability methods (jmap core helper).
void register_core_methods(MethodRegistry& registry);
// Mailbox, Thread, Email, SearchSnippet, Identity, EmailSubmission, VacationResponse (jmap mail
// helper); each file under src/mail/ registers its own type.
void register_mail_methods(MethodRegistry& registry);

}  // namespace govmail::webmail::jmap
