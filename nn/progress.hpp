// Moved to <nn/train/progress.hpp>; this path stays so that existing includes compile.
#pragma once

#include "nn/train/progress.hpp"
