// The name a process takes a database lease under (search indexer, archive checkpointer):
// host, pid and a random number, so that a restarted process on the same pid is another holder.
#pragma once
#include <string>

namespace govmail::core {

std::string lease_holder_name();

}  // namespace govmail::core
