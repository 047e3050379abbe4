// ideas.md as people keep it (issue 10, item 6): a symlinked ideas.md is written through to its
// target and stays a symlink; a temp file a killed run left beside it is removed on the next start.

#include "e2e/e2e_support.hpp"

#include <gtest/gtest.h>

namespace ar::test {
namespace {

namespace fs = std::filesystem;

TEST(IdeasFileE2E, ASymlinkedIdeasFileIsWrittenThroughAndStaleTempFilesGo) {
  TempDir tmp("autoresearch-ideas-file");
  FixtureRepo repo(tmp.path());
  write_text(repo.root / "notes" / "ideas-real.md", "# Ideas\n\n- Lower the speed factor (01-faster.patch)\n");
  fs::create_symlink("notes/ideas-real.md", repo.root / "ideas.md");
  repo.queue_change("01-faster.patch", "Title: Faster", "speed.txt", "0.9\n");
  git(repo.root, "add -A");
  git(repo.root, "commit -qm ideas");
  // What a run killed between writing its temp file and renaming it leaves behind.
  fs::path stale = repo.root / "ideas.md.autoresearch-2147483.tmp";
  write_text(stale, "half an edit\n");

  CliResult run = run_cli(repo.root, "run");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  EXPECT_TRUE(fs::is_symlink(repo.root / "ideas.md")) << "ideas.md was replaced by a regular file";
  std::string ideas = read_text(repo.root / "notes" / "ideas-real.md");
  EXPECT_NE(ideas.find("in experiment 1"), std::string::npos) << ideas;
  EXPECT_FALSE(fs::exists(stale));
  for (const auto& e : fs::directory_iterator(repo.root / "notes")) {
    EXPECT_EQ(e.path().filename().string().find(".tmp"), std::string::npos) << e.path();
  }
}

// init writes ideas.md only where nothing is: a symlink whose target is missing is refused too,
// naming the target, and stays a link; nothing else is written.
TEST(IdeasFileE2E, InitRefusesADanglingIdeasSymlinkInsteadOfReplacingIt) {
  TempDir tmp("autoresearch-ideas-init");
  git(tmp.path(), "init -q");
  fs::create_symlink("notes/gone.md", tmp / "ideas.md");
  CliResult init = run_cli(tmp.path(), "init");
  EXPECT_EQ(init.exit_code, 1) << init.output;
  EXPECT_NE(init.output.find("refusing to overwrite existing ./ideas.md (a symlink to notes/gone.md, which does not "
                             "exist); nothing was written"),
            std::string::npos)
      << init.output;
  EXPECT_TRUE(fs::is_symlink(tmp / "ideas.md")) << "ideas.md was replaced by a regular file";
  EXPECT_FALSE(fs::exists(tmp / "autoresearch.config.yaml"));
  EXPECT_FALSE(fs::exists(tmp / "experiments"));
}

}  // namespace
}  // namespace ar::test
