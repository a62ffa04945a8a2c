// serve's error answers (serve/http_server.h): error_json() escapes control characters and bytes
// that are not UTF-8, joins a message's lines, and stays within kMaxErrorBytes; quote_text() cuts
// what it quotes from a request at kMaxQuotedBytes, never inside a UTF-8 character.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "common/escape.h"
#include "serve/http_server.h"

namespace cnnscope::serve {
namespace {

std::string error_of(const std::string& what) {
  return nlohmann::json::parse(error_json(what)).at("error").get<std::string>();
}

TEST(ErrorJson, EscapesControlsAndInvalidBytes) {
  EXPECT_EQ(error_of("bad \x1b[31m\xff name"), "bad \\x1b[31m\\xff name");
}

TEST(ErrorJson, JoinsTheLinesOfAMessage) {
  EXPECT_EQ(error_of("what\nhint one\nhint two"), "what; hint one; hint two");
}

TEST(ErrorJson, CutsALongMessage) {
  const std::string long_text(5000, 'x');
  const std::string got = error_of("no image named " + long_text);
  EXPECT_LE(got.size(), kMaxErrorBytes);
  EXPECT_EQ(got.substr(got.size() - 3), "...");
  EXPECT_EQ(got.rfind("no image named x", 0), 0U);
}

TEST(QuoteText, KeepsShortTextWhole) {
  EXPECT_EQ(quote_text("chelsea.png"), "'chelsea.png'");
}

TEST(QuoteText, CutsLongTextAtACharacterBoundary) {
  std::string text;
  for (int i = 0; i < 100; ++i) text += "\xc3\xa9";  // "é", two bytes
  const std::string got = quote_text(text);
  EXPECT_LE(got.size(), kMaxQuotedBytes + 2);  // the quotes
  EXPECT_EQ(got.substr(got.size() - 4), "...'");
  EXPECT_TRUE(is_utf8(got));
}

TEST(QuoteText, EscapesControlCharacters) {
  EXPECT_EQ(quote_text("a\nb"), "'a\\x0ab'");
}

}  // namespace
}  // namespace cnnscope::serve
