#include "nn/io/npy.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <bit>
#include <cctype>
#include <cstring>
#include <optional>
#include <string_view>

#include "nn/io/sizes.hpp"

namespace ag::nn::detail {

namespace {

constexpr std::string_view kMagic = "\x93NUMPY";
// numpy itself refuses headers over 10,000 bytes unless told otherwise; ours are ~100.
constexpr std::uint64_t kMaxHeader = 1 << 16;

template <class T>
constexpr const char* descr() {
  return sizeof(T) == 4 ? "<f4" : "<f8";
}

// The header for a message: printable, short, without numpy's padding.
std::string excerpt(std::string_view header) {
  while (!header.empty() && (header.back() == ' ' || header.back() == '\n')) header.remove_suffix(1);
  std::string out;
  for (const char c : header.substr(0, 120)) {
    if (c >= 0x20 && c < 0x7f) {
      out += c;
    } else {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    }
  }
  if (header.size() > 120) out += "...";
  return out;
}

// A recursive-descent reader of the one dict literal numpy writes:
// {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
class HeaderParser {
 public:
  explicit HeaderParser(std::string_view text) : text_(text) {}

  NpyLayout parse() {
    std::optional<std::string> descr;
    std::optional<bool> fortran;
    std::optional<Shape> shape;
    expect('{', "'{'");
    while (!eat('}')) {
      const std::string key = string();
      expect(':', "':' after a key");
      if (key == "descr") {
        if (descr) fail("'descr' appears twice");
        descr = string();
      } else if (key == "fortran_order") {
        if (fortran) fail("'fortran_order' appears twice");
        fortran = boolean();
      } else if (key == "shape") {
        if (shape) fail("'shape' appears twice");
        shape = tuple();
      } else {
        fail(fmt::format("unexpected key '{}' (numpy writes 'descr', 'fortran_order' and 'shape')", key));
      }
      if (!eat(',')) {
        expect('}', "',' or '}'");
        break;
      }
    }
    skip_space();
    if (at_ != text_.size()) fail("text after the closing '}'");
    if (!descr || !fortran || !shape) {
      fail(fmt::format("no '{}'", !descr ? "descr" : !fortran ? "fortran_order" : "shape"));
    }
    NpyLayout layout;
    if (*descr == "<f4" || *descr == ">f4") {
      layout.item = 4;
    } else if (*descr == "<f8" || *descr == ">f8") {
      layout.item = 8;
    } else {
      throw NpyError(
          fmt::format("stored as '{}'; only float32 and float64 load ('<f4', '<f8', or big-endian)", excerpt(*descr)));
    }
    layout.big_endian = (*descr)[0] == '>';
    if (*fortran) throw NpyError("stored in Fortran order (fortran_order: True), which does not load");
    layout.shape = std::move(*shape);
    return layout;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const { fail_at(at_, what); }
  [[noreturn]] void fail_at(std::size_t at, const std::string& what) const {
    throw NpyError(fmt::format("malformed header \"{}\": {} (at byte {})", excerpt(text_), what, at));
  }
  void skip_space() {
    while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\t' || text_[at_] == '\n' || text_[at_] == '\r'))
      ++at_;
  }
  bool eat(char c) {
    skip_space();
    if (at_ < text_.size() && text_[at_] == c) {
      ++at_;
      return true;
    }
    return false;
  }
  void expect(char c, const char* what) {
    if (!eat(c)) fail(fmt::format("expected {}", what));
  }
  // A quoted string without escapes: all numpy writes in these headers.
  std::string string() {
    skip_space();
    if (at_ == text_.size() || (text_[at_] != '\'' && text_[at_] != '"')) fail("expected a quoted string");
    const char quote = text_[at_++];
    const std::size_t end = text_.find(quote, at_);
    if (end == std::string_view::npos) fail("unterminated string");
    const std::string_view body = text_.substr(at_, end - at_);
    if (body.find('\\') != std::string_view::npos) fail("escape sequences are not supported in strings");
    at_ = end + 1;
    return std::string(body);
  }
  bool boolean() {
    skip_space();
    for (const auto& [word, value] :
         {std::pair{std::string_view("True"), true}, std::pair{std::string_view("False"), false}}) {
      if (text_.substr(at_, word.size()) == word) {
        at_ += word.size();
        return value;
      }
    }
    fail("expected True or False");
  }
  // (), (3,), (3, 4) and (3, 4,): a tuple of dimensions.
  Shape tuple() {
    expect('(', "'(' opening the shape");
    Shape shape;
    if (eat(')')) return shape;
    while (true) {
      shape.push_back(dimension());
      if (eat(')')) {
        if (shape.size() == 1) fail("a shape of one dimension is written (n,), with a comma");
        return shape;
      }
      expect(',', "',' or ')' in the shape");
      if (eat(')')) return shape;
    }
  }
  std::size_t dimension() {
    skip_space();
    // The whole token, sign, fraction or exponent included, to say what is wrong with it.
    const std::size_t start = at_;
    while (at_ < text_.size() && (std::isalnum(static_cast<unsigned char>(text_[at_])) || text_[at_] == '.' ||
                                  text_[at_] == '-' || text_[at_] == '+')) {
      ++at_;
    }
    const std::string_view token = text_.substr(start, at_ - start);
    if (token.empty()) fail("expected a dimension");
    if (token[0] == '-') fail_at(start, fmt::format("negative dimension {}", excerpt(token)));
    if (token.find_first_not_of("0123456789") != std::string_view::npos) {
      fail_at(start, fmt::format("dimension {} is not a whole number", excerpt(token)));
    }
    std::uint64_t value = 0;
    for (const char c : token) {
      const auto tens = checked_mul(value, 10);
      const auto next = tens ? checked_add(*tens, static_cast<std::uint64_t>(c - '0')) : std::nullopt;
      if (!next || *next > PTRDIFF_MAX) fail_at(start, fmt::format("dimension {} is too large", excerpt(token)));
      value = *next;
    }
    return static_cast<std::size_t>(value);
  }

  std::string_view text_;
  std::size_t at_ = 0;
};

std::uint64_t little_endian(const unsigned char* bytes, int n) {
  std::uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | bytes[i];
  return v;
}

}  // namespace

template <class T>
std::string npy_bytes(const Tensor<T>& t) {
  static_assert(std::endian::native == std::endian::little, "the .npy writer stores the tensor's bytes as they are");
  // (), (3,) and (3, 4), as Python writes them.
  std::string shape = fmt::format("{}", fmt::join(t.shape().begin(), t.shape().end(), ", "));
  if (t.dimension() == 1) shape += ',';
  std::string header = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': ({}), }}", descr<T>(), shape);
  // Magic (6) + version (2) + length (2 in v1.0, 4 in v2.0) + header + '\n', padded to a
  // multiple of 64 as numpy does.
  const bool v2 = header.size() + 12 > 0xffff;
  const std::size_t preamble = v2 ? 12 : 10;
  header.append(63 - (preamble + header.size()) % 64, ' ');
  header += '\n';
  std::string out(kMagic);
  out += static_cast<char>(v2 ? 2 : 1);
  out += '\0';
  for (int i = 0; i < (v2 ? 4 : 2); ++i) out += static_cast<char>((header.size() >> (8 * i)) & 0xff);
  out += header;
  out.append(reinterpret_cast<const char*>(t.data()), t.size() * sizeof(T));
  return out;
}

NpyLayout read_npy_header(const std::function<std::size_t(void*, std::size_t)>& read, std::uint64_t size) {
  unsigned char start[12];
  if (size < 10 || read(start, 8) != 8) throw NpyError(fmt::format("not a .npy array: {} bytes", size));
  if (std::memcmp(start, kMagic.data(), kMagic.size()) != 0) throw NpyError("not a .npy array (no \\x93NUMPY magic)");
  const int major = start[6];
  if (major < 1 || major > 3) throw NpyError(fmt::format("unsupported .npy version {}.{}", major, start[7]));
  const int length_bytes = major == 1 ? 2 : 4;
  if (read(start + 8, static_cast<std::size_t>(length_bytes)) != static_cast<std::size_t>(length_bytes)) {
    throw NpyError("truncated in its header");
  }
  const std::uint64_t header_len = little_endian(start + 8, length_bytes);
  const std::uint64_t offset = 8 + static_cast<std::uint64_t>(length_bytes) + header_len;
  if (offset > size)
    throw NpyError(fmt::format("its header of {} bytes runs past the array's {} bytes", header_len, size));
  if (header_len > kMaxHeader) throw NpyError(fmt::format("its header of {} bytes is implausibly long", header_len));
  std::string header(header_len, '\0');
  if (read(header.data(), header.size()) != header.size()) throw NpyError("truncated in its header");
  NpyLayout layout = HeaderParser(header).parse();
  layout.data_offset = offset;
  const auto count = checked_element_count(layout.shape);
  const auto bytes = count ? checked_mul(*count, layout.item) : std::nullopt;
  const auto as_doubles = count ? checked_mul(*count, sizeof(double)) : std::nullopt;
  if (!bytes || !as_doubles || *as_doubles > PTRDIFF_MAX) {
    throw NpyError(fmt::format("shape {} has more elements than memory can address", shape_str(layout.shape)));
  }
  layout.count = *count;
  if (*bytes != size - offset) {
    throw NpyError(fmt::format("shape {} of float{} needs {} bytes of data, the array holds {}",
                               shape_str(layout.shape), layout.item * 8, *bytes, size - offset));
  }
  return layout;
}

void npy_to_double(const NpyLayout& layout, const unsigned char* in, std::size_t count, double* out) {
  const bool swap = layout.big_endian;
  for (std::size_t i = 0; i < count; ++i, in += layout.item) {
    if (layout.item == 4) {
      std::uint32_t bits;
      std::memcpy(&bits, in, 4);
      if (swap) bits = __builtin_bswap32(bits);
      out[i] = std::bit_cast<float>(bits);
    } else {
      std::uint64_t bits;
      std::memcpy(&bits, in, 8);
      if (swap) bits = __builtin_bswap64(bits);
      out[i] = std::bit_cast<double>(bits);
    }
  }
}

template std::string npy_bytes(const Tensor<float>&);
template std::string npy_bytes(const Tensor<double>&);

}  // namespace ag::nn::detail
