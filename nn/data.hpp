// Moved to <nn/io/data.hpp>; this path stays so that existing includes compile.
#pragma once

#include "nn/io/data.hpp"
