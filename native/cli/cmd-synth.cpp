// hunch synth — writes the bundled shop's event log (and its site map for the demo page).
// The log is the default training data of the main job; see native/synth/synth.h for what it
// models and why a sequence model beats a first-order Markov chain on it.
#include <cstdio>
#include <string>
#include <vector>

#include "cli/args.h"
#include "synth/site-map.h"
#include "synth/synth.h"

namespace hunch::cli {

int run_synth(int argc, char** argv) {
  Args args("synth",
            "[-o events.csv[.gz]] [--users N] [--seed S] [--truth truth.csv[.gz]] [--site-map site-map.json]",
            "Generates a seeded event log of a small web shop (121 pages: home, categories, products,\n"
            "cart, checkout, help) with bouncers, browsers, buyers and returners: CSV with the header\n"
            "user,time,action,type (ISO-8601 times; gzip when the file name ends in .gz). The same\n"
            "seed gives the same bytes. Sessions are what a 30-minute inactivity gap splits (the\n"
            "ingestion default). --truth also writes the generator's own probabilities per event\n"
            "(the oracle): CSV with the header row,p_exit,p_conversion, one line per event in the\n"
            "order of the log's rows (row = 0-based data row); p_exit = the session ends after this\n"
            "event, p_conversion = a purchase follows later in the same session.");
  args.option("output", "", "output file (.csv or .csv.gz; also -o FILE); '-' or none = standard output");
  args.option("users", "10000", "number of users (about 25 events each, in about 2 sessions)");
  args.option("seed", "1", "random seed");
  args.option("start", "2024-05-01", "first day of the 28-day window (YYYY-MM-DD, UTC)");
  args.option("truth", "", "also write the oracle's p_exit and p_conversion per event (.csv or .csv.gz)");
  args.option("site-map", "", "also write the shop's site map as JSON (what the demo page renders)");
  args.flag("quiet", "print no summary on standard error");
  if (int exit_code = args.parse_or_exit(argc, argv); exit_code >= 0) return exit_code;
  std::string error;
  if (!args.positional().empty()) {
    std::fprintf(stderr, "hunch synth: unexpected argument '%s' (the output file goes after -o)\n",
                 args.positional()[0].c_str());
    return 2;
  }
  synth::SynthOptions options;
  int64_t v;
  if (!args.get_int("users", 1, 2000000, &v, &error)) {
    std::fprintf(stderr, "hunch synth: %s\n", error.c_str());
    return 2;
  }
  options.users = static_cast<uint32_t>(v);
  if (!args.get_int("seed", 0, INT64_MAX, &v, &error)) {
    std::fprintf(stderr, "hunch synth: %s\n", error.c_str());
    return 2;
  }
  options.seed = static_cast<uint64_t>(v);
  {
    int y, m, d;
    char tail;
    std::string s = args.get("start");
    if (std::sscanf(s.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || y < 1970 || y > 2200 ||
        m < 1 || m > 12 || d < 1 || d > 31) {
      std::fprintf(stderr, "hunch synth: --start: expected a date YYYY-MM-DD, got '%s'\n", s.c_str());
      return 2;
    }
    // Days since the epoch (civil-from-days inverse, proleptic Gregorian).
    int yy = y - (m <= 2);
    int era = yy / 400;
    int yoe = yy - era * 400;
    int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    options.start_time = (int64_t(era) * 146097 + doe - 719468) * 86400;
  }

  synth::SiteMap site = synth::build_site_map();
  if (args.given("site-map")) {
    std::string path = args.get("site-map"), tmp = path + ".tmp";
    std::string json = synth::site_map_json(site);
    FILE* f = std::fopen(tmp.c_str(), "wb");
    bool ok = f && std::fwrite(json.data(), 1, json.size(), f) == json.size();
    if (f && std::fclose(f) != 0) ok = false;
    if (!ok || std::rename(tmp.c_str(), path.c_str()) != 0) {
      std::remove(tmp.c_str());
      std::fprintf(stderr, "hunch synth: cannot write the site map to '%s'\n", path.c_str());
      return 1;
    }
  }

  synth::SynthStats stats;
  std::vector<synth::SynthEvent> events = synth::generate(site, options, &stats);
  std::string out = args.get("output");
  if (out.empty() || out == "-") {
    std::string csv = synth::to_csv(site, options, events);
    if (std::fwrite(csv.data(), 1, csv.size(), stdout) != csv.size() || std::fflush(stdout) != 0) {
      std::fprintf(stderr, "hunch synth: cannot write to standard output\n");
      return 1;
    }
  } else if (Error e = synth::write_csv(out, site, options, events)) {
    std::fprintf(stderr, "hunch synth: %s\n", e.message.c_str());
    return 1;
  }
  if (args.given("truth")) {
    if (Error e = synth::write_truth(args.get("truth"), events)) {
      std::fprintf(stderr, "hunch synth: %s\n", e.message.c_str());
      return 1;
    }
  }
  if (!args.get_bool("quiet")) {
    const double n = stats.events ? double(stats.events) : 1.0;
    const double sessions = stats.sessions ? double(stats.sessions) : 1.0;
    std::fprintf(stderr,
                 "hunch synth: %u users (%llu bouncers, %llu browsers, %llu buyers, %llu returners), "
                 "%llu sessions (%.1f%% bounce, %.1f%% convert), %llu events: %llu view, %llu click, "
                 "%llu add_to_cart, %llu purchase; per event: exit %.4f (oracle mean %.4f), "
                 "conversion %.4f (oracle mean %.4f)%s%s\n",
                 options.users, (unsigned long long)stats.by_user_kind[0], (unsigned long long)stats.by_user_kind[1],
                 (unsigned long long)stats.by_user_kind[2], (unsigned long long)stats.by_user_kind[3],
                 (unsigned long long)stats.sessions, 100.0 * double(stats.bounces) / sessions,
                 100.0 * double(stats.converting_sessions) / sessions, (unsigned long long)stats.events,
                 (unsigned long long)stats.by_type[0], (unsigned long long)stats.by_type[1],
                 (unsigned long long)stats.by_type[2], (unsigned long long)stats.by_type[3],
                 double(stats.sessions) / n, stats.sum_p_exit / n, double(stats.converting_events) / n,
                 stats.sum_p_conversion / n, out.empty() || out == "-" ? "" : " -> ",
                 out.empty() || out == "-" ? "" : out.c_str());
  }
  return 0;
}

}  // namespace hunch::cli
