// Everything of nn: `#include <nn/nn.hpp>`.
//
// The modelling code sits at the top of nn/: modules and layers, initialisation and its random
// generator, losses, optimizers, pictures of what a network learned. Around it, apart:
//   nn/io/     file formats and data: IDX (MNIST), .npz checkpoints, PNG, batches of a data set
//   nn/train/  what a training run shows: the progress bar and the learning curve
#pragma once

// The model.
#include "nn/autoencoder.hpp"
#include "nn/convolution.hpp"
#include "nn/dbn.hpp"
#include "nn/inception.hpp"
#include "nn/init.hpp"
#include "nn/layers.hpp"
#include "nn/losses.hpp"
#include "nn/module.hpp"
#include "nn/optim.hpp"
#include "nn/random.hpp"
#include "nn/rbm.hpp"
#include "nn/rbm_estimates.hpp"
#include "nn/rbm_training.hpp"
#include "nn/stacked_autoencoder.hpp"
#include "nn/visualize.hpp"

// Files, data, and training output.
#include "nn/io/checkpoint.hpp"
#include "nn/io/data.hpp"
#include "nn/io/png.hpp"
#include "nn/train/progress.hpp"
