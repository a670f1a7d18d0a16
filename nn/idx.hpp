// Moved to <nn/io/idx.hpp>; this path stays so that existing includes compile.
#pragma once

#include "nn/io/idx.hpp"
