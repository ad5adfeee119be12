// The seam between JMAP core (request parsing, batching, result references, errors, auth, push)
// and the data-type methods (Mailbox/*, Email/*, Thread/*, Identity/*, EmailSubmission/*,
// VacationResponse/*, SearchSnippet/*). Core owns dispatch; each method is a handler registered
// under its name and the capability that must be in "using".
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <optional>
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
namespace govmail::search {
class Index;
}

namespace govmail::webmail::jmap {

using Json = nlohmann::json;

inline constexpr std::string_view kCoreCapability = "urn:ietf:params:jmap:core";
inline constexpr std::string_view kMailCapability = "urn:ietf:params:jmap:mail";
inline constexpr std::string_view kSubmissionCapability = "urn:ietf:params:jmap:submission";
inline constexpr std::string_view kVacationCapability = "urn:ietf:params:jmap:vacationresponse";
// govmail's own: Directory/query, the address book the webmail completes recipients from.
inline constexpr std::string_view kDirectoryCapability = "urn:govmail:params:jmap:directory";

// Thrown by a handler: becomes ["error", {"type": type, "description": description}, callId]
// (RFC 8620 3.6.2: invalidArguments, accountNotFound, serverFail, unknownMethod, ...).
struct MethodError {
  std::string type;
  std::string description;
};

class MethodRegistry;

// What one authenticated API request gives every method call in it.
struct RequestContext {
  store::AccountId account_id = 0;  // the authenticated account; the only accountId served
  std::string account_id_string;    // its JMAP id as sent in "accountId"
  std::string address;              // the account's address
  std::string client_ip;            // the HTTP client's address (journaled with a submission)
  std::shared_ptr<store::Database> db;
  const core::Config* cfg = nullptr;
  search::Index* search = nullptr;  // the full-text index, when the process uses one
  std::vector<std::string> using_capabilities;
  // Creation ids of this request ("#k" -> id, RFC 8620 5.3), filled by /set, /copy, /import.
  std::map<std::string, std::string> created_ids;
  // Responses a method adds after its own (e.g. the implicit Email/set of Email/copy with
  // onSuccessDestroyOriginal, RFC 8620 5.4): {name, arguments}; callId is the caller's.
  std::vector<std::pair<std::string, Json>> extra_responses;
  // The registry serving this request (read_blob asks its blob resolver).
  const MethodRegistry* registry = nullptr;
  // The account's state as the first reading method of this request read it, for the reading
  // methods after it (a webmail page is Email/query + Email/get: one read, not two). Older than
  // what a later method reads, never newer: /changes from it may repeat a change, never miss one.
  // Forgotten before any method that may write (api.cpp).
  std::optional<std::string> read_state;
};

// The JMAP accountId of an account: "a" + its decimal id ("a42").
std::string account_id_string(store::AccountId id);

// Blobs (RFC 8620 6): an uploaded blob and a message's raw bytes have the id "G" + the 64 hex
// digits of the bytes' SHA-256 (content-addressed, so an upload of a message's bytes and the
// message share one id). Other shapes (e.g. a MIME part of a message) are the mail methods'
// to resolve through MethodRegistry::set_blob_resolver.
struct BlobContent {
  std::string data;
  std::string type = "application/octet-stream";
};
std::string blob_id_for_sha256(std::string_view raw_digest);  // 32 raw bytes -> "G" + hex
// Reads a blob the authenticated account may see: its unexpired uploads, its messages' raw
// bytes, then the mail resolver. nullopt = not found (or not this account's).
awaitable<std::optional<BlobContent>> read_blob(std::string blob_id, RequestContext& ctx);
// Only the "G" ids (uploads and whole messages by content), never the resolver: what a blob
// resolver calls for ids it does not know (read_blob would come back to it).
awaitable<std::optional<BlobContent>> read_stored_blob(std::string blob_id, RequestContext& ctx);

// "#k" -> the id created for k earlier in this request (RFC 8620 5.3); any other string is
// returned unchanged; nullopt for "#k" with no such creation id.
std::optional<std::string> resolve_creation_id(const std::string& id, const RequestContext& ctx);

// State strings (RFC 8620 1.2 / 5.1): Email, Mailbox and Thread states are the account's
// modseq counter (accounts.modseq) as a decimal string; the push stream sends the same.

// Returns the response arguments; throws MethodError for a method-level error.
using MethodHandler = std::function<awaitable<Json>(const Json& arguments, RequestContext& ctx)>;

class MethodRegistry {
 public:
  struct Entry {
    std::string capability;
    MethodHandler handler;
  };
  void add(std::string name, std::string capability, MethodHandler handler) {
    capabilities_.try_emplace(capability);
    methods_[std::move(name)] = Entry{std::move(capability), std::move(handler)};
  }
  const Entry* find(const std::string& name) const {
    auto it = methods_.find(name);
    return it == methods_.end() ? nullptr : &it->second;
  }

  // What the session resource (RFC 8620 2) says of a capability: its object under
  // "capabilities" and under the account's "accountCapabilities". A capability that methods
  // are registered under is announced with empty objects unless set here.
  struct CapabilityInfo {
    Json session = Json::object();
    Json account = Json::object();
  };
  void set_capability(const std::string& name, Json session, Json account) {
    capabilities_[name] = CapabilityInfo{std::move(session), std::move(account)};
  }
  const std::map<std::string, CapabilityInfo>& capabilities() const { return capabilities_; }

  // Blob ids that are not uploads or whole messages (see BlobContent).
  using BlobResolver = std::function<awaitable<std::optional<BlobContent>>(
      const std::string& blob_id, RequestContext& ctx)>;
  void set_blob_resolver(BlobResolver resolver) { blob_resolver_ = std::move(resolver); }
  const BlobResolver& blob_resolver() const { return blob_resolver_; }

 private:
  std::map<std::string, Entry> methods_;
  std::map<std::string, CapabilityInfo> capabilities_;
  BlobResolver blob_resolver_;
};

// Core/echo and the other core-capability methods (jmap core helper).
void register_core_methods(MethodRegistry& registry);
// Mailbox, Thread, Email, SearchSnippet, Identity, EmailSubmission, VacationResponse (jmap mail
// helper); each file under src/mail/ registers its own type.
void register_mail_methods(MethodRegistry& registry);

}  // namespace govmail::webmail::jmap
