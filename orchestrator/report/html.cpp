// reports/report.html: the morning report to look at. One self-contained file: inline SVG drawn
// here, inline CSS, and a few lines of inline script that only sort the tables; no network, no
// fonts, no library. Charts scale with the page (viewBox), and print.
#include "report/html.hpp"

#include "report/report.hpp"
#include "util/files.hpp"
#include "util/format.hpp"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

namespace ar::report {

namespace fs = std::filesystem;
using journal::Summary;
using nlohmann::json;

namespace {

std::string esc(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

const char* colour_of(const Summary& r) {
  if (r.status == "keep") return "#1a7f37";
  if (r.status == "discard") return r.reason == "regression" ? "#cf222e" : "#8c959f";
  if (r.status == "inconclusive") return "#bf8700";
  return "#6e7781";
}

// A chart's frame: `width` x `height` user units, data ranges mapped into the plot area.
struct Frame {
  double width = 720, height = 260, left = 56, right = 12, top = 12, bottom = 32;
  double x0 = 0, x1 = 1, y0 = 0, y1 = 1;
  double x(double v) const { return left + (v - x0) / (x1 - x0) * (width - left - right); }
  double y(double v) const { return top + (y1 - v) / (y1 - y0) * (height - top - bottom); }
  void pad_y() {
    if (y1 - y0 < 1e-9) {
      y0 -= 1;
      y1 += 1;
    }
    double pad = (y1 - y0) * 0.08;
    y0 -= pad;
    y1 += pad;
  }
};

// The opening tag, the y axis with a zero line and a few ticks (percentages), and the x label.
std::string open_chart(const Frame& f, const std::string& id, const std::string& label, const std::string& x_label) {
  std::string s = fmt::format(
      "<svg id=\"{}\" class=\"chart\" viewBox=\"0 0 {} {}\" role=\"img\" aria-label=\"{}\">\n"
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" class=\"plot\"/>\n",
      id, f.width, f.height, esc(label), f.left, f.top, f.width - f.left - f.right, f.height - f.top - f.bottom);
  for (int i = 0; i <= 4; ++i) {
    double v = f.y0 + (f.y1 - f.y0) * i / 4.0;
    s += fmt::format("<text x=\"{}\" y=\"{:.1f}\" class=\"tick\" text-anchor=\"end\">{:+.1f}%</text>\n", f.left - 4,
                     f.y(v) + 3, v);
  }
  if (f.y0 < 0 && f.y1 > 0) {
    s += fmt::format("<line x1=\"{}\" x2=\"{}\" y1=\"{:.1f}\" y2=\"{:.1f}\" class=\"zero\"/>\n", f.left, f.width - f.right,
                     f.y(0), f.y(0));
  }
  s += fmt::format("<text x=\"{}\" y=\"{}\" class=\"tick\" text-anchor=\"middle\">{}</text>\n",
                   (f.left + f.width - f.right) / 2, f.height - 6, esc(x_label));
  return s;
}

std::string trajectory_chart(const journal::SessionView& view, const Headline& h) {
  Frame f;
  std::vector<std::pair<double, double>> points;  // (experiment number, best vs baseline, %)
  std::vector<const Summary*> keeps;
  double best = h.baseline;
  for (const Summary& r : view.experiments) {
    if (r.status == "keep" && r.has_metric) {
      best = r.candidate_median;
      keeps.push_back(&r);
    }
    points.emplace_back(r.id, (best / h.baseline - 1.0) * 100.0);
  }
  f.x0 = 0;
  f.x1 = std::max(1.0, points.empty() ? 1.0 : points.back().first);
  f.y0 = 0;
  f.y1 = 0;
  for (const auto& p : points) {
    f.y0 = std::min(f.y0, p.second);
    f.y1 = std::max(f.y1, p.second);
  }
  f.pad_y();
  std::string s = open_chart(f, "chart-trajectory", "best value after each experiment", "experiment");
  std::string path = fmt::format("M{:.1f},{:.1f}", f.x(0), f.y(0));
  double last = 0;
  for (const auto& p : points) {
    path += fmt::format(" L{:.1f},{:.1f} L{:.1f},{:.1f}", f.x(p.first), f.y(last), f.x(p.first), f.y(p.second));
    last = p.second;
  }
  s += "<path d=\"" + path + "\" class=\"line\"/>\n";
  for (const Summary* k : keeps) {
    double v = (k->candidate_median / h.baseline - 1.0) * 100.0;
    s += fmt::format("<circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"4\" fill=\"#1a7f37\"><title>#{} {} ({})</title></circle>\n",
                     f.x(k->id), f.y(v), k->id, esc(k->title), util::pct(v / 100.0));
  }
  return s + "</svg>\n";
}

// Points with 95% CIs: (x position, summary), x in [0, n).
std::string effects_chart(const std::string& id, const std::string& label, const std::string& x_label,
                          const std::vector<std::pair<double, const Summary*>>& points, double x_span,
                          const std::vector<std::pair<double, std::string>>& x_ticks, double marked_x = -1,
                          double knee_x = -1) {
  Frame f;
  f.x0 = -0.5;
  f.x1 = std::max(0.5, x_span - 0.5);
  f.y0 = 0;
  f.y1 = 0;
  for (const auto& [x, r] : points) {
    f.y0 = std::min(f.y0, r->ci_low * 100);
    f.y1 = std::max(f.y1, r->ci_high * 100);
  }
  f.pad_y();
  std::string s = open_chart(f, id, label, x_label);
  for (const auto& [x, text] : x_ticks) {
    s += fmt::format("<text x=\"{:.1f}\" y=\"{}\" class=\"tick\" text-anchor=\"middle\">{}</text>\n", f.x(x),
                     f.height - f.bottom + 12, esc(text));
  }
  if (marked_x >= 0) {
    s += fmt::format("<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1}\" y2=\"{2}\" class=\"best\"/>\n", f.x(marked_x), f.top,
                     f.height - f.bottom);
  }
  if (knee_x >= 0) {
    s += fmt::format("<line x1=\"{0:.1f}\" x2=\"{0:.1f}\" y1=\"{1}\" y2=\"{2}\" class=\"knee\"/>\n", f.x(knee_x), f.top,
                     f.height - f.bottom);
  }
  for (const auto& [x, r] : points) {
    const char* c = colour_of(*r);
    s += fmt::format(
        "<g><title>#{} {}: {} {}</title><line x1=\"{:.1f}\" x2=\"{:.1f}\" y1=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" "
        "class=\"ci\"/><circle cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3.5\" fill=\"{}\"/></g>\n",
        r->id, esc(r->title), r->status, esc(util::effect_with_ci(r->effect, r->ci_low, r->ci_high)), f.x(x), f.x(x),
        f.y(r->ci_low * 100), f.y(r->ci_high * 100), c, f.x(x), f.y(r->effect * 100), c);
  }
  return s + "</svg>\n";
}

// Base against candidate samples of one kept experiment, as two rows of dots.
std::string strip_chart(const json& record) {
  const json& m = record["metric"];
  std::vector<double> base = m.value("base", std::vector<double>{});
  std::vector<double> cand = m.value("candidate", std::vector<double>{});
  if (base.empty() || cand.empty()) return "";
  double lo = std::min(*std::min_element(base.begin(), base.end()), *std::min_element(cand.begin(), cand.end()));
  double hi = std::max(*std::max_element(base.begin(), base.end()), *std::max_element(cand.begin(), cand.end()));
  if (hi - lo < 1e-12) hi = lo + 1;
  const double width = 720, left = 90, right = 12;
  auto x = [&](double v) { return left + (v - lo) / (hi - lo) * (width - left - right); };
  std::string s = fmt::format(
      "<svg id=\"chart-samples-{}\" class=\"chart strip\" viewBox=\"0 0 {} 70\" role=\"img\" aria-label=\"samples of "
      "experiment {}\">\n<text x=\"4\" y=\"24\" class=\"tick\">base</text><text x=\"4\" y=\"50\" "
      "class=\"tick\">candidate</text>\n",
      record.value("id", 0), width, record.value("id", 0));
  for (double v : base) s += fmt::format("<circle cx=\"{:.1f}\" cy=\"20\" r=\"3.5\" class=\"base\"/>\n", x(v));
  for (double v : cand) s += fmt::format("<circle cx=\"{:.1f}\" cy=\"46\" r=\"3.5\" class=\"cand\"/>\n", x(v));
  s += fmt::format("<text x=\"{}\" y=\"66\" class=\"tick\">{:.6g}</text><text x=\"{}\" y=\"66\" class=\"tick\" "
                   "text-anchor=\"end\">{:.6g}</text>\n",
                   left, lo, width - right, hi);
  return s + "</svg>\n";
}

const char* k_style = R"(body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:980px;padding:12px;color:#1f2328}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:1.6em;border-bottom:1px solid #d0d7de}
.chart{width:100%;height:auto;display:block;margin:6px 0 14px}
.plot{fill:#f6f8fa;stroke:#d0d7de}.tick{font-size:11px;fill:#57606a}.zero{stroke:#57606a;stroke-dasharray:3 3}
.line{fill:none;stroke:#0969da;stroke-width:2}.ci{stroke-width:2}.best{stroke:#1a7f37;stroke-dasharray:4 3}
.knee{stroke:#bf8700;stroke-dasharray:2 3}.base{fill:#8c959f}.cand{fill:#0969da}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{border-bottom:1px solid #d0d7de;padding:4px 6px;text-align:left}
th{cursor:pointer;background:#f6f8fa}td.n{text-align:right;font-variant-numeric:tabular-nums}
.wrap{overflow-x:auto}.flag{color:#cf222e;font-weight:600}.legend span{margin-right:12px}
@media print{th{cursor:auto}.chart{break-inside:avoid}body{max-width:none}}
@media (max-width:600px){body{font-size:14px;padding:6px}table{font-size:12px}})";

// Click a header to sort by that column (numbers by value); click again to reverse.
const char* k_script = R"(document.querySelectorAll('table.sortable').forEach(function(t){
t.querySelectorAll('th').forEach(function(th,i){th.addEventListener('click',function(){
var rows=Array.prototype.slice.call(t.tBodies[0].rows),up=th.dataset.dir!=='asc';th.dataset.dir=up?'asc':'desc';
rows.sort(function(a,b){var x=a.cells[i].dataset.v||a.cells[i].textContent,y=b.cells[i].dataset.v||b.cells[i].textContent;
var p=parseFloat(x),q=parseFloat(y);var c=(!isNaN(p)&&!isNaN(q))?p-q:x.localeCompare(y);return up?c:-c;});
rows.forEach(function(r){t.tBodies[0].appendChild(r);});});});});)";

std::string experiments_table(const journal::SessionView& view) {
  std::string s =
      "<div class=\"wrap\"><table class=\"sortable\" id=\"experiments\"><thead><tr><th>#</th><th>status</th>"
      "<th>title</th><th>effect</th><th>95% CI</th><th>pairs</th><th>reason</th></tr></thead><tbody>\n";
  for (const Summary& r : view.experiments) {
    s += fmt::format("<tr><td class=\"n\">{}</td><td style=\"color:{}\">{}</td><td>{}</td>", r.id, colour_of(r),
                     esc(r.status), esc(r.title));
    if (r.has_metric) {
      s += fmt::format("<td class=\"n\" data-v=\"{}\">{}</td><td class=\"n\" data-v=\"{}\">{} to {}</td>", r.effect,
                       util::pct(r.effect), r.ci_low, util::pct(r.ci_low), util::pct(r.ci_high));
    } else {
      s += "<td></td><td></td>";
    }
    s += fmt::format("<td class=\"n\">{}</td><td>{}</td></tr>\n", r.pairs, esc(r.reason));
  }
  return s + "</tbody></table></div>\n";
}

}  // namespace

std::string render_html(const journal::SessionView& view, const config::Config& cfg) {
  const Headline h = headline(view);
  std::string s = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
                  "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  s += fmt::format("<title>autoresearch: session {}</title>\n<style>{}</style></head><body>\n", esc(view.session), k_style);
  s += fmt::format("<h1>Session {}</h1>\n", esc(view.session));
  if (!cfg.goal.empty()) s += "<p>" + esc(cfg.goal) + "</p>\n";
  std::size_t kept = view.kept.size();
  if (h.measured) {
    // The same numbers as the headline table below (verify's when it measured the current best).
    const HeadlineTable t = headline_table(view, cfg);
    const HeadlineRow& p = t.rows.front();
    s += fmt::format(
        "<p><b>{}</b> ({} is better): baseline {:.6g}{u}, final {:.6g}{u}, <b>{}</b> after {} experiments, {} kept.</p>\n",
        esc(cfg.metric.name), decide::to_string(cfg.metric.direction), p.baseline, p.final, util::pct(p.change),
        view.experiments.size(), kept, fmt::arg("u", esc(cfg.metric.unit)));
  } else {
    s += fmt::format("<p>{} experiments; none measured yet.</p>\n", view.experiments.size());
  }
  if (h.measured) {
    const HeadlineTable t = headline_table(view, cfg);
    const bool with_ref = !t.reference.empty();
    s += "<div class=\"wrap\"><table id=\"headline\"><thead><tr><th>metric</th><th>role</th>";
    if (with_ref) s += "<th>reference</th>";
    s += "<th>baseline</th><th>final</th><th>change (95% CI)</th>";
    if (with_ref) s += "<th>× better than the reference</th>";
    s += "</tr></thead><tbody>\n";
    for (const HeadlineRow& r : t.rows) {
      s += fmt::format("<tr><td>{} ({} is better)</td><td>{}</td>", esc(r.name), decide::to_string(r.direction), esc(r.role));
      if (with_ref) s += r.has_reference ? fmt::format("<td class=\"n\">{:.6g}</td>", r.reference) : "<td></td>";
      s += fmt::format("<td class=\"n\">{:.6g}</td><td class=\"n\">{:.6g}</td><td class=\"n\"><b>{}</b>{}</td>", r.baseline,
                       r.final, util::pct(r.change),
                       r.has_ci ? fmt::format(" ({} to {})", util::pct(r.ci_low), util::pct(r.ci_high)) : "");
      if (with_ref) {
        s += r.has_reference ? fmt::format("<td class=\"n\"><b>{:.2f}×</b> ({:.2f}× to {:.2f}×)</td>", r.ratio, r.ratio_low,
                                           r.ratio_high)
                             : "<td></td>";
      }
      s += "</tr>\n";
    }
    s += "</tbody></table></div>\n";
    s += t.verified ? fmt::format("<p>Verified by <code>autoresearch verify</code> at {} ({} pairs{}).</p>\n", esc(t.at),
                                  t.pairs, with_ref ? ", the reference " + esc(t.reference) + " in the same run" : "")
                    : "<p>Medians from the journal; <code>autoresearch verify</code> adds the intervals.</p>\n";
  }
  s += "<p class=\"legend\"><span style=\"color:#1a7f37\">● keep</span><span style=\"color:#8c959f\">● no "
       "effect</span><span style=\"color:#cf222e\">● regression</span><span style=\"color:#bf8700\">● "
       "inconclusive</span></p>\n";

  s += "<h2>Best value after each experiment</h2>\n";
  s += h.measured ? trajectory_chart(view, h) : "<p>Nothing measured yet.</p>\n";

  s += "<h2>Effect of each experiment (95% CI)</h2>\n";
  std::vector<std::pair<double, const Summary*>> measured;
  std::vector<std::pair<double, std::string>> ticks;
  for (const Summary& r : view.experiments) {
    if (!r.has_metric) continue;
    ticks.emplace_back(static_cast<double>(measured.size()), std::to_string(r.id));
    measured.emplace_back(static_cast<double>(measured.size()), &r);
  }
  if (ticks.size() > 30) ticks.clear();  // too many to label; the tooltips name them
  s += measured.empty() ? "<p>Nothing measured yet.</p>\n"
                        : effects_chart("chart-effects", "effect of each experiment", "experiment", measured,
                                        static_cast<double>(measured.size()), ticks);

  // Each sweep: its values in the order tried, the best one and the knee (the first value whose
  // improvement reaches 80% of the best's) marked.
  std::vector<std::string> order;
  std::map<std::string, std::vector<const Summary*>> sweeps;
  for (const Summary& r : view.experiments) {
    if (!r.has_sweep || !r.has_metric) continue;
    if (sweeps[r.sweep].empty()) order.push_back(r.sweep);
    sweeps[r.sweep].push_back(&r);
  }
  s += "<h2>Sweeps</h2>\n";
  if (order.empty()) s += "<p>No sweep was measured.</p>\n";
  for (const std::string& name : order) {
    const auto& rows = sweeps[name];
    std::vector<std::pair<double, const Summary*>> pts;
    std::vector<std::pair<double, std::string>> labels;
    double best_x = -1, best_gain = 0;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      pts.emplace_back(static_cast<double>(i), rows[i]);
      labels.emplace_back(static_cast<double>(i), rows[i]->sweep_value);
      double gain = cfg.metric.direction == decide::Direction::lower ? -rows[i]->effect : rows[i]->effect;
      if (gain > best_gain) {
        best_gain = gain;
        best_x = static_cast<double>(i);
      }
    }
    double knee_x = -1;
    for (std::size_t i = 0; i < rows.size() && best_x >= 0; ++i) {
      double gain = cfg.metric.direction == decide::Direction::lower ? -rows[i]->effect : rows[i]->effect;
      if (gain >= 0.8 * best_gain) {
        knee_x = static_cast<double>(i);
        break;
      }
    }
    s += fmt::format("<h3>{}</h3>\n", esc(name));
    s += effects_chart("chart-sweep-" + name, "sweep " + name, "value", pts, static_cast<double>(rows.size()), labels,
                       best_x, knee_x);
  }

  const std::map<int, const json*> ablated = current_ablations(view);
  if (!view.kept.empty()) {
    s += "<h2>Do the keeps still pay? (ablate)</h2>\n";
    if (ablated.empty()) {
      s += "<p>Not ablated yet: <code>autoresearch ablate</code> measures the best commit with each keep reverted.</p>\n";
    } else {
      s += "<div class=\"wrap\"><table class=\"sortable\" id=\"ablation\"><thead><tr><th>#</th><th>title</th><th>when "
           "kept</th><th>at the best now</th><th>why</th></tr></thead><tbody>\n";
      for (std::size_t index : view.kept) {
        const Summary& k = view.experiments[index];
        auto a = ablated.find(k.id);
        if (a == ablated.end()) continue;
        const bool flag = no_longer_helps(*a->second);
        s += fmt::format("<tr{}><td class=\"n\">{}</td><td>{}</td><td class=\"n\">{}</td><td>{}{}</td><td>{}</td></tr>\n",
                         flag ? " class=\"flag\"" : "", k.id, esc(k.title),
                         esc(util::effect_with_ci(k.effect, k.ci_low, k.ci_high)), flag ? "⚠ " : "",
                         esc(ablation_text(*a->second)), esc(a->second->value("reason", "")));
      }
      s += "</tbody></table></div>\n";
    }
  }

  s += "<h2>Kept experiments: their samples</h2>\n";
  if (view.kept.empty()) s += "<p>Nothing was kept.</p>\n";
  journal::RecordReader reader(view.journal);
  for (std::size_t index : view.kept) {
    const Summary& k = view.experiments[index];
    json record = reader.read(k);
    s += fmt::format("<h3>#{} {}: {}</h3>\n", k.id, esc(k.title), esc(util::effect_with_ci(k.effect, k.ci_low, k.ci_high)));
    auto a = ablated.find(k.id);
    if (a != ablated.end() && no_longer_helps(*a->second)) {
      s += fmt::format("<p class=\"flag\">⚠ No longer helps at the best commit: {} ({}).</p>\n",
                       esc(ablation_text(*a->second)), esc(a->second->value("reason", "")));
    }
    if (!k.mechanism.empty()) s += "<p>" + esc(k.mechanism) + "</p>\n";
    if (record.contains("metric") && record["metric"].is_object()) s += strip_chart(record);
  }

  s += "<h2>All experiments</h2>\n<p>Click a column to sort.</p>\n" + experiments_table(view);
  s += fmt::format("<p>Written by autoresearch from {}; the Markdown report beside this file has the methodology "
                   "and the raw numbers.</p>\n<script>{}</script>\n</body></html>\n",
                   esc(view.journal.filename().string()), k_script);
  return s;
}

void write_html(const journal::SessionView& view, const config::Config& cfg, const fs::path& dir) {
  fs::create_directories(dir);
  util::write_file_atomic(dir / "report.html", render_html(view, cfg), false);
}

}  // namespace ar::report
