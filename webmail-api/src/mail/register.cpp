#include "mail/register.hpp"

#include "jmap/method.hpp"

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

void register_mail_methods(MethodRegistry& registry) {
  mail::register_mailbox_methods(registry);
  mail::register_email_methods(registry);
  mail::register_email_set_methods(registry);
  mail::register_thread_methods(registry);
  mail::register_identity_methods(registry);
  mail::register_submission_methods(registry);
  mail::register_vacation_methods(registry);
}

}  // namespace govmail::webmail::jmap
