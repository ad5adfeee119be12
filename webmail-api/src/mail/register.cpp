#include "mail/register.hpp"

#include "jmap/method.hpp"
#include "mail/blob.hpp"

namespace govmail::webmail::mail {
namespace {

awaitable<jmap::Json> run_guarded(jmap::MethodHandler h, const jmap::Json& args,
                                  jmap::RequestContext& ctx) {
  try {
    co_return co_await h(args, ctx);
  } catch (const nlohmann::json::exception& e) {
    throw jmap::MethodError{"invalidArguments", std::string("Malformed argument: ") + e.what()};
  }
}

}  // namespace

jmap::MethodHandler guarded(jmap::MethodHandler h) {
  return [h = std::move(h)](const jmap::Json& args, jmap::RequestContext& ctx) {
    return run_guarded(h, args, ctx);
  };
}

}  // namespace govmail::webmail::mail

namespace govmail::webmail::jmap {

namespace {

awaitable<std::optional<BlobContent>> part_blob(const std::string& blob_id, RequestContext& ctx) {
  co_return co_await mail::resolve_part_blob(blob_id, ctx);
}

}  // namespace

void register_mail_methods(MethodRegistry& registry) {
  // RFC 8621 1.3: what the session resource announces per account.
  registry.set_capability(
      std::string(kMailCapability), Json::object(),
      Json{{"maxMailboxesPerEmail", nullptr},
           {"maxMailboxDepth", nullptr},
           {"maxSizeMailboxName", 1000},
           {"maxSizeAttachmentsPerEmail", 50000000},
           {"emailQuerySortOptions", {"receivedAt", "size", "from", "to", "subject", "sentAt"}},
           {"mayCreateTopLevelMailbox", true}});
  registry.set_capability(std::string(kSubmissionCapability), Json::object(),
                          Json{{"maxDelayedSend", 0}, {"submissionExtensions", Json::object()}});
  registry.set_capability(std::string(kVacationCapability), Json::object(), Json::object());
  registry.set_capability(std::string(kDirectoryCapability), Json::object(), Json::object());
  registry.set_blob_resolver(part_blob);
  mail::register_mailbox_methods(registry);
  mail::register_email_methods(registry);
  mail::register_email_set_methods(registry);
  mail::register_thread_methods(registry);
  mail::register_identity_methods(registry);
  mail::register_submission_methods(registry);
  mail::register_vacation_methods(registry);
  mail::register_directory_methods(registry);
}

}  // namespace govmail::webmail::jmap
