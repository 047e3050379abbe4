// reports/report.html (issue 13, items 1 and 8), rendered in a real browser: headless Chromium
// loads the file from disk, a probe script added to a copy of it measures every chart, and a
// screenshot is taken. Every chart must be an SVG element with a non-blank bounding box and marks.

#include "e2e/robust_support.hpp"

#include <gtest/gtest.h>

#include <map>
#include <sstream>

namespace ar::test {
namespace {

namespace fs = std::filesystem;

const char* const k_probe = R"(<script>
window.addEventListener('load', function () {
  var out = [];
  document.querySelectorAll('svg.chart').forEach(function (s) {
    var r = s.getBoundingClientRect();
    out.push(s.id + ' ' + Math.round(r.width) + ' ' + Math.round(r.height) + ' ' +
             s.querySelectorAll('circle,path,line').length);
  });
  var p = document.createElement('pre');
  p.id = 'chart-probe';
  p.textContent = out.join('\n');
  document.body.appendChild(p);
});
</script>)";

TEST(ReportHtmlE2E, EveryChartDrawsInHeadlessChromium) {
  std::string chromium;
  ASSERT_EQ(shell("command -v chromium || command -v chromium-browser", &chromium), 0)
      << "headless Chromium is needed for this test: install the chromium package (.ci/deps does)";
  chromium = chromium.substr(0, chromium.find('\n'));

  TempDir tmp("autoresearch-html");
  FixtureRepo repo(tmp.path(),
                   "sources:\n  sweeps:\n    - name: slowness\n      file: slow.txt\n      pattern: '^([0-9.]+)'\n"
                   "      values: ['1.2', '0.95']\n");
  repo.queue_change("01-faster.patch", "Title: Faster\nMechanism: less work per run", "speed.txt", "0.8\n");
  repo.queue_change("02-noop.patch", "Title: A note", "notes.txt", "more notes\n");
  git(repo.root, "add -A");
  git(repo.root, "commit -qm queue");
  CliResult run = run_cli(repo.root, "run");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  CliResult report = run_cli(repo.root, "report");
  ASSERT_EQ(report.exit_code, 0) << report.output;
  std::string html = read_text(repo.root / "reports/report.html");
  EXPECT_EQ(html.find("http"), std::string::npos) << "the report must not load anything from the network";

  // The probe goes into a copy; the report itself carries no test code.
  std::string probed = html;
  probed.insert(probed.rfind("</body>"), k_probe);
  write_text(tmp / "probed.html", probed);
  std::string dom;
  std::string flags = " --headless=new --no-sandbox --disable-gpu --hide-scrollbars --virtual-time-budget=3000 "
                      "--window-size=1000,2000 ";
  int rc = shell(shell_quote(chromium) + flags + "--dump-dom " + shell_quote("file://" + (tmp / "probed.html").string()) +
                     " 2>/dev/null",
                 &dom);
  ASSERT_EQ(rc, 0) << dom;
  std::size_t at = dom.find("<pre id=\"chart-probe\">");
  ASSERT_NE(at, std::string::npos) << dom.substr(0, 2000);
  std::string probe = dom.substr(at + 22, dom.find("</pre>", at) - at - 22);

  std::map<std::string, std::string> charts;
  std::istringstream lines(probe);
  for (std::string id, line; std::getline(lines, line);) {
    std::istringstream fields(line);
    int width = 0, height = 0, marks = 0;
    fields >> id >> width >> height >> marks;
    EXPECT_GT(width, 100) << line;
    EXPECT_GT(height, 20) << line;
    EXPECT_GT(marks, 0) << line;
    charts[id] = line;
  }
  for (const char* id : {"chart-trajectory", "chart-effects", "chart-sweep-slowness", "chart-samples-1"}) {
    EXPECT_EQ(charts.count(id), 1u) << id << " missing; drawn:\n" << probe;
  }

  std::string shot_log;
  fs::path shot = tmp / "report.png";
  rc = shell(shell_quote(chromium) + flags + "--screenshot=" + shell_quote(shot.string()) + " " +
                 shell_quote("file://" + (repo.root / "reports/report.html").string()) + " 2>&1",
             &shot_log);
  ASSERT_EQ(rc, 0) << shot_log;
  std::string png = read_text(shot);
  ASSERT_GT(png.size(), 10000u) << "a blank page compresses to almost nothing";
  EXPECT_EQ(png.substr(1, 3), "PNG");
}

}  // namespace
}  // namespace ar::test
