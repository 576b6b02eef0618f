#include "host/api/views.h"

#include "quay/digest.h"

namespace quayd {

void WriteAvatar(Json& j, std::string_view name, std::string_view kind) {
  const quay::Digest hash = quay::Digest::Of(name);
  j.Key("avatar").Object().Field("name", name).Field("hash", hash.hex());
  j.Field("color", "#" + std::string(hash.hex().substr(0, 6))).Field("kind", kind).End();
}

void WriteEntity(Json& j, std::string_view name, std::string_view kind) {
  j.Field("name", name).Field("kind", kind).Field("is_robot", kind == "robot");
  WriteAvatar(j, name, kind);
}

}  // namespace quayd
