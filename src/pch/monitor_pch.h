// The monitor's files build QMP's JSON (nlohmann/json, ~25,000 lines)
// nearly all: precompiled with the rest of kestrel_pch.h.
#include "kestrel_pch.h"
#include <nlohmann/json.hpp>
