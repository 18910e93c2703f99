// Constants of hunch_expf, shared by the scalar reference and the vector kernels so that both
// evaluate the same polynomial with the same float operations (bit-identical results).
//
// The polynomial coefficients C2..C6 come from a weighted least-squares fit of
// q(r) = (e^r − 1 − r) / r² on r ∈ [−ln2/2, ln2/2] (2000 Chebyshev points, weight r²/e^r so the
// fit minimises the relative error of e^r), done in long double and rounded to float. The fit's
// own error is ~1e-9; the float evaluation (≈1.5 ulp) dominates the < 2e-7 total.
#pragma once

namespace hunch {
namespace expf_consts {

constexpr float kMinInput = -87.3f;  // below: 0 (e^x would be subnormal)
constexpr float kMaxInput = 88.7f;   // above: +inf (e^88.72 is FLT_MAX)
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693359375f;     // 355/512: few bits, so n·kLn2Hi is exact
constexpr float kLn2Lo = -2.12194440e-4f;  // ln2 − kLn2Hi
constexpr float kRoundMagic = 12582912.0f; // 1.5·2^23, see round_half_even()

constexpr float kC2 = 4.999998808e-01f;
constexpr float kC3 = 1.666651815e-01f;
constexpr float kC4 = 4.166953266e-02f;
constexpr float kC5 = 8.368915878e-03f;
constexpr float kC6 = 1.375140739e-03f;

}  // namespace expf_consts
}  // namespace hunch
