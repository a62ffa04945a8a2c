// `cnnscope init ARCH -o FILE.pth [--num-classes N] [--seed S]`: a fresh network initialized as the
// seed does (kaiming normal fan_out convs, normal(0, 0.01) linears, zero biases, BN 1/0), saved
// with the torch.save writer so Python's torch.load reads it. Deterministic for a seed.
#include <cstdio>

#include "checkpoint/writer.h"
#include "cli/command.h"
#include "common/error.h"
#include "models/network.h"

namespace cnnscope::cli {
namespace {

constexpr int64_t kDefaultClasses = 1000;

struct Args {
  std::string arch;
  std::string out;
  int64_t num_classes = kDefaultClasses;
  uint64_t seed = 0;
};

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

void run(const Args& a) {
  models::Network net = models::init_network({a.arch, a.num_classes, a.seed});
  StateDict sd = net.state_dict();
  if (ends_with(a.out, ".safetensors"))
    save_safetensors(sd, a.out);
  else
    save_pth(sd, a.out);
  std::printf("%s: %s, %lld parameters, seed %llu\n", a.out.c_str(), net.info().description.c_str(),
              static_cast<long long>(net.num_parameters()),
              static_cast<unsigned long long>(a.seed));
}

std::function<void()> setup(CLI::App& sub) {
  auto args = std::make_shared<Args>();
  std::string archs;
  for (const std::string& name : models::known_archs()) archs += (archs.empty() ? "" : ", ") + name;
  sub.add_option("arch", args->arch, "network: " + archs)->required();
  sub.add_option("-o,--output", args->out, "output .pth (or .safetensors)")->required();
  sub.add_option("--num-classes", args->num_classes, "outputs of the last layer (default 1000)");
  sub.add_option("--seed", args->seed, "random seed (default 0)");
  return [args] { run(*args); };
}

const Register reg{
    {"init", "a fresh network of any family, initialized as the seed does", setup, 15}};

}  // namespace
}  // namespace cnnscope::cli
