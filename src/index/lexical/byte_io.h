// Little-endian binary encoding helpers for the lexical index files (docs/formats/lexical-index.md).
// ByteWriter appends to a std::string; ByteReader reads with bounds checks and reports
// truncation through ok() instead of crashing. Internal to src/index/lexical.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

namespace ragft::lexical {

// Appends fixed-width little-endian scalars and length-prefixed strings (x86-64/aarch64 are LE).
class ByteWriter {
 public:
  explicit ByteWriter(std::string& out) : out_(out) {}
  template <typename T>
  void put(T v) {
    static_assert(std::is_trivially_copyable_v<T>);
    out_.append(reinterpret_cast<const char*>(&v), sizeof(T));
  }
  void put_bytes(std::string_view s) { out_.append(s); }
  void put_str(std::string_view s) {
    put<std::uint32_t>(static_cast<std::uint32_t>(s.size()));
    out_.append(s);
  }
  // Pads with zero bytes to a multiple of `a`.
  void align(std::size_t a) {
    while (out_.size() % a != 0) out_.push_back('\0');
  }
  std::size_t size() const { return out_.size(); }

 private:
  std::string& out_;
};

// Reads what ByteWriter wrote. After any read past the end, ok() is false and reads return 0.
class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  template <typename T>
  T get() {
    T v{};
    if (pos_ + sizeof(T) > in_.size()) {
      ok_ = false;
      pos_ = in_.size();
      return v;
    }
    std::memcpy(&v, in_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string get_str() {
    auto n = get<std::uint32_t>();
    if (!ok_ || n > in_.size() - pos_) {
      ok_ = false;
      return {};
    }
    std::string s(in_.substr(pos_, n));
    pos_ += n;
    return s;
  }
  bool ok() const { return ok_; }
  std::size_t pos() const { return pos_; }
  std::size_t remaining() const { return in_.size() - pos_; }

 private:
  std::string_view in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

}  // namespace ragft::lexical
