// `cnnscope init ARCH -o FILE.pth [--num-classes N] [--seed S]`: a fresh network initialized as the
// seed does (kaiming normal fan_out convs, normal(0, 0.01) linears, zero biases, BN 1/0), saved
// with the torch.save writer so Python's torch.load reads it. Deterministic for a seed.
#include <cstdio>

#include "checkpoint/writer.h"
#include "cli/command.h"
#include "cli/flags.h"
#include "cli/print.h"
#include "common/text.h"
#include "models/network.h"

namespace cnnscope::cli {
namespace {

struct InitFlags {
  models::InitOptions job;
  std::string out;
};

void run_init(const InitFlags& f) {
  const models::Network net = models::init_network(f.job);
  const StateDict sd = net.state_dict();
  if (ends_with(f.out, ".safetensors"))
    save_safetensors(sd, f.out);
  else
    save_pth(sd, f.out);
  print("%s: %s, %lld parameters, seed %llu\n", f.out.c_str(), net.info().description.c_str(),
        static_cast<long long>(net.num_parameters()), static_cast<unsigned long long>(f.job.seed));
}

const Register reg{
    {"init", "a fresh network of any family, initialized as the seed does",
     [](CLI::App& sub) {
       auto f = std::make_shared<InitFlags>();
       sub.add_option("ARCH", f->job.arch, "network (the names: cnnscope summary --list-archs)")
           ->check(names("arch", models::known_archs(), "see cnnscope summary --list-archs"))
           ->required();
       add_out(sub, f->out, "output .pth (or .safetensors)")->required();
       sub.add_option("--num-classes", f->job.num_classes, "outputs of the last layer")
           ->capture_default_str()
           ->check(at_least(1));
       add_seed(sub, f->job.seed, "initialization");
       return [f] { run_init(*f); };
     },
     15}};

}  // namespace
}  // namespace cnnscope::cli
