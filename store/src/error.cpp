#include "store/error.hpp"

namespace govmail::store {

std::string_view to_string(StoreError e) {
  switch (e) {
    case StoreError::temporary:
      return "temporary failure";
    case StoreError::unavailable:
      return "database unavailable";
    case StoreError::permanent:
      return "internal error";
    case StoreError::not_found:
      return "not found";
    case StoreError::exists:
      return "already exists";
    case StoreError::limit:
      return "limit reached";
    case StoreError::too_big:
      return "too big";
    case StoreError::over_quota:
      return "over quota";
    case StoreError::conflict:
      return "conflict";
    case StoreError::invalid:
      return "invalid argument";
  }
  return "unknown error";
}

}  // namespace govmail::store
