// Content-Transfer-Encoding decoding, byte-exact (RFC 2045 6.7, 6.8): what BINARY returns.
#include <gtest/gtest.h>

#include "store/mime.hpp"

namespace {

using govmail::store::decode_transfer_encoding;

struct Case {
  std::string in;
  std::string out;
};

TEST(mimeTransfer, QuotedPrintableTable) {
  const Case cases[] = {
      {"abc", "abc"},
      {"a=3Db\r\n", "a=b\r\n"},
      {"soft=\r\nbreak\r\n", "softbreak\r\n"},
      {"soft=\nbare LF\n", "softbare LF\n"},
      {"padding   \t\r\nnext", "padding\r\nnext"},      // transport padding dropped
      {"kept=20\r\n", "kept \r\n"},                     // encoded space kept
      {"soft= \t\r\nx", "softx"},                       // padding after a soft break
      {"lower=e1=bb=81\r\n", "lower\xe1\xbb\x81\r\n"},  // lowercase hex
      {"bad=G1 =4 =\r\nend", "bad=G1 =4 end"},          // malformed '=' kept, soft break
      {"at end=", "at end"},
      {"at end=4", "at end=4"},
      {"=00nul", std::string("\0nul", 4)},
      {"", ""},
  };
  for (const auto& c : cases)
    EXPECT_EQ(decode_transfer_encoding(c.in, "quoted-printable"), c.out) << c.in;
  EXPECT_EQ(decode_transfer_encoding("a=3D\r\n", "Quoted-Printable"), "a=\r\n");
}

TEST(mimeTransfer, Base64Table) {
  const Case cases[] = {
      {"aGVsbG8=", "hello"},
      {"aGVs\r\nbG8=\r\n", "hello"},
      {" aG Vs\tbG8 =", "hello"},
      {"aGVsbG8=IGlnbm9yZWQ=", "hello"},  // nothing after the padding
      {"aGVsbA==", "hell"},
      {"aGVsbA", "hell"},  // padding missing
      {"aGVsb", "hel"},    // a lone final character carries nothing
      {"AAEC/w==", std::string("\0\1\2\xff", 4)},
      {"", ""},
  };
  for (const auto& c : cases) EXPECT_EQ(decode_transfer_encoding(c.in, "base64"), c.out) << c.in;
}

}  // namespace
