// A TorchScript archive whose __setstate__ saves a file and whose state is a dict of tensors (so
// the state_dict reader accepts it; oracle: make_models_torchscript_setstate.py): build_network
// refuses its class (compiled, never run) before any object is restored, and the file
// never appears.
#include <gtest/gtest.h>

#include <filesystem>

#include "common/error.h"
#include "models/parity.h"

namespace cnnscope::models {
namespace {

TEST(TorchScriptSetstate, TensorStateIsReadButSetstateNeverRuns) {
  const std::string path = cnnscope::testing::fixture("models_ts_setstate_tensors.pt");
  const std::string written = cnnscope::testing::fixture("models_ts_setstate_written.pt");
  std::filesystem::remove(written);
  const StateDict sd = load_state_dict(path);  // the state's tensors, read without running
  ASSERT_EQ(sd.format, "torchscript");
  try {
    build_network(sd);
    ADD_FAILURE() << "not refused";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("defines __setstate__, which loading would run"), std::string::npos)
        << message;
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
  EXPECT_FALSE(std::filesystem::exists(written));
}

}  // namespace
}  // namespace cnnscope::models
