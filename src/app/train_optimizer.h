// The optimizer of the `train` job (app/train.h): LibTorch's Adam or SGD over model.parameters(),
// its state written as torch.optim.Optimizer.state_dict() lays it out and read back from a
// training checkpoint (cnnscope's or PyTorch's last.pth) for a resume. Leaves out: the training
// loop (app/train.cpp) and the model's weights (loaded by the caller).
#pragma once

#include <torch/optim/optimizer.h>

#include <memory>
#include <string>
#include <vector>

#include "app/train.h"
#include "checkpoint/writer.h"
#include "models/network.h"

namespace cnnscope::app {

// model.parameters(): the state_dict's tensors that require grad, in its order.
std::vector<at::Tensor> parameters(const models::Network& net);

// Adam or SGD with the options' lr, betas/momentum and weight decay.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const TrainOptions& options,
                                                        const std::vector<at::Tensor>& params);

// optimizer.state_dict() as torch 2.15 writes it.
PyValue optimizer_state(const TrainOptions& options, torch::optim::Optimizer& opt,
                        const std::vector<at::Tensor>& params);

// What a training checkpoint says besides the weights.
struct Resumed {
  int64_t epoch = 0;
  double best_val_acc = 0;
};

// Reads epoch, best_val_acc and the optimizer state of the checkpoint `path` into `opt`; throws
// Error naming it when a key is missing or the state does not fit `params`.
Resumed resume_optimizer(const std::string& path, const TrainOptions& options,
                         torch::optim::Optimizer& opt, const std::vector<at::Tensor>& params);

}  // namespace cnnscope::app
