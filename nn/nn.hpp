// Everything of nn: `#include <nn/nn.hpp>`.
#pragma once

#include "nn/checkpoint.hpp"
#include "nn/data.hpp"
#include "nn/init.hpp"
#include "nn/layers.hpp"
#include "nn/losses.hpp"
#include "nn/module.hpp"
#include "nn/optim.hpp"
#include "nn/progress.hpp"
#include "nn/random.hpp"
