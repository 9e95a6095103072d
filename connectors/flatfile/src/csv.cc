#include "csv.h"

#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace fachadapter::flatfile {

CsvReader::CsvReader(std::string_view data, const CsvDialect& d) : data_(data), d_(d) {
  if (data_.size() >= 3 && std::memcmp(data_.data(), "\xEF\xBB\xBF", 3) == 0) pos_ = 3;
}

CsvReader::Step CsvReader::Next(CsvRow* row) {
  row->fields.clear();
  row->field_offsets.clear();
  if (pos_ >= data_.size()) return Step::kEnd;
  const char* base = data_.data();
  const size_t size = data_.size();
  row->start = pos_;
  row->number = ++number_;
  row->line = ++line_;
  const char delim = d_.delimiter, quote = d_.quote;
  // Fast path: one pass over the row up to its line feed, noting the delimiters; a quote
  // character sends the row to the slow path below.
  const char* p = base + pos_;
  const size_t avail = size - pos_;
  size_t k = 0, field = 0;
  bool quoted = false;
  auto add_field = [&](size_t end) {
    row->fields.emplace_back(p + field, end - field);
    row->field_offsets.push_back(static_cast<uint32_t>(field));
    field = end + 1;
  };
#if defined(__SSE2__)
  {
    const __m128i vd = _mm_set1_epi8(delim), vn = _mm_set1_epi8('\n');
    const __m128i vq = _mm_set1_epi8(quote != 0 ? quote : '\n');
    while (k + 16 <= avail) {
      const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + k));
      unsigned delims = static_cast<unsigned>(_mm_movemask_epi8(_mm_cmpeq_epi8(b, vd)));
      const unsigned stops =
          static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(_mm_cmpeq_epi8(b, vn), _mm_cmpeq_epi8(b, vq))));
      if (stops != 0) delims &= (1u << __builtin_ctz(stops)) - 1;
      while (delims != 0) {
        add_field(k + static_cast<size_t>(__builtin_ctz(delims)));
        delims &= delims - 1;
      }
      if (stops != 0) {
        k += static_cast<size_t>(__builtin_ctz(stops));
        break;
      }
      k += 16;
    }
  }
#endif
  for (; k < avail; ++k) {
    const char c = p[k];
    if (c == '\n' || (c == quote && quote != 0)) break;
    if (c == delim) add_field(k);
  }
  if (k < avail && p[k] != '\n') quoted = true;
  if (!quoted) {
    size_t body = k;
    if (body > field && p[body - 1] == '\r') --body;
    add_field(body);
    pos_ += k < avail ? k + 1 : k;
    row->end = pos_;
    return Step::kRow;
  }
  row->fields.clear();
  row->field_offsets.clear();
  const size_t line_len = [&] {
    const void* nl = std::memchr(p, '\n', avail);
    return nl ? static_cast<size_t>(static_cast<const char*>(nl) - p) : avail;
  }();
  // Slow path: quoted fields, possibly spanning lines. Unescaped text goes to scratch_, which
  // is reserved to the rest of the buffer's worst case for this row so views stay valid.
  scratch_.clear();
  size_t i = pos_;
  struct Span {
    bool scratch;
    size_t off, len;
  };
  std::vector<Span> spans;
  size_t guess = line_len * 2 + 64;
  scratch_.reserve(guess);
  while (true) {
    size_t field_start = i;
    row->field_offsets.push_back(static_cast<uint32_t>(i - pos_));
    if (i < size && base[i] == quote) {
      size_t s_off = scratch_.size();
      ++i;
      while (true) {
        if (i >= size) {
          error_ = "unterminated quoted field";
          error_offset_ = field_start;
          return Step::kError;
        }
        char c = base[i];
        if (c == quote) {
          if (i + 1 < size && base[i + 1] == quote) {
            scratch_.push_back(quote);
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        if (c == '\n') ++line_;
        scratch_.push_back(c);
        ++i;
      }
      spans.push_back({true, s_off, scratch_.size() - s_off});
      if (i < size && base[i] != delim && base[i] != '\n' &&
          !(base[i] == '\r' && (i + 1 == size || base[i + 1] == '\n'))) {
        error_ = std::string("unexpected character '") + base[i] + "' after a closing quote";
        error_offset_ = i;
        return Step::kError;
      }
    } else {
      size_t s = i;
      while (i < size && base[i] != delim && base[i] != '\n') ++i;
      size_t e = i;
      if (e > s && base[e - 1] == '\r' && (e == size || base[e] == '\n')) --e;
      spans.push_back({false, s, e - s});
      if (i < size && base[i] == '\r') ++i;
    }
    if (i < size && base[i] == '\r') ++i;
    if (i >= size) break;
    if (base[i] == delim) {
      ++i;
      continue;
    }
    if (base[i] == '\n') {
      ++i;
      break;
    }
  }
  for (const Span& s : spans) {
    row->fields.emplace_back(s.scratch ? scratch_.data() + s.off : base + s.off, s.len);
  }
  pos_ = i;
  row->end = pos_;
  return Step::kRow;
}

void AppendCsvField(std::string_view v, const CsvDialect& d, std::string* out) {
  bool need = d.quote != 0 &&
              (v.find(d.delimiter) != std::string_view::npos ||
               v.find(d.quote) != std::string_view::npos ||
               v.find('\n') != std::string_view::npos || v.find('\r') != std::string_view::npos ||
               (!v.empty() && (v.front() == ' ' || v.back() == ' ')));
  if (!need) {
    out->append(v.data(), v.size());
    return;
  }
  out->push_back(d.quote);
  for (char c : v) {
    if (c == d.quote) out->push_back(c);
    out->push_back(c);
  }
  out->push_back(d.quote);
}

std::string DetectLineEnding(std::string_view data) {
  size_t nl = data.find('\n');
  if (nl != std::string_view::npos && nl > 0 && data[nl - 1] == '\r') return "\r\n";
  return "\n";
}

}  // namespace fachadapter::flatfile
