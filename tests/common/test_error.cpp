// common/error.h: fail() builds one line "FILE: what (hint)" with the file's control characters
// escaped (a name holding a newline does not split it), and carries what the user should set as
// settings in the library's names, beside the message, never inside it.
#include <gtest/gtest.h>

#include <string>

#include "common/error.h"

namespace cnnscope {
namespace {

TEST(Error, FileNameWithNewlineStaysOnOneLine) {
  try {
    fail("a\nb.pth", "not a checkpoint", "a hint");
    FAIL() << "fail() returned";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    EXPECT_EQ(message, "a\\x0ab.pth: not a checkpoint (a hint)");
  }
}

TEST(Error, SettingsTravelBesideTheMessage) {
  try {
    fail("", "the network takes 28x28 images", "", {{"resize", "28"}, {"crop", "28"}});
    FAIL() << "fail() returned";
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "the network takes 28x28 images");
    ASSERT_EQ(e.settings().size(), 2u);
    EXPECT_EQ(e.settings()[0].name, "resize");
    EXPECT_EQ(e.settings()[0].value, "28");
    EXPECT_EQ(e.settings()[1].name, "crop");
  }
  EXPECT_TRUE(Error("plain").settings().empty());
}

}  // namespace
}  // namespace cnnscope
