// .npy writer (version 1.0, C order, little-endian) and reader (versions 1.0-3.0, C or Fortran
// order, little-endian or byte-sized dtypes). Leaves out: structured and object dtypes, big-endian.
// Spec: numpy.lib.format (NEP 1).
#include "common/npy.h"

#include <cstring>

#include "common/atomic_file.h"
#include "common/error.h"
#include "common/mapped_file.h"

namespace cnnscope {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicBytes = 6;
constexpr size_t kAlignment = 64;  // numpy pads the header so the data starts on 64 bytes
constexpr size_t kMaxHeaderBytes = 1u << 20;

struct NpyType {
  at::ScalarType scalar_type;
  const char* descr;
};

constexpr NpyType kTypes[] = {
    {at::kFloat, "<f4"}, {at::kDouble, "<f8"}, {at::kHalf, "<f2"},
    {at::kLong, "<i8"},  {at::kInt, "<i4"},    {at::kShort, "<i2"},
    {at::kChar, "|i1"},  {at::kByte, "|u1"},   {at::kBool, "|b1"},
};

const NpyType* type_for(at::ScalarType t) {
  for (const NpyType& n : kTypes)
    if (n.scalar_type == t) return &n;
  return nullptr;
}

// numpy writes '<' for little-endian and '|' for one-byte types; '=' (native) is little-endian
// here.
const NpyType* type_for_descr(const std::string& descr) {
  if (descr.size() != 3 || (descr[0] != '<' && descr[0] != '|' && descr[0] != '=')) return nullptr;
  for (const NpyType& n : kTypes)
    if (descr.compare(1, 2, n.descr + 1) == 0) return &n;
  return nullptr;
}

std::string python_tuple(at::IntArrayRef sizes) {
  std::string s = "(";
  for (size_t i = 0; i < sizes.size(); ++i) s += std::to_string(sizes[i]) + ", ";
  if (sizes.size() > 1) s.resize(s.size() - 2);
  if (sizes.size() == 1) s.resize(s.size() - 1);
  return s + ")";
}

// The value after `'key':` in the header dict, up to the next top-level ',' or '}'.
std::string dict_value(const std::string& header, const std::string& key, const std::string& path) {
  const std::string quoted_single = "'" + key + "'";
  const std::string quoted_double = "\"" + key + "\"";
  size_t at = header.find(quoted_single);
  size_t len = quoted_single.size();
  if (at == std::string::npos) {
    at = header.find(quoted_double);
    len = quoted_double.size();
  }
  if (at == std::string::npos) fail(path, "npy header has no '" + key + "'", "not a .npy file?");
  size_t colon = header.find(':', at + len);
  if (colon == std::string::npos) fail(path, "npy header: no ':' after '" + key + "'");
  size_t begin = colon + 1;
  while (begin < header.size() && header[begin] == ' ') ++begin;
  size_t end = begin;
  int depth = 0;
  while (end < header.size()) {
    char c = header[end];
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (depth == 0 && (c == ',' || c == '}')) break;
    ++end;
  }
  std::string v = header.substr(begin, end - begin);
  while (!v.empty() && v.back() == ' ') v.pop_back();
  return v;
}

std::vector<int64_t> parse_shape(const std::string& text, const std::string& path) {
  if (text.size() < 2 || text.front() != '(' || text.back() != ')')
    fail(path, "npy header: bad shape " + text, "expected a tuple such as (3, 224, 224)");
  std::vector<int64_t> shape;
  size_t i = 1;
  while (i < text.size() - 1) {
    while (i < text.size() - 1 && (text[i] == ' ' || text[i] == ',')) ++i;
    if (i >= text.size() - 1) break;
    size_t j = i;
    while (j < text.size() - 1 && text[j] >= '0' && text[j] <= '9') ++j;
    if (j == i || j - i > 18) fail(path, "npy header: bad shape " + text);
    shape.push_back(std::stoll(text.substr(i, j - i)));
    i = j;
    while (i < text.size() - 1 && text[i] == ' ') ++i;
    if (i < text.size() - 1 && text[i] != ',') fail(path, "npy header: bad shape " + text);
  }
  return shape;
}

}  // namespace

std::string npy_bytes(const at::Tensor& tensor) {
  at::Tensor t = tensor.detach().to(at::kCPU);
  if (t.scalar_type() == at::kBFloat16) t = t.to(at::kFloat);
  const NpyType* type = type_for(t.scalar_type());
  if (!type)
    fail("", "cannot write dtype " + std::string(c10::toString(t.scalar_type())) + " as .npy");
  t = t.contiguous();
  std::string header = "{'descr': '" + std::string(type->descr) +
                       "', 'fortran_order': False, 'shape': " + python_tuple(t.sizes()) + ", }";
  const size_t prefix = kMagicBytes + 2 + 2;
  // numpy's _wrap_header: a whole extra block of spaces when already aligned.
  const size_t total = prefix + header.size() + 1;
  header.append(kAlignment - total % kAlignment, ' ');
  header += '\n';
  std::string out(kMagic, kMagicBytes);
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>((header.size() >> 8) & 0xff);
  out += header;
  out.append(static_cast<const char*>(t.data_ptr()), t.numel() * t.element_size());
  return out;
}

void write_npy(const std::string& path, const at::Tensor& tensor) {
  AtomicFile out(path);
  std::string bytes;
  try {
    bytes = npy_bytes(tensor);
  } catch (const Error& e) {
    fail(path, e.what(), "", e.settings());
  }
  out.write(bytes);
  out.commit();
}

at::Tensor read_npy(const std::string& path) {
  std::shared_ptr<const MappedFile> file = MappedFile::open(path);
  const uint8_t* p = file->data();
  const size_t size = file->size();
  if (size < kMagicBytes + 4 || std::memcmp(p, kMagic, kMagicBytes) != 0)
    fail(path, "not a .npy file (no \\x93NUMPY magic)", "write it with numpy.save");
  const int major = p[kMagicBytes];
  size_t header_len = 0;
  size_t prefix = 0;
  if (major == 1) {
    header_len = p[8] | (p[9] << 8);
    prefix = 10;
  } else if (major == 2 || major == 3) {
    if (size < 12) fail(path, "truncated .npy header");
    header_len = static_cast<size_t>(p[8]) | (static_cast<size_t>(p[9]) << 8) |
                 (static_cast<size_t>(p[10]) << 16) | (static_cast<size_t>(p[11]) << 24);
    prefix = 12;
  } else {
    fail(path, "unsupported .npy version " + std::to_string(major), "expected 1, 2 or 3");
  }
  if (header_len > kMaxHeaderBytes || prefix + header_len > size)
    fail(path, "truncated .npy header (" + std::to_string(header_len) + " bytes announced, " +
                   std::to_string(size) + " in the file)");
  const std::string header(reinterpret_cast<const char*>(p + prefix), header_len);
  std::string descr = dict_value(header, "descr", path);
  if (descr.size() < 2 || (descr.front() != '\'' && descr.front() != '"'))
    fail(path, "npy header: unsupported descr " + descr);
  descr = descr.substr(1, descr.size() - 2);
  const NpyType* type = type_for_descr(descr);
  if (!type)
    fail(path, "unsupported .npy dtype '" + descr + "'",
         "expected little-endian float32/float64/float16/int/uint8/bool");
  const std::string order = dict_value(header, "fortran_order", path);
  if (order != "False" && order != "True") fail(path, "npy header: bad fortran_order " + order);
  std::vector<int64_t> shape = parse_shape(dict_value(header, "shape", path), path);

  const size_t element = c10::elementSize(type->scalar_type);
  size_t numel = 1;
  for (int64_t d : shape) {
    if (d != 0 && numel > (size - prefix - header_len) / static_cast<size_t>(d))
      fail(path, "truncated .npy data: shape " + python_tuple(shape) + " does not fit in the file");
    numel *= static_cast<size_t>(d);
  }
  const size_t data_bytes = numel * element;
  if (data_bytes > size - prefix - header_len)
    fail(path, "truncated .npy data: " + std::to_string(data_bytes) + " bytes expected, " +
                   std::to_string(size - prefix - header_len) + " present");
  const uint8_t* data = p + prefix + header_len;
  if (order == "True") {
    std::vector<int64_t> reversed(shape.rbegin(), shape.rend());
    at::Tensor t = at::empty(reversed, at::TensorOptions().dtype(type->scalar_type));
    if (data_bytes) std::memcpy(t.data_ptr(), data, data_bytes);
    std::vector<int64_t> dims;
    for (int64_t i = static_cast<int64_t>(shape.size()) - 1; i >= 0; --i) dims.push_back(i);
    return t.permute(dims).contiguous();
  }
  at::Tensor t = at::empty(shape, at::TensorOptions().dtype(type->scalar_type));
  if (data_bytes) std::memcpy(t.data_ptr(), data, data_bytes);
  return t;
}

}  // namespace cnnscope
