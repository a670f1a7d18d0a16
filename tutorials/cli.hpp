// The tutorials' command lines and how a run ends, shared by the three programs.
//
//   exit 0   done (and --help)
//   exit 1   a runtime failure: the output folder or file cannot be written, the data is missing
//            or corrupt, a result file was not written completely
//   exit 2   a bad option: unknown, missing its value, not of its type or out of its range
//
// Either failure prints one line on stderr, "program: reason". Every option has a type and a
// range, checked by CLI11 before anything runs; outputs are checked writable before any work,
// and every file written is checked written. main is a function-try-block ending in
// `report_failure`, so no exception reaches std::terminate.
#pragma once

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace tutorial {

inline constexpr int exit_ok = 0, exit_failure = 1, exit_usage = 2;

// The help's footer: the exit codes, with what a runtime failure is for this program.
inline std::string exit_status_help(std::string_view runtime_failure) {
  return fmt::format(
      "Exit status: 0 done (or --help); 1 {};\n2 a bad option. Either failure prints one line on stderr saying why.\n",
      runtime_failure);
}

// A runtime failure: exit 1, with this one-line reason.
class Failure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A reason on one line: line breaks become "; ".
inline std::string one_line(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
  std::string out;
  for (char c : text) {
    if (c == '\n')
      out += "; ";
    else if (c != '\r')
      out += c;
  }
  return out;
}

namespace detail {

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace detail

// A whole number in decimal digits, lo <= n <= hi. Rejects what a bare strtoul lets through:
// "-1" (which wraps to 2^64 - 1), "1.5", "1e3", "0x10", "12abc" and values beyond the type.
template <class T>
CLI::Validator whole(T lo, T hi) {
  return CLI::Validator(
      [lo, hi](std::string& value) -> std::string {
        const std::string_view s = detail::trim(value);
        T n{};
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
        if (s.empty() || ec == std::errc::invalid_argument || end != s.data() + s.size()) {
          const bool negative =
              s.size() > 1 && s[0] == '-' && s.find_first_not_of("0123456789", 1) == std::string_view::npos;
          if (negative) return fmt::format("{} is out of range: it must be from {} to {}", s, lo, hi);
          return fmt::format("'{}' is not a whole number", value);
        }
        if (ec == std::errc::result_out_of_range || n < lo || n > hi) {
          return fmt::format("{} is out of range: it must be from {} to {}", s, lo, hi);
        }
        value = std::string(s);
        return "";
      },
      "", "whole");
}

// A finite real number, lo < x <= hi (or lo <= x <= hi with `lo_included`): rejects nan, inf,
// "1e-3x" and the like.
inline CLI::Validator real_above(double lo, double hi, bool lo_included = false) {
  return CLI::Validator(
      [lo, hi, lo_included](std::string& value) -> std::string {
        const std::string_view s = detail::trim(value);
        double x = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
        if (s.empty() || ec == std::errc::invalid_argument || end != s.data() + s.size()) {
          return fmt::format("'{}' is not a number", value);
        }
        if (!std::isfinite(x) || ec == std::errc::result_out_of_range)
          return fmt::format("{} is not a finite number", s);
        if (!((x > lo || (lo_included && x == lo)) && x <= hi)) {
          return fmt::format("{} is out of range: it must be {} {} and at most {}", s,
                             lo_included ? "at least" : "above", lo, hi);
        }
        value = std::string(s);
        return "";
      },
      "", "real");
}

// A finite real number, lo <= x <= hi.
inline CLI::Validator real_from(double lo, double hi) {
  return real_above(lo, hi, true);
}

// A path: anything but the empty string.
inline CLI::Validator nonempty_path() {
  return CLI::Validator([](std::string& value) -> std::string { return value.empty() ? "an empty path" : ""; }, "",
                        "path");
}

// Parses the command line. Returns nothing when the program goes on, else its exit code: 0
// after printing --help, 2 after a bad option (one line on stderr, the option and the fault).
inline std::optional<int> parse(CLI::App& app, int argc, const char* const* argv) {
  try {
    app.parse(argc, argv);
    return std::nullopt;
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "%s: %s (see --help)\n", app.get_name().c_str(), one_line(e.what()).c_str());
    return exit_usage;
  }
}

// For main's catch (...): prints "program: reason" on one line and returns 1. Allocates
// nothing, so it works for std::bad_alloc too.
inline int report_failure(const char* program) noexcept {
  const char* reason = "unknown exception";
  try {
    throw;
  } catch (const std::exception& e) {
    reason = e.what();
  } catch (...) {
  }
  std::fflush(stdout);
  std::fprintf(stderr, "%s: ", program);
  std::size_t end = std::strlen(reason);
  while (end > 0 && std::isspace(static_cast<unsigned char>(reason[end - 1]))) --end;
  for (std::size_t i = 0; i < end; ++i) {
    if (reason[i] == '\n')
      std::fputs("; ", stderr);
    else if (reason[i] != '\r')
      std::fputc(reason[i], stderr);
  }
  std::fputc('\n', stderr);
  return exit_failure;
}

// An output folder, before any work: created with its parents if missing (as mkdir -p), then
// a file is created, written and removed in it. Throws Failure saying why it cannot be used.
inline void prepare_output_folder(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status status = fs::status(dir, ec);
  if (fs::exists(status)) {
    if (!fs::is_directory(status))
      throw Failure(fmt::format("cannot use {} as the output folder: it is not a folder", dir));
  } else {
    fs::create_directories(dir, ec);
    if (ec) throw Failure(fmt::format("cannot create the output folder {}: {}", dir, ec.message()));
  }
  std::string probe = (fs::path(dir) / ".write-test-XXXXXX").string();
  const int fd = ::mkstemp(probe.data());
  if (fd < 0) throw Failure(fmt::format("cannot write in the output folder {}: {}", dir, std::strerror(errno)));
  const bool written = ::write(fd, "x", 1) == 1;
  int error = errno;
  const bool closed = ::close(fd) == 0;
  if (written && !closed) error = errno;
  ::unlink(probe.c_str());
  if (!written || !closed)
    throw Failure(fmt::format("cannot write in the output folder {}: {}", dir, std::strerror(error)));
}

// An output file, before any work: opened for writing without truncating it (and removed again
// if that created it). Its folder must exist. Throws Failure naming the file.
inline void prepare_output_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NONBLOCK | O_CLOEXEC, 0666);
  if (fd >= 0) {
    ::close(fd);
    ::unlink(path.c_str());
    return;
  }
  if (errno == EEXIST) fd = ::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) throw Failure(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
  ::close(fd);
}

// Writes `content` to `path` and checks every step, the close included (a full disk shows
// there). Throws Failure naming the file.
inline void write_file(const std::string& path, std::string_view content) {
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) throw Failure(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
  const bool written = std::fwrite(content.data(), 1, content.size(), f) == content.size() && std::fflush(f) == 0;
  int error = errno;
  const bool closed = std::fclose(f) == 0;
  if (written && !closed) error = errno;
  if (!written || !closed) throw Failure(fmt::format("cannot write {}: {}", path, std::strerror(error)));
}

// Checks that a file written by a library call (which reports only a failure to open) holds all
// of what was written: a regular file ending with `ending`, the content's own ending, and, when
// `line_ends` is not zero, holding that many line ends. A write cut short leaves a prefix of the
// content, and a prefix with the content's ending and line count is the whole. Throws Failure.
inline void check_complete(const std::string& path, std::string_view ending, std::size_t line_ends = 0) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw Failure(fmt::format("cannot write {}: not a regular file", path));
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Failure(fmt::format("cannot read back {}: {}", path, std::strerror(errno)));
  const std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const bool ends =
      content.size() >= ending.size() && std::string_view(content).substr(content.size() - ending.size()) == ending;
  const auto lines = static_cast<std::size_t>(std::count(content.begin(), content.end(), '\n'));
  if (!ends || (line_ends != 0 && lines != line_ends)) {
    throw Failure(fmt::format("cannot write {}: the file is incomplete ({} bytes)", path, content.size()));
  }
}

// The results of a run: each output written in turn, a failure recorded and the next output
// still written, so that one bad file does not cost the others.
class Outputs {
 public:
  // Runs `write`, which writes `path` and throws on failure; false if it threw.
  template <class Write>
  bool write(const std::string& path, Write&& write) {
    try {
      write();
      written_.push_back(path);
      return true;
    } catch (const std::exception& e) {
      failures_.push_back(one_line(e.what()));
      return false;
    }
  }

  // A learning curve (nn::LearningCurve) as stem.csv and stem.svg, each checked complete.
  template <class Curve>
  void curve(const Curve& curve, const std::string& stem, const std::string& title) {
    const std::string csv = stem + ".csv", svg = stem + ".svg";
    write(csv, [&] {
      curve.write_csv(csv);
      check_complete(csv, "\n", curve.records().size() + 1);  // a header and a row per epoch
    });
    write(svg, [&] {
      curve.write_svg(svg, title);
      check_complete(svg, "</svg>\n");
    });
  }

  // Adds to the reason of the last failure, which stays one line.
  void explain_last(std::string_view more) {
    if (!failures_.empty()) failures_.back() += fmt::format("; {}", one_line(more));
  }
  const std::vector<std::string>& written() const { return written_; }
  const std::vector<std::string>& failures() const { return failures_; }

  // Prints each failure on a line of its own; returns the exit code, 1 if any failed.
  int finish(const char* program) const {
    std::fflush(stdout);
    for (const std::string& f : failures_) std::fprintf(stderr, "%s: %s\n", program, f.c_str());
    return failures_.empty() ? exit_ok : exit_failure;
  }

 private:
  std::vector<std::string> written_, failures_;
};

}  // namespace tutorial
