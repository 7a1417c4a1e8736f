// config_value.hpp (private): parsing one option's text by its declared type.
#pragma once

#include <string>
#include <string_view>

#include "prio/runtime/config.hpp"

namespace prio::detail {

// trim() drops spaces and tabs (and a CR, for CRLF files) at both ends.
std::string_view trim(std::string_view s) noexcept;

// parse_option_value() parses text (already trimmed) as spec's type into out
// (text, i, u). On failure it returns false and says why, e.g. "expected an
// unsigned integer". out.from and out.line are left to the caller.
bool parse_option_value(const option_spec& spec, std::string_view text, option_value& out,
                        std::string& why);

}  // namespace prio::detail
