// Each data type's file registers its methods (src/mail/register.cpp calls them all).
#pragma once
#include "jmap/method.hpp"

namespace govmail::webmail::mail {

void register_mailbox_methods(jmap::MethodRegistry& r);
void register_email_methods(jmap::MethodRegistry& r);
void register_email_set_methods(jmap::MethodRegistry& r);
void register_thread_methods(jmap::MethodRegistry& r);
void register_identity_methods(jmap::MethodRegistry& r);
void register_submission_methods(jmap::MethodRegistry& r);
void register_vacation_methods(jmap::MethodRegistry& r);
void register_directory_methods(jmap::MethodRegistry& r);

// Wraps a handler: a JSON value of the wrong type in the arguments (nlohmann type or range
// errors) becomes invalidArguments instead of a server failure.
jmap::MethodHandler guarded(jmap::MethodHandler h);

}  // namespace govmail::webmail::mail
