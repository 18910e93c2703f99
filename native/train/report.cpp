// HTML report (report.h). Everything is escaped; charts are hand-built SVG polylines.
#include "train/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace hunch::train {

namespace {

std::string esc(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&#39;"; break;
      default: o += c;
    }
  }
  return o;
}

std::string fmt(double v, int prec = 4) {
  if (std::isnan(v)) return "–";
  char b[40];
  std::snprintf(b, sizeof b, "%.*f", prec, v);
  return b;
}

const char* const kColors[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"};

struct Series {
  std::string         name;
  std::vector<double> x, y;
};

// A line chart with axes, ticks and a legend. Points with NaN y are skipped.
std::string line_chart(const std::string& title, const std::string& x_label, const std::vector<Series>& series,
                       bool y_from_zero) {
  const double W = 560, H = 300, L = 60, R = 150, Tp = 30, B = 45;
  double x0 = INFINITY, x1 = -INFINITY, y0 = INFINITY, y1 = -INFINITY;
  for (const auto& s : series)
    for (size_t i = 0; i < s.x.size(); ++i) {
      if (std::isnan(s.y[i])) continue;
      x0 = std::min(x0, s.x[i]); x1 = std::max(x1, s.x[i]);
      y0 = std::min(y0, s.y[i]); y1 = std::max(y1, s.y[i]);
    }
  if (!std::isfinite(x0)) return "";
  if (y_from_zero) y0 = std::min(0.0, y0);
  if (x1 == x0) x1 = x0 + 1;
  if (y1 == y0) y1 = y0 + 1;
  double pad = (y1 - y0) * 0.05;
  y1 += pad;
  if (!y_from_zero) y0 -= pad;
  auto px = [&](double x) { return L + (x - x0) / (x1 - x0) * (W - L - R); };
  auto py = [&](double y) { return H - B - (y - y0) / (y1 - y0) * (H - Tp - B); };
  std::ostringstream o;
  char b[256];
  std::snprintf(b, sizeof b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%g\" height=\"%g\" viewBox=\"0 0 %g %g\" role=\"img\">", W, H, W, H);
  o << b << "<title>" << esc(title) << "</title>";
  std::snprintf(b, sizeof b, "<text x=\"%g\" y=\"18\" class=\"t\">", L);
  o << b << esc(title) << "</text>";
  // Axes and ticks.
  std::snprintf(b, sizeof b, "<path d=\"M%g %gV%gH%g\" class=\"ax\"/>", L, double(Tp), H - B, W - R);
  o << b;
  for (int i = 0; i <= 4; ++i) {
    double y = y0 + (y1 - y0) * i / 4.0;
    std::snprintf(b, sizeof b, "<text x=\"%g\" y=\"%g\" class=\"yl\">%s</text><path d=\"M%g %gH%g\" class=\"grid\"/>",
                  L - 6, py(y) + 4, fmt(y, 3).c_str(), L, py(y), W - R);
    o << b;
  }
  std::vector<double> xs;
  for (const auto& s : series) xs.insert(xs.end(), s.x.begin(), s.x.end());
  std::sort(xs.begin(), xs.end());
  xs.erase(std::unique(xs.begin(), xs.end()), xs.end());
  size_t step = std::max<size_t>(1, xs.size() / 10);
  for (size_t i = 0; i < xs.size(); i += step) {
    std::snprintf(b, sizeof b, "<text x=\"%g\" y=\"%g\" class=\"xl\">%g</text>", px(xs[i]), H - B + 16, xs[i]);
    o << b;
  }
  std::snprintf(b, sizeof b, "<text x=\"%g\" y=\"%g\" class=\"xl\">", (L + W - R) / 2, H - 8);
  o << b << esc(x_label) << "</text>";
  // Lines and legend.
  for (size_t k = 0; k < series.size(); ++k) {
    const char* color = kColors[k % 5];
    std::ostringstream pts;
    for (size_t i = 0; i < series[k].x.size(); ++i) {
      if (std::isnan(series[k].y[i])) continue;
      std::snprintf(b, sizeof b, "%.1f,%.1f ", px(series[k].x[i]), py(series[k].y[i]));
      pts << b;
      std::snprintf(b, sizeof b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>", px(series[k].x[i]),
                    py(series[k].y[i]), color);
      o << b;
    }
    o << "<polyline fill=\"none\" stroke=\"" << color << "\" stroke-width=\"2\" points=\"" << pts.str() << "\"/>";
    double ly = Tp + 10 + 20.0 * k;
    std::snprintf(b, sizeof b, "<path d=\"M%g %gh18\" stroke=\"%s\" stroke-width=\"3\"/><text x=\"%g\" y=\"%g\" class=\"lg\">",
                  W - R + 12, ly, color, W - R + 36, ly + 4);
    o << b << esc(series[k].name) << "</text>";
  }
  o << "</svg>";
  return o.str();
}

void table_row(std::ostringstream& o, const std::string& head, const std::vector<std::string>& cells) {
  o << "<tr><th>" << esc(head) << "</th>";
  for (const auto& c : cells) o << "<td>" << esc(c) << "</td>";
  o << "</tr>\n";
}

// One row of a metrics table: a cell per method, left out when no method has the metric.
template <class Method, class Get>
void metric_row(std::ostringstream& o, const std::string& name, const std::vector<Method>& methods, Get get) {
  std::vector<std::string> cells;
  bool any = false;
  for (const Method& m : methods) {
    const double v = get(m);
    any |= !std::isnan(v);
    cells.push_back(fmt(v));
  }
  if (any) table_row(o, name, cells);
}

// The model's NDCG@10 over the best baseline's, with its 95% interval (intervals.h).
void interval_paragraph(std::ostringstream& o, const std::string& baseline, const PairedInterval& v, const char* unit) {
  if (baseline.empty() || !v.resamples) return;
  char b[400];
  std::snprintf(b, sizeof b,
                "<p>NDCG@10, model / the best baseline (%s): <b>%.2f</b>; 95%% interval %s to %s (model NDCG@10 %.4f to "
                "%.4f), a paired bootstrap over %llu %s, %u resamples.</p>\n",
                esc(baseline).c_str(), v.ratio, interval_end(v.ratio_lo, 2).c_str(), interval_end(v.ratio_hi, 2).c_str(), v.model_lo,
                v.model_hi, (unsigned long long)v.units, unit, v.resamples);
  o << b;
}

void eval_section(std::ostringstream& o, const EvalResult& r) {
  if (r.methods.empty()) return;
  bool has_test = r.methods[0].test.full.users > 0;
  auto split = [&](const MethodResult& m) -> const SplitMetrics& { return has_test ? m.test : m.valid; };
  o << "<h2>Metrics (" << (has_test ? "test" : "validation") << " split)</h2>\n<p>"
    << split(r.methods[0]).full.users << " of " << r.sequences
    << " sequences evaluated (leave-one-out); full ranking over the whole vocabulary"
    << (r.exclude_seen ? ", already-seen actions excluded" : "") << ".</p>\n<table>\n<tr><th>metric</th>";
  for (const auto& m : r.methods) o << "<th>" << esc(m.name) << "</th>";
  o << "</tr>\n";
  auto row = [&](const std::string& name, auto get) { metric_row(o, name, r.methods, get); };
  for (size_t i = 0; i < kNumCutoffs; ++i)
    row("HR@" + std::to_string(kCutoffs[i]), [&](const MethodResult& m) { return split(m).full.hr[i]; });
  for (size_t i = 0; i < kNumCutoffs; ++i)
    row("NDCG@" + std::to_string(kCutoffs[i]), [&](const MethodResult& m) { return split(m).full.ndcg[i]; });
  row("MRR", [&](const MethodResult& m) { return split(m).full.mrr; });
  if (r.sampled_negatives) {
    std::string p = "sampled (" + std::to_string(r.sampled_negatives) + " neg.) ";
    row(p + "HR@10", [&](const MethodResult& m) { return split(m).sampled.hr_at(10); });
    row(p + "NDCG@10", [&](const MethodResult& m) { return split(m).sampled.ndcg_at(10); });
  }
  row("next-type accuracy", [&](const MethodResult& m) { return split(m).type_accuracy; });
  row("next-type macro-F1", [&](const MethodResult& m) { return split(m).type_macro_f1; });
  row("exit AUC", [&](const MethodResult& m) { return m.exit_auc; });
  if (has_test) row("valid NDCG@10", [&](const MethodResult& m) { return m.valid.full.users ? m.valid.full.ndcg_at(10) : NAN; });
  o << "</table>\n<p>Targets outside the vocabulary (scored as misses): "
    << split(r.methods[0]).unknown_targets << ".</p>\n";
  interval_paragraph(o, r.best_baseline, r.vs_best, "users");
  std::vector<Series> hr;
  for (const auto& m : r.methods) {
    Series s;
    s.name = m.name;
    for (size_t i = 0; i < kNumCutoffs; ++i) {
      s.x.push_back(kCutoffs[i]);
      s.y.push_back(split(m).full.hr[i]);
    }
    hr.push_back(s);
  }
  o << "<div class=\"chart\">" << line_chart("HR@k", "k", hr, true) << "</div>\n";
}

void sessions_section(std::ostringstream& o, const SessionEvalResult& r) {
  const SessionSplitResult& R = r.has_test ? r.test : r.valid;
  o << "<h2>Session protocol (" << (r.has_test ? "test" : "validation") << " sessions)</h2>\n<p>" << r.users
    << " users, " << r.split.sessions << " sessions (train " << r.split.train_sessions << ", validation "
    << r.split.valid_sessions << ", test " << r.split.test_sessions << "); " << R.points
    << " prediction points (every event of a held-out session, the user's earlier history as context), "
    << R.exit_positives << " session ends, " << R.conversion_positives << " followed by a conversion.</p>\n";
  o << "<table>\n<tr><th>metric</th>";
  for (const auto& m : R.methods) o << "<th>" << esc(m.name) << "</th>";
  o << "</tr>\n";
  auto row = [&](const std::string& name, auto get) { metric_row(o, name, R.methods, get); };
  row("HR@10", [](const SessionMethod& m) { return m.ranks ? m.rank.hr_at(10) : NAN; });
  row("NDCG@10", [](const SessionMethod& m) { return m.ranks ? m.rank.ndcg_at(10) : NAN; });
  row("MRR", [](const SessionMethod& m) { return m.ranks ? m.rank.mrr : NAN; });
  row("next-type accuracy", [](const SessionMethod& m) { return m.type_accuracy; });
  row("next-type macro-F1", [](const SessionMethod& m) { return m.type_macro_f1; });
  row("next-type log-loss", [](const SessionMethod& m) { return m.type_logloss; });
  row("exit AUC", [](const SessionMethod& m) { return m.binary ? m.exit.auc : NAN; });
  row("exit log-loss", [](const SessionMethod& m) { return m.binary ? m.exit.logloss : NAN; });
  row("exit ECE", [](const SessionMethod& m) { return m.binary ? m.exit.ece : NAN; });
  row("conversion AUC", [](const SessionMethod& m) { return m.binary ? m.conversion.auc : NAN; });
  row("conversion log-loss", [](const SessionMethod& m) { return m.binary ? m.conversion.logloss : NAN; });
  row("conversion ECE", [](const SessionMethod& m) { return m.binary ? m.conversion.ece : NAN; });
  o << "</table>\n";
  interval_paragraph(o, R.best_baseline, R.vs_best, "users");
  for (const auto& [k, v] : r.unscored) o << "<p>Not scored: " << esc(k) << ": " << esc(v) << ".</p>\n";
  // By position in the session.
  o << "<h3>By position in the session</h3>\n<table>\n<tr><th>position</th><th>points</th>";
  for (const auto& m : R.methods)
    if (m.ranks) o << "<th>NDCG@10 " << esc(m.name) << "</th>";
  for (const auto& m : R.methods)
    if (m.binary) o << "<th>exit AUC " << esc(m.name) << "</th>";
  o << "</tr>\n";
  if (!R.methods.empty())
    for (size_t b = 0; b < R.methods[0].by_position.size(); ++b) {
      std::vector<std::string> cells = {std::to_string(R.methods[0].by_position[b].points)};
      for (const auto& m : R.methods)
        if (m.ranks) cells.push_back(fmt(m.by_position[b].rank.users ? m.by_position[b].rank.ndcg_at(10) : NAN));
      for (const auto& m : R.methods)
        if (m.binary) cells.push_back(fmt(m.by_position[b].exit.auc));
      table_row(o, R.methods[0].by_position[b].label, cells);
    }
  o << "</table>\n";
  // Reliability diagrams: observed rate against mean predicted probability per bin.
  for (int head = 0; head < 2; ++head) {
    const char* name = head == 0 ? "exit" : "conversion";
    if (r.unscored.count(name)) continue;
    std::vector<Series> series;
    Series diag{"perfect", {0, 1}, {0, 1}};
    series.push_back(diag);
    for (const auto& m : R.methods) {
      if (!m.binary) continue;
      const BinaryMetrics& x = head == 0 ? m.exit : m.conversion;
      Series s{m.name, {}, {}};
      for (int b = 0; b < BinaryMetrics::kBins; ++b)
        if (x.bin_n[b]) {
          s.x.push_back(x.bin_p[b]);
          s.y.push_back(x.bin_rate[b]);
        }
      if (!s.x.empty()) series.push_back(s);
    }
    o << "<div class=\"chart\">"
      << line_chart(std::string("Reliability: ") + name + " (observed rate by predicted probability)", "predicted probability",
                    series, true)
      << "</div>\n";
  }
}

}  // namespace

std::string render_report(const ReportData& d) {
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>"
    << esc(d.title)
    << "</title>\n<style>body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:960px;color:#222;padding:0 1em}"
       "table{border-collapse:collapse;margin:.5em 0 1em}th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}"
       "th:first-child{text-align:left}tr:nth-child(even) td{background:#f6f6f6}h2{margin-top:1.6em;border-bottom:1px solid #ddd}"
       "pre{background:#f6f6f6;padding:.6em;overflow:auto}svg .t{font-weight:600}svg text{font-size:12px;fill:#333}"
       "svg .yl{text-anchor:end}svg .xl{text-anchor:middle}svg .ax{stroke:#333;fill:none}svg .grid{stroke:#eee}"
       ".chart{margin:1em 0}</style></head><body>\n<h1>"
    << esc(d.title) << "</h1>\n";
  if (!d.facts.empty()) {
    o << "<h2>Model</h2>\n<table>\n";
    for (const auto& f : d.facts) table_row(o, f.first, {f.second});
    o << "</table>\n";
  }
  if (d.eval) eval_section(o, *d.eval);
  if (d.sessions) sessions_section(o, *d.sessions);
  if (d.membership) {
    const MembershipResult& m = *d.membership;
    o << "<h2>Membership inference</h2>\n<p>Loss-threshold attack: each user's mean next-action loss on their "
         "training events, training users against the users held out of training. AUC 0.5: the model tells "
         "nobody apart; 1: it gives every training user away.</p>\n<table>\n"
         "<tr><th>AUC</th><th>training users</th><th>held-out users</th><th>mean loss, trained</th>"
         "<th>mean loss, held out</th></tr>\n";
    table_row(o, fmt(m.auc), {std::to_string(m.members), std::to_string(m.non_members), fmt(m.member_loss),
                              fmt(m.non_member_loss)});
    o << "</table>\n";
  }
  if (!d.epochs.empty()) {
    o << "<h2>Training</h2>\n";
    Series loss{"train loss", {}, {}}, ndcg{"valid NDCG@10", {}, {}};
    for (const auto& e : d.epochs) {
      loss.x.push_back(e.epoch); loss.y.push_back(e.train_loss);
      ndcg.x.push_back(e.epoch); ndcg.y.push_back(e.valid_ndcg10);
    }
    o << "<div class=\"chart\">" << line_chart("training loss", "epoch", {loss}, false) << "</div>\n";
    o << "<div class=\"chart\">" << line_chart("validation NDCG@10", "epoch", {ndcg}, true) << "</div>\n";
    o << "<table>\n<tr><th>epoch</th><th>train loss</th><th>valid NDCG@10</th><th>seconds</th></tr>\n";
    for (const auto& e : d.epochs)
      table_row(o, std::to_string(e.epoch), {fmt(e.train_loss), fmt(e.valid_ndcg10), fmt(e.seconds, 1)});
    o << "</table>\n";
  }
  if (d.quantization) {
    const QuantizationReport& q = *d.quantization;
    o << "<h2>Quantisation (int8 per-row)</h2>\n";
    if (!std::isnan(q.float_bytes) && !std::isnan(q.int8_bytes))
      o << "<p>File size: float " << fmt(q.float_bytes / 1024.0, 1) << " KiB, int8 " << fmt(q.int8_bytes / 1024.0, 1)
        << " KiB (" << fmt(100.0 * q.int8_bytes / q.float_bytes, 1) << "%).</p>\n";
    if (!q.float_metrics.empty()) {
      o << "<table>\n<tr><th>metric</th><th>float</th><th>int8</th><th>relative change</th></tr>\n";
      for (const auto& fm : q.float_metrics) {
        double iv = NAN;
        for (const auto& im : q.int8_metrics)
          if (im.first == fm.first) iv = im.second;
        double rel = fm.second != 0 && !std::isnan(iv) ? (iv / fm.second - 1) * 100 : NAN;
        table_row(o, fm.first, {fmt(fm.second), fmt(iv), std::isnan(rel) ? "–" : fmt(rel, 2) + "%"});
      }
      o << "</table>\n";
    }
    if (!q.tensors.empty()) {
      o << "<table>\n<tr><th>tensor</th><th>max round-trip error</th></tr>\n";
      for (const auto& t : q.tensors) {
        char b[40];
        std::snprintf(b, sizeof b, "%.3g", t.max_abs_error);
        table_row(o, t.name, {b});
      }
      o << "</table>\n";
    }
  }
  if (d.ingest) o << "<h2>Data cleaning</h2>\n<pre>" << esc(d.ingest->to_text()) << "</pre>\n";
  o << "</body></html>\n";
  return o.str();
}

Error write_report(const std::string& path, const ReportData& data) {
  std::string html = render_report(data);
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) return Error(path + ": cannot write (" + tmp + ")");
    f.write(html.data(), static_cast<std::streamsize>(html.size()));
    f.flush();
    if (!f) {
      std::remove(tmp.c_str());
      return Error(path + ": write failed");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Error(path + ": cannot rename the temporary file into place");
  }
  return {};
}

}  // namespace hunch::train
