// load_view and its index: the summaries of the journal's lines already read, so that a reader
// parses only what was appended since.
//
// The index is a cache, rebuildable from the journal at any time. Binary, native byte order:
//   u64 magic, u32 version, u64 covered (journal bytes summarized, ending with a newline),
//   u32 lines (line number of the last covered line), u64 head_sum, u64 tail_sum (FNV-1a of the
//   first and last k_window covered bytes), u64 entries; then the entries in journal order:
//   u8 type, str session, u64 offset, u64 length, and per type: header: str start_commit;
//   experiment: the Summary's fields (the key only when it is not the patch hash). A str is a u32
//   length and its bytes.
// A journal shorter than `covered` or whose sums differ was truncated or rewritten: the index is
// rebuilt. It is replaced by rename and not fsync'd: a torn index fails its checks and is rebuilt.

#include "journal/journal.hpp"

#include "util/error.hpp"

#include <fmt/format.h>

#include <unistd.h>

#include <array>
#include <cstring>
#include <fstream>

namespace ar::journal {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr std::uint64_t k_magic = 0x3130584449524a41ULL;  // "ARJIDX01"
constexpr std::uint32_t k_version = 3;
constexpr std::uint64_t k_window = 64 * 1024;
// Below this many new bytes, parsing them again on the next read is cheaper than rewriting the index.
constexpr std::size_t k_rewrite_bytes = 64 * 1024;

enum class Kind : std::uint8_t { experiment, header, stop, calibration, verify, ablation };

struct IndexHeader {
  std::uint64_t covered = 0;
  std::uint32_t lines = 0;
  std::uint64_t head_sum = 0, tail_sum = 0, entries = 0;
};
constexpr std::size_t k_header_bytes = 8 + 4 + 8 + 4 + 8 + 8 + 8;

struct Corrupt {};

std::uint64_t fnv1a(const char* data, std::size_t n, std::uint64_t h = 14695981039346656037ULL) {
  for (std::size_t i = 0; i < n; ++i) {
    h ^= static_cast<unsigned char>(data[i]);
    h *= 1099511628211ULL;
  }
  return h;
}

// The sums of the first and last k_window bytes of journal[0, covered); nullopt when the journal
// is shorter.
std::optional<std::pair<std::uint64_t, std::uint64_t>> sums(const fs::path& journal, std::uint64_t covered) {
  std::ifstream in(journal, std::ios::binary);
  if (!in) return std::nullopt;
  std::uint64_t n = std::min(covered, k_window);
  std::string buf(n, '\0');
  in.read(buf.data(), static_cast<std::streamsize>(n));
  if (static_cast<std::uint64_t>(in.gcount()) != n) return std::nullopt;
  std::uint64_t head = fnv1a(buf.data(), n);
  in.seekg(static_cast<std::streamoff>(covered - n));
  in.read(buf.data(), static_cast<std::streamsize>(n));
  if (static_cast<std::uint64_t>(in.gcount()) != n) return std::nullopt;
  return std::make_pair(head, fnv1a(buf.data(), n));
}

class Writer {
 public:
  std::string out;
  template <typename T>
  void put(T v) {
    out.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  void str(const std::string& s) {
    put(static_cast<std::uint32_t>(s.size()));
    out += s;
  }
};

// Reads the index through a fixed buffer: the index of a large journal is never held whole.
class Reader {
 public:
  explicit Reader(const fs::path& path) : m_in(path, std::ios::binary), m_buf(1 << 16) {}
  bool ok() const { return static_cast<bool>(m_in); }
  template <typename T>
  T get() {
    T v;
    std::memcpy(&v, take(sizeof v), sizeof v);
    return v;
  }
  std::string str() {
    auto n = get<std::uint32_t>();
    const char* p = take(n);
    return std::string(p, n);
  }

 private:
  const char* take(std::size_t n) {
    if (m_end - m_pos < n) {
      std::memmove(m_buf.data(), m_buf.data() + m_pos, m_end - m_pos);
      m_end -= m_pos;
      m_pos = 0;
      if (m_buf.size() < n) m_buf.resize(n);
      m_in.read(m_buf.data() + m_end, static_cast<std::streamsize>(m_buf.size() - m_end));
      m_end += static_cast<std::size_t>(m_in.gcount());
      if (m_end < n) throw Corrupt{};
    }
    const char* p = m_buf.data() + m_pos;
    m_pos += n;
    return p;
  }
  std::ifstream m_in;
  std::vector<char> m_buf;
  std::size_t m_pos = 0, m_end = 0;
};

void put_summary(Writer& w, const Summary& s) {
  w.put(static_cast<std::int64_t>(s.id));
  for (const std::string* f : {&s.status, &s.reason, &s.title, &s.hypothesis, &s.mechanism, &s.idea, &s.source_kind,
                               &s.source_file, &s.patch_sha256, &s.diff_sha256, &s.commit, &s.base_commit,
                               &s.patch_file, &s.sweep, &s.sweep_value, &s.sweep_from}) {
    w.str(*f);
  }
  w.put(static_cast<std::uint32_t>(s.files.size()));
  for (const auto& f : s.files) w.str(f);
  bool own_key = s.key != s.patch_sha256;
  w.put(static_cast<std::uint8_t>((s.has_metric ? 1 : 0) | (s.has_sweep ? 2 : 0) | (own_key ? 4 : 0)));
  if (own_key) w.str(s.key);
  for (double d : {s.effect, s.ci_low, s.ci_high, s.p, s.base_median, s.candidate_median}) w.put(d);
  w.put(static_cast<std::int64_t>(s.pairs));
}

Summary get_summary(Reader& r) {
  Summary s;
  s.id = static_cast<int>(r.get<std::int64_t>());
  for (std::string* f : {&s.status, &s.reason, &s.title, &s.hypothesis, &s.mechanism, &s.idea, &s.source_kind,
                         &s.source_file, &s.patch_sha256, &s.diff_sha256, &s.commit, &s.base_commit, &s.patch_file,
                         &s.sweep, &s.sweep_value, &s.sweep_from}) {
    *f = r.str();
  }
  auto files = r.get<std::uint32_t>();
  for (std::uint32_t i = 0; i < files; ++i) s.files.push_back(r.str());
  auto flags = r.get<std::uint8_t>();
  s.has_metric = (flags & 1) != 0;
  s.has_sweep = (flags & 2) != 0;
  s.key = (flags & 4) != 0 ? r.str() : s.patch_sha256;
  for (double* d : {&s.effect, &s.ci_low, &s.ci_high, &s.p, &s.base_median, &s.candidate_median}) *d = r.get<double>();
  s.pairs = static_cast<int>(r.get<std::int64_t>());
  return s;
}

Kind kind_of(const std::string& type) {
  if (type == "header") return Kind::header;
  if (type == "stop") return Kind::stop;
  if (type == "calibration") return Kind::calibration;
  if (type == "verify") return Kind::verify;
  if (type == "ablation") return Kind::ablation;
  return Kind::experiment;
}

// Collects one session's view from entries, in journal order, whichever way they were read.
class Builder {
 public:
  explicit Builder(SessionView& v) : m_view(v) {}
  void take(Kind kind, std::uint64_t offset, std::uint64_t length, const std::string& start_commit, Summary* summary) {
    switch (kind) {
      case Kind::experiment:
        m_view.add(std::move(*summary));
        break;
      case Kind::header:
        if (m_view.start_commit.empty()) m_view.start_commit = start_commit;
        m_header = {offset, length, true};
        break;
      case Kind::stop:
        m_stop = {offset, length, true};
        break;
      case Kind::calibration:
        m_calibration = {offset, length, true};
        break;
      case Kind::verify:
        m_verify = {offset, length, true};
        break;
      case Kind::ablation:
        m_ablations.push_back({offset, length, true});
        break;
    }
  }
  void reserve(std::uint64_t entries) { m_view.reserve(static_cast<size_t>(entries)); }
  // Forgets everything taken (an index found corrupt halfway).
  void reset() {
    std::string session = m_view.session;
    fs::path journal = m_view.journal;
    Keep keep = m_view.keep;
    m_view = SessionView{};
    m_view.keep = keep;
    m_view.session = session;
    m_view.journal = journal;
    m_header = m_stop = m_calibration = m_verify = Where{};
    m_ablations.clear();
  }
  // The few latest non-experiment records are read back whole.
  void finish() {
    auto read = [&](const Where& where) -> std::optional<json> {
      if (!where.set) return std::nullopt;
      return read_record(m_view.journal, where.offset, where.length);
    };
    m_view.header = read(m_header);
    m_view.last_stop = read(m_stop);
    m_view.last_calibration = read(m_calibration);
    m_view.last_verify = read(m_verify);
    for (const Where& w : m_ablations) {
      json a = *read(w);
      const int id = a.value("experiment", 0);  // before the move: json's operator= takes its copy first
      m_view.ablations[id] = std::move(a);
    }
  }

 private:
  SessionView& m_view;
  struct Where {
    std::uint64_t offset = 0, length = 0;
    bool set = false;
  };
  Where m_header, m_stop, m_calibration, m_verify;
  std::vector<Where> m_ablations;  // few: one per keep per ablate run
};

// Reads the index into `builder` when it matches the journal; false when it is missing, corrupt
// or stale (the builder may then hold part of it: the caller starts over).
bool read_index(const fs::path& index, const fs::path& journal, const std::string& session, Builder& builder,
                IndexHeader& h) {
  Reader r(index);
  if (!r.ok()) return false;
  try {
    if (r.get<std::uint64_t>() != k_magic || r.get<std::uint32_t>() != k_version) return false;
    h.covered = r.get<std::uint64_t>();
    h.lines = r.get<std::uint32_t>();
    h.head_sum = r.get<std::uint64_t>();
    h.tail_sum = r.get<std::uint64_t>();
    h.entries = r.get<std::uint64_t>();
    auto s = sums(journal, h.covered);
    if (!s || s->first != h.head_sum || s->second != h.tail_sum) return false;
    // The entries, and about as many records as the unread rest of the journal can hold.
    std::error_code ec;
    std::uint64_t size = fs::file_size(journal, ec);
    builder.reserve(h.entries + (ec || size < h.covered ? 0 : (size - h.covered) / 512 + 16));
    for (std::uint64_t i = 0; i < h.entries; ++i) {
      auto kind = static_cast<Kind>(r.get<std::uint8_t>());
      if (kind > Kind::ablation) return false;
      std::string entry_session = r.str();
      auto offset = r.get<std::uint64_t>();
      auto length = r.get<std::uint64_t>();
      bool mine = entry_session == session;
      if (kind == Kind::experiment) {
        Summary sm = get_summary(r);
        sm.offset = offset;
        sm.length = length;
        if (mine) builder.take(kind, offset, length, {}, &sm);
      } else {
        std::string start = kind == Kind::header ? r.str() : std::string();
        if (mine) builder.take(kind, offset, length, start, nullptr);
      }
    }
    return true;
  } catch (const Corrupt&) {
    return false;
  }
}

// Writes the next index as the journal is read: the old index's entries (when it is still valid)
// and then the new ones, streamed to a temp file once there are enough to be worth it, so that a
// rebuild never holds the whole index in memory. Failures only mean no index this time.
class IndexWriter {
 public:
  IndexWriter(fs::path index, const IndexHeader& old, bool keep_old)
      : m_index(std::move(index)), m_old(old), m_keep_old(keep_old) {}
  ~IndexWriter() {
    if (m_out.is_open()) {
      m_out.close();
      std::error_code ec;
      fs::remove(m_tmp, ec);
    }
  }
  IndexWriter(const IndexWriter&) = delete;
  IndexWriter& operator=(const IndexWriter&) = delete;

  Writer& entries() { return m_fresh; }
  void entry_done() {
    ++m_count;
    if (m_fresh.out.size() >= (1 << 20)) flush();
  }
  // Replaces the index when it was stale or enough was added; `end` is what it now covers.
  void finish(const fs::path& journal, bool stale, ScanEnd end) {
    if (m_index.empty() || !m_ok || (!m_out.is_open() && !stale && m_fresh.out.size() < k_rewrite_bytes)) return;
    auto s = sums(journal, end.offset);
    if (!s || end.offset == 0) return;
    flush();
    if (!m_ok) return;
    Writer w;
    w.put(k_magic);
    w.put(k_version);
    w.put(end.offset);
    w.put(static_cast<std::uint32_t>(end.lines));
    w.put(s->first);
    w.put(s->second);
    w.put((m_keep_old ? m_old.entries : 0) + m_count);
    m_out.seekp(0);
    m_out.write(w.out.data(), static_cast<std::streamsize>(w.out.size()));
    m_out.close();
    std::error_code ec;
    if (!m_out.fail()) fs::rename(m_tmp, m_index, ec);
    if (ec || m_out.fail()) fs::remove(m_tmp, ec);
  }

 private:
  void flush() {
    if (!m_ok) return;
    if (!m_out.is_open()) {
      if (!fs::is_directory(m_index.parent_path())) {
        m_ok = false;
        return;
      }
      m_tmp = m_index;
      m_tmp += ".tmp." + std::to_string(::getpid());
      m_out.open(m_tmp, std::ios::binary | std::ios::trunc);
      m_out.write(std::string(k_header_bytes, '\0').data(), static_cast<std::streamsize>(k_header_bytes));
      if (m_keep_old) {
        std::ifstream in(m_index, std::ios::binary);
        in.seekg(static_cast<std::streamoff>(k_header_bytes));
        m_out << in.rdbuf();
      }
    }
    m_out.write(m_fresh.out.data(), static_cast<std::streamsize>(m_fresh.out.size()));
    m_fresh.out.clear();
    if (!m_out) m_ok = false;
  }

  fs::path m_index, m_tmp;
  IndexHeader m_old;
  bool m_keep_old;
  bool m_ok = true;
  std::ofstream m_out;
  Writer m_fresh;
  std::uint64_t m_count = 0;
};

}  // namespace

SessionView load_view(const fs::path& path, const std::string& session, std::vector<std::string>& warnings, bool repair,
                      const fs::path& index_path, Keep keep) {
  SessionView v;
  v.keep = keep;
  v.session = session;
  v.journal = path;
  Builder builder(v);
  IndexHeader old;
  bool indexed = !index_path.empty() && read_index(index_path, path, session, builder, old);
  if (!indexed) {
    builder.reset();
    old = IndexHeader{};
  }

  IndexWriter writer(index_path, old, indexed);
  ScanEnd end = scan(
      path, old.covered, static_cast<int>(old.lines) + 1, warnings, repair,
      [&](const Line& l) {
        const std::string& type = l.record["type"].get_ref<const std::string&>();
        Kind kind = kind_of(type);
        const std::string& rec_session = l.record["session"].get_ref<const std::string&>();
        std::string start = kind == Kind::header ? l.record.value("start_commit", "") : std::string();
        std::optional<Summary> s;
        if (kind == Kind::experiment) s = summarize(l.record, l.offset, l.length);
        // An id appears once in a session: a repeated one is a copied or forged line.
        if (s && rec_session == session && v.has_id(s->id)) {
          throw Error(
              fmt::format("{}:{}: experiment {} of session \"{}\" appears again; the line is "
                          "a repeated or forged record: remove it",
                          path.string(), l.line_no, s->id, session));
        }
        if (!index_path.empty() && l.terminated) {  // a line without its newline may still change
          Writer& w = writer.entries();
          w.put(static_cast<std::uint8_t>(kind));
          w.str(rec_session);
          w.put(l.offset);
          w.put(l.length);
          if (kind == Kind::header) w.str(start);
          if (s) put_summary(w, *s);
          writer.entry_done();
        }
        if (rec_session == session) builder.take(kind, l.offset, l.length, start, s ? &*s : nullptr);
      },
      true);
  builder.finish();
  try {
    writer.finish(path, !indexed, end);
  } catch (const std::exception&) {
    // A cache that cannot be written is rebuilt next time.
  }
  return v;
}

}  // namespace ar::journal
