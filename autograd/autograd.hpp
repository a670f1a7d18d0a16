// Everything a user of the engine needs: `#include <autograd/autograd.hpp>`.
#pragma once

#include "autograd/backward.hpp"
#include "autograd/grad_mode.hpp"
#include "autograd/gradcheck.hpp"
#include "autograd/graph.hpp"
#include "autograd/ops.hpp"
#include "autograd/parallel.hpp"
#include "autograd/tape.hpp"
#include "autograd/tensor.hpp"
#include "autograd/variable.hpp"
