// Delivery reports owed to senders (RFC 3464): built from the queue's report rows and delivered
// through the normal path (Backend::deliver): into the sender's INBOX when the sender is local,
// queued with the null reverse-path when remote (so that a report never causes another one).
#pragma once
#include <string>
#include <vector>

#include "core/awaitable_fwd.hpp"
#include "store/error.hpp"
#include "store/outbound.hpp"

namespace govmail::smtp {
class Backend;
}

namespace govmail::smtp::outbound {

// One report per queue entry and kind; fails (so that the rows stay owed) only on a store error
// that may pass. A local sender that no longer exists, or whose mailbox is full, gets nothing
// (logged): the rows are cleared.
awaitable<store::Result<void>> send_reports(const std::string& hostname,
                                            store::OutboundQueue& queue, Backend& backend,
                                            std::vector<store::ReportItem> items);

}  // namespace govmail::smtp::outbound
