// The `--report report.html` page: one self-contained HTML file (inline CSS and SVG, no
// scripts, no external assets) with whatever the run produced — model facts, the cleaning
// report, metrics beside the baselines, an HR@k chart, training curves and quantisation
// before/after. Sections whose data is absent are left out, so `hunch eval` and `hunch train`
// fill the same struct to different depths.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "hunch/error.h"
#include "train/eval.h"
#include "train/ingest.h"
#include "train/privacy.h"
#include "train/sessions.h"

namespace hunch::train {

struct EpochRecord {
  int    epoch = 0;
  double train_loss = NAN;
  double valid_ndcg10 = NAN;
  double seconds = NAN;      // wall time of the epoch (optional)
};

struct TensorQuantError {
  std::string name;
  double      max_abs_error = 0;  // max |w - q*scale| over the tensor
};

struct QuantizationReport {
  std::vector<TensorQuantError> tensors;
  // Metrics of the float and the int8 model on the same split, by name ("NDCG@10", "HR@10", …).
  std::vector<std::pair<std::string, double>> float_metrics, int8_metrics;
  double float_bytes = NAN, int8_bytes = NAN;  // file sizes
};

struct ReportData {
  std::string title = "hunch report";
  std::vector<std::pair<std::string, std::string>> facts;  // model / run facts, in order
  const IngestReport*       ingest = nullptr;
  const EvalResult*         eval = nullptr;
  const SessionEvalResult*  sessions = nullptr;  // the session protocol's metrics
  std::vector<EpochRecord>  epochs;
  const QuantizationReport* quantization = nullptr;
  const MembershipResult*   membership = nullptr;  // hunch eval --membership
};

std::string render_report(const ReportData& data);
// Renders and writes atomically (temporary file + rename).
Error write_report(const std::string& path, const ReportData& data);

}  // namespace hunch::train
