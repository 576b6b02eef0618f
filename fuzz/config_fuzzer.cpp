// quayd's configuration file parser (host/cmd/config_file.h) on arbitrary
// text: YAML syntax, every known key's value rules, unknown keys. Checked:
// nothing throws out of ApplyConfigText (quayd would die on a bad file
// instead of naming the problem), a refused file leaves the settings as they
// were, and durations stay within their documented ten-year bound.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "host/cmd/config_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  quayd::ServeFlags flags;
  std::vector<std::string> warnings;
  const quay::Status applied = quayd::ApplyConfigText(text, flags, warnings);
  if (!applied.ok()) {
    const quayd::ServeFlags untouched;
    if (flags.data_dir != untouched.data_dir || flags.port != untouched.port ||
        flags.host != untouched.host || flags.threads != untouched.threads) {
      std::abort();
    }
  }

  const std::optional<std::chrono::seconds> d = quayd::ParseDuration(text);
  if (d && (d->count() < 0 || d->count() > int64_t{10} * 366 * 86400)) std::abort();
  return 0;
}
