#include "storage/object_store.hpp"

namespace thumbflow::storage {

Result<std::string> ObjectStore::get_bytes(const ObjectRef& ref, const GetOptions& opts) {
  std::string out;
  auto meta = get(
      ref,
      [&](std::string_view chunk) -> Status {
        if (opts.max_bytes && out.size() + chunk.size() > opts.max_bytes)
          return make_error(ErrorKind::too_large, ref.uri() + " is larger than " + std::to_string(opts.max_bytes) +
                                                      " bytes");
        out.append(chunk);
        return ok_status();
      },
      opts);
  if (!meta) return meta.error();
  return out;
}

}  // namespace thumbflow::storage
