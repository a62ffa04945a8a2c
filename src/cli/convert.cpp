// `cnnscope convert CKPT OUT.safetensors|OUT.pth`: writes the checkpoint's state_dict as
// safetensors (dtypes kept) or as a torch.save zip file; the output appears whole or not at all.
#include <fmt/format.h>

#include <cstdio>

#include "checkpoint/state_dict.h"
#include "checkpoint/writer.h"
#include "cli/command.h"
#include "cli/flags.h"
#include "cli/print.h"
#include "common/error.h"
#include "common/text.h"

namespace cnnscope::cli {
namespace {

struct ConvertFlags {
  std::string input;
  std::string output;
  std::string key;
};

void run_convert(const ConvertFlags& o) {
  const bool to_safetensors = ends_with(o.output, ".safetensors");
  const bool to_pth = ends_with(o.output, ".pth") || ends_with(o.output, ".pt");
  if (!to_safetensors && !to_pth)
    fail(o.output, "unknown output format", "name it .safetensors, .pth or .pt");
  StateDict sd = load_state_dict(o.input, {o.key});
  if (to_safetensors)
    save_safetensors(sd, o.output);
  else
    save_pth(sd, o.output);
  print("%s\n", fmt::format("wrote {} ({} tensors, {})", o.output, sd.tensors.size(),
                            to_safetensors ? "safetensors" : "torch.save zip")
                    .c_str());
}

const Register reg{
    {"convert", "write a checkpoint's state_dict as safetensors or as a torch.save .pth",
     [](CLI::App& sub) {
       auto o = std::make_shared<ConvertFlags>();
       add_checkpoint(sub, o->input);
       sub.add_option("OUT", o->output, "OUT.safetensors, OUT.pth or OUT.pt")->required();
       add_key(sub, o->key);
       return [o] { run_convert(*o); };
     },
     11}};

}  // namespace
}  // namespace cnnscope::cli
