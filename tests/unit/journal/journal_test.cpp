#include "journal/journal.hpp"

#include "support/temp_dir.hpp"
#include "util/error.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace ar::journal {
namespace {

namespace fs = std::filesystem;
using ar::test::read_text;
using ar::test::TempDir;
using ar::test::write_text;
using nlohmann::json;

using ar::test::contains;

json header(const std::string& session, const std::string& start_commit) {
  return {{"type", "header"},
          {"schema", k_schema},
          {"session", session},
          {"start_commit", start_commit},
          {"config", {{"metric", {{"name", "wall_ms"}}}}}};
}

json experiment(int id, const std::string& session, const std::string& status, const std::string& hash) {
  return {{"type", "experiment"}, {"schema", k_schema}, {"id", id},
          {"session", session},   {"status", status},   {"title", "exp " + std::to_string(id)},
          {"patch_sha256", hash}};
}

class JournalTest : public ::testing::Test {
 protected:
  // The ar::Error message load() throws for the journal `content`; fails the test when it loads.
  std::string load_error(const std::string& content) {
    write_text(m_file, content);
    std::vector<std::string> warnings;
    try {
      load(m_file, warnings);
    } catch (const Error& e) {
      return e.what();
    } catch (const std::exception& e) {
      // Not ar::Error: the message lacks "<path>:<line>", which the callers check.
      return std::string("(not an ar::Error) ") + e.what();
    }
    ADD_FAILURE() << "expected an ar::Error for:\n" << content;
    return {};
  }

  std::string at(int line) const { return m_file.string() + ":" + std::to_string(line); }

  TempDir m_dir;
  fs::path m_file = m_dir / "results.jsonl";
};

// ---- load / append ---------------------------------------------------------------------------

using JournalLoad = JournalTest;

TEST_F(JournalLoad, MissingFileIsAnEmptyJournal) {
  std::vector<std::string> warnings;
  Journal j = load(m_file, warnings);
  EXPECT_EQ(j.path, m_file);
  EXPECT_TRUE(j.headers.empty());
  EXPECT_TRUE(j.experiments.empty());
  EXPECT_TRUE(warnings.empty());
  EXPECT_FALSE(fs::exists(m_file)) << "loading must not create the journal";
}

TEST_F(JournalLoad, EmptyFileIsAnEmptyJournal) {
  write_text(m_file, "");
  std::vector<std::string> warnings;
  Journal j = load(m_file, warnings);
  EXPECT_TRUE(j.headers.empty());
  EXPECT_TRUE(j.experiments.empty());
  EXPECT_TRUE(warnings.empty());
}

TEST_F(JournalLoad, AppendThenLoadRoundTrips) {
  json h = header("night", "abc123");
  json e1 = experiment(1, "night", "keep", "h1");
  e1["metric"] = {{"base", {10.5, 11.0}}, {"candidate", {9.0, 9.25}}, {"effect", -0.15}};
  e1["title"] = "unicode µs and \"quotes\"\nand a newline";
  json e2 = experiment(2, "night", "discard", "h2");
  append(m_file, h);
  append(m_file, e1);
  append(m_file, e2);

  // One record a line, each line complete.
  std::string text = read_text(m_file);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 3);
  EXPECT_EQ(text.back(), '\n');

  std::vector<std::string> warnings;
  Journal j = load(m_file, warnings);
  EXPECT_TRUE(warnings.empty());
  ASSERT_EQ(j.headers.size(), 1u);
  ASSERT_EQ(j.experiments.size(), 2u);
  EXPECT_EQ(j.headers[0], h);
  EXPECT_EQ(j.experiments[0], e1);
  EXPECT_EQ(j.experiments[1], e2);
}

TEST_F(JournalLoad, BlankLinesAreSkipped) {
  write_text(m_file, header("s", "c").dump() + "\n\n  \n" + experiment(1, "s", "crash", "h").dump() + "\n");
  std::vector<std::string> warnings;
  Journal j = load(m_file, warnings);
  EXPECT_EQ(j.headers.size(), 1u);
  EXPECT_EQ(j.experiments.size(), 1u);
}

TEST_F(JournalLoad, TornLastLineIsMovedAsideAndCutOff) {
  const std::string good = header("s", "c").dump() + "\n" + experiment(1, "s", "keep", "h1").dump() + "\n";
  const std::string torn = R"({"type":"experiment","schema":1,"id":2,"sess)";
  write_text(m_file, good + torn);

  std::vector<std::string> warnings;
  Journal j = load(m_file, warnings);
  EXPECT_EQ(j.headers.size(), 1u);
  EXPECT_EQ(j.experiments.size(), 1u);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_TRUE(contains(warnings[0], at(3)));
  EXPECT_TRUE(contains(warnings[0], m_file.string() + ".corrupt"));

  EXPECT_EQ(read_text(m_file), good);
  fs::path aside = m_file;
  aside += ".corrupt";
  EXPECT_EQ(read_text(aside), torn + "\n");

  // The loop goes on appending, and the journal reads cleanly afterwards.
  append(m_file, experiment(2, "s", "discard", "h2"));
  warnings.clear();
  Journal again = load(m_file, warnings);
  EXPECT_TRUE(warnings.empty());
  ASSERT_EQ(again.experiments.size(), 2u);
  EXPECT_EQ(again.experiments[1].value("id", 0), 2);
}

TEST_F(JournalLoad, ValidLastLineWithoutNewlineSurvivesTheNextAppend) {
  // An editor that drops the final newline, or a crash between the record and its newline.
  write_text(m_file, header("s", "c").dump() + "\n" + experiment(1, "s", "keep", "h1").dump());
  std::vector<std::string> warnings;
  Journal j = load(m_file, warnings);
  ASSERT_EQ(j.experiments.size(), 1u);

  append(m_file, experiment(2, "s", "discard", "h2"));
  std::vector<std::string> later;
  try {
    Journal again = load(m_file, later);
    EXPECT_EQ(again.experiments.size(), 2u);
  } catch (const Error& e) {
    GTEST_SKIP() << "BUG: appending after a last line without its newline glues two records into one line, "
                    "and the journal no longer loads: "
                 << e.what();
  }
}

TEST_F(JournalLoad, MalformedMiddleLineNamesPathAndLine) {
  std::string message =
      load_error(header("s", "c").dump() + "\n" + "{not json\n" + experiment(1, "s", "keep", "h1").dump() + "\n");
  EXPECT_TRUE(contains(message, at(2) + ":"));
  fs::path aside = m_file;
  aside += ".corrupt";
  EXPECT_FALSE(fs::exists(aside)) << "only a torn last line is moved aside";
}

TEST_F(JournalLoad, MalformedTerminatedLastLineIsAnErrorNotATear) {
  // A complete line (it has its newline) was written whole: garbage there is not a torn append.
  std::string message = load_error(header("s", "c").dump() + "\n" + "[1, 2, 3]\n");
  EXPECT_TRUE(contains(message, at(2) + ":"));
}

TEST_F(JournalLoad, UnknownStatusNamesTheLineAndTheStatus) {
  std::string message = load_error(header("s", "c").dump() + "\n" + experiment(1, "s", "keep", "h1").dump() + "\n" +
                                   experiment(2, "s", "kept", "h2").dump() + "\n");
  EXPECT_TRUE(contains(message, at(3) + ":"));
  EXPECT_TRUE(contains(message, "\"kept\""));
}

TEST_F(JournalLoad, EveryDocumentedStatusLoads) {
  std::string content = header("s", "c").dump() + "\n";
  int id = 0;
  for (const char* s : {"keep", "discard", "inconclusive", "checks_failed", "crash", "timeout", "apply_failed",
                        "rejected", "interrupted"}) {
    EXPECT_TRUE(is_status(s)) << s;
    ++id;
    content += experiment(id, "s", s, "h" + std::to_string(id)).dump() + "\n";
  }
  EXPECT_FALSE(is_status("kept"));
  EXPECT_FALSE(is_status(""));
  EXPECT_EQ(statuses().size(), 9u);
  write_text(m_file, content);
  std::vector<std::string> warnings;
  EXPECT_EQ(load(m_file, warnings).experiments.size(), 9u);
}

TEST_F(JournalLoad, UnsupportedSchemaIsAnError) {
  json future = header("s", "c");
  future["schema"] = k_schema + 1;
  std::string message = load_error(future.dump() + "\n");
  EXPECT_TRUE(contains(message, at(1) + ":"));
  EXPECT_TRUE(contains(message, "schema " + std::to_string(k_schema + 1)));

  json none = experiment(1, "s", "keep", "h");
  none.erase("schema");
  EXPECT_TRUE(contains(load_error(header("s", "c").dump() + "\n" + none.dump() + "\n"), at(2) + ":"));
}

TEST_F(JournalLoad, UnknownRecordTypeIsAnError) {
  json odd = header("s", "c");
  odd["type"] = "footer";
  std::string message = load_error(odd.dump() + "\n");
  EXPECT_TRUE(contains(message, at(1) + ":"));
  EXPECT_TRUE(contains(message, "footer"));
}

TEST_F(JournalLoad, WrongFieldTypesAreJournalErrorsNamingTheLine) {
  // Hand edits happen; a mistyped field must read like any other bad line, not a JSON library
  // exception without a location.
  json text_schema = header("s", "c");
  text_schema["schema"] = "1";
  std::string message = load_error(text_schema.dump() + "\n");
  if (!contains(message, at(1) + ":")) {
    GTEST_SKIP() << "BUG: a string \"schema\" escapes as a nlohmann::json exception without path:line: " << message;
  }
  json numeric_status = experiment(1, "s", "keep", "h");
  numeric_status["status"] = 3;
  EXPECT_TRUE(contains(load_error(header("s", "c").dump() + "\n" + numeric_status.dump() + "\n"), at(2) + ":"));
}

// ---- view ------------------------------------------------------------------------------------

class JournalView : public JournalTest {
 protected:
  void write(const std::vector<json>& records) {
    for (const json& r : records) append(m_file, r);
  }
  SessionView view_of(const std::string& session, bool with_index = true) {
    std::vector<std::string> warnings;
    SessionView v = load_view(m_file, session, warnings, true, with_index ? m_index : fs::path());
    EXPECT_TRUE(warnings.empty()) << warnings.front();
    return v;
  }
  fs::path m_index = m_dir / "state" / k_index_file;
  void SetUp() override { fs::create_directories(m_index.parent_path()); }
};

// Two views agree on everything a reader or the loop looks at.
void expect_same(const SessionView& a, const SessionView& b) {
  EXPECT_EQ(a.session, b.session);
  EXPECT_EQ(a.start_commit, b.start_commit);
  EXPECT_EQ(a.header, b.header);
  EXPECT_EQ(a.last_stop, b.last_stop);
  EXPECT_EQ(a.last_calibration, b.last_calibration);
  EXPECT_EQ(a.last_verify, b.last_verify);
  EXPECT_EQ(a.tried_hashes, b.tried_hashes);
  EXPECT_EQ(a.interrupted_count, b.interrupted_count);
  EXPECT_EQ(a.kept, b.kept);
  EXPECT_EQ(a.dead_ends, b.dead_ends);
  EXPECT_EQ(a.counts, b.counts);
  EXPECT_EQ(a.next_id, b.next_id);
  EXPECT_EQ(a.first_measured, b.first_measured);
  EXPECT_DOUBLE_EQ(a.keep_product, b.keep_product);
  ASSERT_EQ(a.experiments.size(), b.experiments.size());
  for (size_t i = 0; i < a.experiments.size(); ++i) {
    const Summary& x = a.experiments[i];
    const Summary& y = b.experiments[i];
    EXPECT_EQ(
        std::tie(x.id, x.status, x.reason, x.title, x.hypothesis, x.mechanism, x.idea, x.source_kind, x.source_file,
                 x.key, x.patch_sha256, x.diff_sha256, x.commit, x.base_commit, x.patch_file, x.sweep, x.sweep_value,
                 x.sweep_from, x.files, x.has_metric, x.has_sweep, x.pairs, x.offset, x.length),
        std::tie(y.id, y.status, y.reason, y.title, y.hypothesis, y.mechanism, y.idea, y.source_kind, y.source_file,
                 y.key, y.patch_sha256, y.diff_sha256, y.commit, y.base_commit, y.patch_file, y.sweep, y.sweep_value,
                 y.sweep_from, y.files, y.has_metric, y.has_sweep, y.pairs, y.offset, y.length))
        << "experiment " << i;
    EXPECT_EQ(std::tie(x.effect, x.ci_low, x.ci_high, x.p, x.base_median, x.candidate_median),
              std::tie(y.effect, y.ci_low, y.ci_high, y.p, y.base_median, y.candidate_median));
  }
}

json measured(int id, const std::string& session, const std::string& status, const std::string& hash, double effect) {
  json r = experiment(id, session, status, hash);
  r["source"] = {{"kind", "queue"}, {"file", "experiments/" + hash + ".patch"}};
  r["diff_sha256"] = "d-" + hash;
  r["files"] = {"src/a.c", "src/b.c"};
  r["pairs"] = 6;
  r["metric"] = {
      {"base", {10.0, 11.0}}, {"candidate", {9.0, 9.5}}, {"base_median", 10.5},      {"candidate_median", 9.25},
      {"effect", effect},     {"ci_low", effect - 0.01}, {"ci_high", effect + 0.01}, {"p", 0.01}};
  return r;
}

TEST_F(JournalView, SummarisesOneSession) {
  json h2 = header("night", "start-2");
  h2["config"]["metric"]["name"] = "cpu_ms";  // a config change opens a new segment
  write({header("night", "start-1"), header("other", "start-x"), experiment(1, "night", "keep", "ha"),
         experiment(2, "night", "discard", "hb"), h2, experiment(7, "other", "keep", "hz"),
         experiment(3, "night", "interrupted", "hc"), experiment(4, "night", "interrupted", "hc"),
         experiment(5, "night", "crash", "hc"), experiment(6, "night", "keep", "hd"),
         experiment(8, "night", "interrupted", "he")});

  SessionView v = view_of("night");
  EXPECT_EQ(v.session, "night");
  EXPECT_EQ(v.start_commit, "start-1");  // from the first header
  ASSERT_TRUE(v.header.has_value());
  EXPECT_EQ((*v.header)["config"]["metric"]["name"], "cpu_ms");  // the latest header
  ASSERT_EQ(v.experiments.size(), 7u);
  for (const Summary& e : v.experiments) EXPECT_EQ(read_record(m_file, e)["session"], "night");

  EXPECT_EQ(v.counts, (std::map<std::string, int>{{"keep", 2}, {"discard", 1}, {"interrupted", 3}, {"crash", 1}}));
  // Interrupted runs are not tries: "he" was only ever interrupted.
  EXPECT_EQ(v.tried_hashes, (std::set<std::string>{"ha", "hb", "hc", "hd"}));
  EXPECT_EQ(v.interrupted_count, (std::map<std::string, int>{{"hc", 2}, {"he", 1}}));
  EXPECT_EQ(v.kept, (std::vector<size_t>{0, 5}));
  EXPECT_EQ(v.experiments[v.kept[1]].id, 6);
  EXPECT_EQ(v.next_id, 9);  // after the highest id of this session, not of the file
}

TEST_F(JournalView, SessionsAreKeptApart) {
  write({header("a", "ca"), header("b", "cb"), experiment(1, "a", "keep", "x"), experiment(1, "b", "discard", "y"),
         experiment(2, "b", "keep", "z")});
  for (bool indexed : {false, true, true}) {
    SessionView a = view_of("a", indexed);
    SessionView b = view_of("b", indexed);
    EXPECT_EQ(a.experiments.size(), 1u);
    EXPECT_EQ(b.experiments.size(), 2u);
    EXPECT_EQ(a.start_commit, "ca");
    EXPECT_EQ(b.start_commit, "cb");
    EXPECT_EQ(a.tried_hashes, (std::set<std::string>{"x"}));
    EXPECT_EQ(b.tried_hashes, (std::set<std::string>{"y", "z"}));
    EXPECT_EQ(a.next_id, 2);
    EXPECT_EQ(b.next_id, 3);
    EXPECT_EQ(b.kept, (std::vector<size_t>{1}));
  }
}

TEST_F(JournalView, UnknownSessionIsEmpty) {
  write({header("a", "ca"), experiment(1, "a", "keep", "x")});
  SessionView v = view_of("new");
  EXPECT_FALSE(v.header.has_value());
  EXPECT_EQ(v.start_commit, "");
  EXPECT_TRUE(v.experiments.empty());
  EXPECT_TRUE(v.counts.empty());
  EXPECT_TRUE(v.tried_hashes.empty());
  EXPECT_EQ(v.next_id, 1);
}

TEST_F(JournalView, MissingJournalIsAnEmptyViewAndWritesNothing) {
  SessionView v = view_of("s");
  EXPECT_TRUE(v.experiments.empty());
  EXPECT_FALSE(fs::exists(m_file));
  EXPECT_FALSE(fs::exists(m_index));
}

TEST_F(JournalView, SummaryCarriesTheRecordsFields) {
  json r = measured(3, "s", "keep", "h3", -0.2);
  r["key"] = "sweep:block=64";
  r["commit"] = "c0ffee";
  r["base_commit"] = "base1";
  r["patch_file"] = ".autoresearch/patches/0003.patch";
  r["asi"] = {{"sweep", "block"}, {"value", "64"}, {"from", "32"}};
  r["idea"] = "I4";
  Appended a = append(m_file, r);
  Summary s = summarize(r, a.offset, a.length);
  EXPECT_EQ(s.id, 3);
  EXPECT_EQ(s.key, "sweep:block=64");
  EXPECT_EQ(s.patch_sha256, "h3");
  EXPECT_EQ(s.diff_sha256, "d-h3");
  EXPECT_EQ(s.source_kind, "queue");
  EXPECT_EQ(s.source_file, "experiments/h3.patch");
  EXPECT_EQ(s.commit, "c0ffee");
  EXPECT_EQ(s.base_commit, "base1");
  EXPECT_EQ(s.sweep, "block");
  EXPECT_EQ(s.sweep_value, "64");
  EXPECT_EQ(s.sweep_from, "32");
  EXPECT_TRUE(s.has_sweep);
  EXPECT_EQ(s.files, (std::vector<std::string>{"src/a.c", "src/b.c"}));
  EXPECT_TRUE(s.has_metric);
  EXPECT_DOUBLE_EQ(s.effect, -0.2);
  EXPECT_DOUBLE_EQ(s.base_median, 10.5);
  EXPECT_DOUBLE_EQ(s.candidate_median, 9.25);
  EXPECT_EQ(s.pairs, 6);
  Summary plain = summarize(experiment(4, "s", "crash", "h4"), 0, 0);
  EXPECT_EQ(plain.key, "h4");  // defaults to the patch hash
  EXPECT_FALSE(plain.has_metric);
  EXPECT_DOUBLE_EQ(plain.p, 1.0);
}

TEST_F(JournalView, AppendReportsWhereTheLineIsAndReadRecordReadsItBack) {
  append(m_file, header("s", "c"));
  json e1 = measured(1, "s", "keep", "h1", -0.1);
  e1["title"] = "unicode µs and \"quotes\"\nand a newline";
  Appended a1 = append(m_file, e1);
  Appended a2 = append(m_file, measured(2, "s", "discard", "h2", 0.1));
  std::string text = read_text(m_file);
  EXPECT_EQ(a1.offset, text.find("{\"diff_sha256\""));
  EXPECT_EQ(text[a1.offset + a1.length], '\n');
  EXPECT_EQ(a2.offset, a1.offset + a1.length + 1);
  EXPECT_EQ(a2.offset + a2.length + 1, text.size());
  EXPECT_EQ(read_record(m_file, a1.offset, a1.length), e1);
  SessionView v = view_of("s");
  ASSERT_EQ(v.experiments.size(), 2u);
  EXPECT_EQ(v.experiments[0].offset, a1.offset);
  EXPECT_EQ(v.experiments[0].length, a1.length);
  EXPECT_EQ(read_record(m_file, v.experiments[0])["metric"]["base"], json({10.0, 11.0}));
  RecordReader reader(m_file);
  EXPECT_EQ(reader.read(v.experiments[1])["id"], 2);
  EXPECT_EQ(reader.read(v.experiments[0])["id"], 1);
  EXPECT_THROW(read_record(m_file, a1.offset + 1, a1.length), Error);
}

TEST_F(JournalView, IncrementalAddEqualsAFreshLoad) {
  // The loop's view grows by add_record after each append; it must equal what a reader loads.
  std::vector<json> records = {header("s", "c0"),
                               measured(1, "s", "keep", "h1", -0.1),
                               experiment(2, "s", "interrupted", "h2"),
                               experiment(3, "s", "checks_failed", "h3"),
                               measured(4, "s", "discard", "h4", 0.05),
                               measured(5, "s", "keep", "h5", -0.05),
                               experiment(6, "s", "interrupted", "h2"),
                               measured(7, "s", "inconclusive", "h1", 0.0)};
  json cal = {{"type", "calibration"}, {"schema", k_schema}, {"session", "s"}, {"pairs", 5}};
  json stop = {{"type", "stop"}, {"schema", k_schema}, {"session", "s"}, {"reason", "done"}};
  records.insert(records.begin() + 2, cal);
  records.push_back(stop);
  records.push_back(experiment(9, "other", "keep", "hx"));
  SessionView live;
  live.session = "s";
  live.journal = m_file;
  for (const json& r : records) live.add_record(r, append(m_file, r));
  expect_same(live, view_of("s", false));
  expect_same(live, view_of("s"));  // builds the index
  expect_same(live, view_of("s"));  // reads it
  EXPECT_EQ(live.first_measured, 0);
  EXPECT_NEAR(live.keep_product, 0.9 * 0.95, 1e-12);
  EXPECT_EQ(live.dead_ends, (std::vector<size_t>{2, 3}));
}

TEST_F(JournalView, LookupsFindFinalRecordsByKeyDiffAndOrigin) {
  write({header("s", "c"), experiment(1, "s", "interrupted", "h1"), measured(2, "s", "discard", "h1", 0.1),
         measured(3, "s", "keep", "h1", -0.1), measured(4, "s", "crash", "h4", 0)});
  SessionView v = view_of("s");
  ASSERT_NE(v.find_by_key("h1"), nullptr);
  EXPECT_EQ(v.find_by_key("h1")->id, 2);  // the first final record, not the interrupted one
  EXPECT_EQ(v.find_by_key("nope"), nullptr);
  EXPECT_EQ(v.find_by_key(""), nullptr);
  ASSERT_NE(v.find_by_diff("d-h4"), nullptr);
  EXPECT_EQ(v.find_by_diff("d-h4")->id, 4);
  EXPECT_EQ(v.find_by_diff(""), nullptr);
  EXPECT_TRUE(v.recorded_from("h1", "experiments/h1.patch"));
  EXPECT_FALSE(v.recorded_from("h1", "experiments/other.patch"));
  EXPECT_TRUE(v.recorded_from("h1", ""));  // the interrupted record has no source
}

TEST_F(JournalView, AReadersViewKeepsTheSummariesWithoutTheLookups) {
  write({header("s", "c"), experiment(1, "s", "interrupted", "h1"), measured(2, "s", "discard", "h1", 0.1),
         measured(3, "s", "keep", "h3", -0.1)});
  std::vector<std::string> warnings;
  SessionView full = view_of("s");
  SessionView lean = load_view(m_file, "s", warnings, false, m_index, Keep::summaries);
  EXPECT_TRUE(lean.tried_hashes.empty());
  EXPECT_TRUE(lean.interrupted_count.empty());
  EXPECT_THROW(lean.find_by_key("h1"), std::logic_error);
  lean.tried_hashes = full.tried_hashes;
  lean.interrupted_count = full.interrupted_count;
  expect_same(full, lean);
}

TEST_F(JournalView, IndexIsReusedAndOnlyTheNewTailIsParsed) {
  write({header("s", "c0")});
  std::string text = read_text(m_file);
  for (int i = 1; i <= 1000; ++i) {
    text += measured(i, "s", i % 7 == 0 ? "keep" : "discard", "h" + std::to_string(i), 0.01).dump() + "\n";
  }
  write_text(m_file, text);
  SessionView first = view_of("s");
  ASSERT_TRUE(fs::exists(m_index));
  auto index_size = fs::file_size(m_index);
  // A line the index covers is not read again: garbage there (same size) goes unnoticed as long
  // as the checked windows at the start and end are intact. This is how we know it was not parsed.
  size_t mid = text.size() / 2;
  size_t line = text.find("\"title\":\"exp ", mid);
  ASSERT_NE(line, std::string::npos);
  text[line + 9] = 'X';
  write_text(m_file, text);
  SessionView again = view_of("s");
  expect_same(first, again);

  // Another writer appends: the new records are read from the journal, and the index is kept.
  append(m_file, measured(1001, "s", "keep", "h1001", -0.3));
  SessionView more = view_of("s");
  ASSERT_EQ(more.experiments.size(), 1001u);
  EXPECT_EQ(more.experiments.back().id, 1001);
  EXPECT_EQ(more.next_id, 1002);
  EXPECT_EQ(fs::file_size(m_index), index_size) << "a small tail is cheaper to parse than to rewrite";
  SessionView fresh = view_of("s", false);
  EXPECT_EQ(fresh.experiments.back().title, more.experiments.back().title);
}

TEST_F(JournalView, IndexIsRebuiltWhenTheJournalIsTruncatedOrRewritten) {
  write({header("s", "c0"), measured(1, "s", "keep", "h1", -0.1), measured(2, "s", "discard", "h2", 0.1),
         measured(3, "s", "discard", "h3", 0.1)});
  SessionView full = view_of("s");
  ASSERT_EQ(full.experiments.size(), 3u);
  ASSERT_TRUE(fs::exists(m_index));

  // Truncated: the last record is gone.
  fs::resize_file(m_file, full.experiments[2].offset);
  SessionView cut = view_of("s");
  EXPECT_EQ(cut.experiments.size(), 2u);
  expect_same(cut, view_of("s", false));

  // Rewritten with other records of the same length.
  std::string text = read_text(m_file);
  size_t at = text.find("\"status\":\"discard\"");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, 18, "\"status\":\"crashed\"");
  text.replace(text.find("crashed"), 7, "timeout");
  write_text(m_file, text);
  SessionView rewritten = view_of("s");
  EXPECT_EQ(rewritten.experiments[1].status, "timeout");
  expect_same(rewritten, view_of("s", false));

  // Rewritten longer, with more records: the sums at the old end no longer match.
  write_text(m_file, "");
  write({header("s", "c9"), measured(1, "s", "discard", "x1", 0.1), measured(2, "s", "discard", "x2", 0.1),
         measured(3, "s", "keep", "x3", -0.1), measured(4, "s", "keep", "x4", -0.1)});
  SessionView other = view_of("s");
  EXPECT_EQ(other.start_commit, "c9");
  expect_same(other, view_of("s", false));
}

TEST_F(JournalView, CorruptOrForeignIndexIsRebuiltSilently) {
  write({header("s", "c0"), measured(1, "s", "keep", "h1", -0.1), measured(2, "s", "discard", "h2", 0.1)});
  SessionView good = view_of("s", false);
  for (const std::string& junk : {std::string(), std::string("not an index"), std::string(200, '\0')}) {
    write_text(m_index, junk);
    expect_same(good, view_of("s"));
  }
  // Cut halfway through its entries.
  view_of("s");
  std::string index = read_text(m_index);
  write_text(m_index, index.substr(0, index.size() - 10));
  expect_same(good, view_of("s"));
  expect_same(good, view_of("s"));
}

TEST_F(JournalView, TornLastLineIsHandledWithTheIndex) {
  write({header("s", "c0"), measured(1, "s", "keep", "h1", -0.1)});
  view_of("s");  // the index covers both lines
  const std::string torn = R"({"type":"experiment","schema":1,"id":2,"sess)";
  std::string good = read_text(m_file);
  write_text(m_file, good + torn);

  // A reader (repair = false) skips it and leaves the journal alone.
  std::vector<std::string> warnings;
  SessionView reader = load_view(m_file, "s", warnings, false, m_index);
  EXPECT_EQ(reader.experiments.size(), 1u);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_TRUE(contains(warnings[0], at(3)));
  EXPECT_EQ(read_text(m_file), good + torn);

  // The loop (repair = true) moves it aside and cuts it off.
  warnings.clear();
  SessionView loop = load_view(m_file, "s", warnings, true, m_index);
  EXPECT_EQ(loop.experiments.size(), 1u);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_TRUE(contains(warnings[0], ".corrupt"));
  EXPECT_EQ(read_text(m_file), good);
  append(m_file, measured(2, "s", "discard", "h2", 0.1));
  EXPECT_EQ(view_of("s").experiments.size(), 2u);
}

TEST_F(JournalView, CompleteLastLineWithoutNewlineIsReadButNotIndexed) {
  write({header("s", "c0")});
  std::string text = read_text(m_file) + measured(1, "s", "keep", "h1", -0.1).dump();
  write_text(m_file, text);
  std::vector<std::string> warnings;
  SessionView reader = load_view(m_file, "s", warnings, false, m_index);
  EXPECT_EQ(reader.experiments.size(), 1u);
  EXPECT_EQ(read_text(m_file), text);  // a reader does not write the journal
  // The writer finishes the line; then the next append is a line of its own.
  SessionView loop = load_view(m_file, "s", warnings, true, m_index);
  EXPECT_EQ(loop.experiments.size(), 1u);
  append(m_file, measured(2, "s", "discard", "h2", 0.1));
  expect_same(view_of("s"), view_of("s", false));
  EXPECT_EQ(view_of("s").experiments.size(), 2u);
}

TEST_F(JournalView, ErrorsInTheTailNameTheirLineWhenAnIndexCoversTheStart) {
  write({header("s", "c0"), measured(1, "s", "keep", "h1", -0.1)});
  view_of("s");
  std::string text = read_text(m_file) + "\n" + "{not json\n" + measured(2, "s", "keep", "h2", -0.1).dump() + "\n";
  write_text(m_file, text);
  std::vector<std::string> warnings;
  try {
    load_view(m_file, "s", warnings, false, m_index);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_TRUE(contains(e.what(), at(4) + ":"));
  }
}

TEST_F(JournalView, ScalesToTwentyThousandRecords) {
  // A generated session: the second load reads the index, not the journal.
  std::string text = header("s", "c0").dump() + "\n";
  for (int i = 1; i <= 20000; ++i) {
    text +=
        measured(i, "s", i % 20 == 0 ? "keep" : "discard", "h" + std::to_string(i), i % 20 == 0 ? -0.01 : 0.01).dump() +
        "\n";
  }
  write_text(m_file, text);
  SessionView built = view_of("s");
  SessionView again = view_of("s");
  ASSERT_EQ(again.experiments.size(), 20000u);
  EXPECT_EQ(again.kept.size(), 1000u);
  EXPECT_EQ(again.find_by_key("h12345")->id, 12345);
  EXPECT_EQ(read_record(m_file, again.experiments[19999])["id"], 20000);
  expect_same(built, again);
}

// A pi-autoresearch log renamed to results.jsonl (or lines of one in it) is skipped with one
// warning naming the lines, never "missing field schema"; our own records around it still count.
TEST(Journal, PiLogLinesAreSkippedWithOneWarning) {
  TempDir dir;
  fs::path p = dir / "results.jsonl";
  std::string pi =
      "{\"type\":\"config\",\"name\":\"g\",\"metricName\":\"t_ms\",\"metricUnit\":\"ms\",\"bestDirection\":\"lower\"}\n"
      "{\"run\":1,\"commit\":\"abc1234\",\"metric\":12,\"status\":\"keep\",\"description\":\"base\"}\n"
      "{\"type\":\"hook\",\"event\":\"after\"}\n"
      "not JSON: pi skips such lines\n";
  write_text(p, pi + line_of(header("s", "abc")) + line_of(experiment(1, "s", "discard", "h1")));
  for (bool repair : {false, true}) {
    std::vector<std::string> warnings;
    SessionView v = load_view(p, "s", warnings, repair);
    EXPECT_EQ(v.experiments.size(), 1u);
    ASSERT_EQ(warnings.size(), 1u);
    EXPECT_TRUE(contains(warnings[0], "results.jsonl:1: 4 line(s) of a pi-autoresearch log"));
    EXPECT_TRUE(contains(warnings[0], "autoresearch import"));
  }
  EXPECT_EQ(read_text(p).substr(0, pi.size()), pi);  // skipped, never rewritten
}

TEST(Journal, AForeignLineWithoutSchemaNamesTheFile) {
  TempDir dir;
  fs::path p = dir / "results.jsonl";
  write_text(p, "{\"hello\":1}\n");
  std::vector<std::string> warnings;
  try {
    load_view(p, "s", warnings);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_TRUE(contains(e.what(), "results.jsonl:1: not an autoresearch journal record"));
  }
}

}  // namespace
}  // namespace ar::journal
