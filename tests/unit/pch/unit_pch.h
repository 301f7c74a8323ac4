// Precompiled for every unit test file: Catch2's single header costs
// seconds per file otherwise.
#include <catch2/catch.hpp>
