// assemble_apng (see apng.h): parses each frame's chunks (length, type, data, CRC), keeps the
// first frame's IHDR, writes acTL and one fcTL per frame, and each frame's IDAT data as IDAT
// (frame 0) or fdAT with a sequence number. CRC-32 of chunks via Boost.CRC.
#include "render/apng.h"

#include <boost/crc.hpp>

#include <cstdint>
#include <cstring>

#include "common/error.h"

namespace cnnscope {
namespace {

constexpr char kSignature[] = "\x89PNG\r\n\x1a\n";
constexpr size_t kSignatureSize = 8;

struct Chunk {
  std::string type;
  std::string data;
};

uint32_t read_u32(const std::string& s, size_t at) {
  return (uint32_t(uint8_t(s[at])) << 24) | (uint32_t(uint8_t(s[at + 1])) << 16) |
         (uint32_t(uint8_t(s[at + 2])) << 8) | uint32_t(uint8_t(s[at + 3]));
}

void put_u32(std::string& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((v >> shift) & 0xff);
}

void put_u16(std::string& out, uint16_t v) {
  out += static_cast<char>(v >> 8);
  out += static_cast<char>(v & 0xff);
}

void put_chunk(std::string& out, const std::string& type, const std::string& data) {
  put_u32(out, static_cast<uint32_t>(data.size()));
  boost::crc_32_type crc;
  crc.process_bytes(type.data(), type.size());
  crc.process_bytes(data.data(), data.size());
  out += type + data;
  put_u32(out, crc.checksum());
}

std::vector<Chunk> chunks_of(const std::string& png, size_t frame) {
  if (png.size() < kSignatureSize || png.compare(0, kSignatureSize, kSignature) != 0)
    fail("", "frame " + std::to_string(frame) + " is not a PNG");
  std::vector<Chunk> out;
  for (size_t at = kSignatureSize; at + 12 <= png.size();) {
    const uint32_t length = read_u32(png, at);
    if (length > png.size() - at - 12)
      fail("", "frame " + std::to_string(frame) + ": PNG chunk runs past the end");
    out.push_back({png.substr(at + 4, 4), png.substr(at + 8, length)});
    at += 12 + length;
  }
  return out;
}

}  // namespace

std::string assemble_apng(const std::vector<std::string>& frames, int delay_ms) {
  if (frames.empty()) fail("", "an animation needs at least one frame");
  std::string ihdr;
  std::vector<std::vector<std::string>> data(frames.size());  // IDAT payloads per frame
  for (size_t f = 0; f < frames.size(); ++f) {
    for (const Chunk& c : chunks_of(frames[f], f)) {
      if (c.type == "IHDR") {
        if (f == 0) ihdr = c.data;
        if (c.data != ihdr)
          fail("", "frame " + std::to_string(f) + " differs in size or format from frame 0");
      } else if (c.type == "IDAT") {
        data[f].push_back(c.data);
      }
    }
    if (ihdr.size() != 13 || data[f].empty())
      fail("", "frame " + std::to_string(f) + " has no IHDR or no image data");
  }
  std::string out(kSignature, kSignatureSize);
  put_chunk(out, "IHDR", ihdr);
  std::string actl;
  put_u32(actl, static_cast<uint32_t>(frames.size()));
  put_u32(actl, 0);  // loop forever
  put_chunk(out, "acTL", actl);
  uint32_t sequence = 0;
  for (size_t f = 0; f < frames.size(); ++f) {
    std::string fctl;
    put_u32(fctl, sequence++);
    fctl += ihdr.substr(0, 8);  // width, height
    put_u32(fctl, 0);           // x offset
    put_u32(fctl, 0);           // y offset
    put_u16(fctl, static_cast<uint16_t>(delay_ms));
    put_u16(fctl, 1000);
    fctl += '\0';  // dispose: none
    fctl += '\0';  // blend: source
    put_chunk(out, "fcTL", fctl);
    for (const std::string& d : data[f]) {
      if (f == 0) {
        put_chunk(out, "IDAT", d);
      } else {
        std::string fdat;
        put_u32(fdat, sequence++);
        put_chunk(out, "fdAT", fdat + d);
      }
    }
  }
  put_chunk(out, "IEND", "");
  return out;
}

}  // namespace cnnscope
