// Moved to <nn/io/checkpoint.hpp>; this path stays so that existing includes compile.
#pragma once

#include "nn/io/checkpoint.hpp"
