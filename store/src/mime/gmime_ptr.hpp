// RAII for the GMime/GLib objects the MIME code touches: the one place that knows how each is
// freed.
#pragma once
#include <gmime/gmime.h>

#include <memory>

namespace govmail::store::mime {

struct GObjectUnref {
  void operator()(void* p) const {
    if (p != nullptr) g_object_unref(p);
  }
};
template <class T>
using GObjectPtr = std::unique_ptr<T, GObjectUnref>;

struct GFree {
  void operator()(void* p) const { g_free(p); }
};
using GCharPtr = std::unique_ptr<char, GFree>;

struct GDateTimeUnref {
  void operator()(GDateTime* p) const {
    if (p != nullptr) g_date_time_unref(p);
  }
};
using GDateTimePtr = std::unique_ptr<GDateTime, GDateTimeUnref>;

}  // namespace govmail::store::mime
