// AdamW on Float32 lanes (include/CKernels.h). In Swift the same step compiled for baseline x86-64:
// SSE, with each square root taken lane by lane, and it was a tenth of a dense step and half of a
// hashed-text one (docs/PROFILE.md). Here it is AVX-512 or AVX2 when the CPU has them, with a scalar
// path that rounds identically: FP_CONTRACT is off, so no multiply and add are fused into one rounding.
#include "CKernels.h"
#include "cpu.h"

#include <immintrin.h>
#include <math.h>

#pragma STDC FP_CONTRACT OFF

// The step on one value; returns θ's new value. (1−β) is rounded to Float32 first, as in the Swift
// rule this replaced (UpweightTraining/AdamW.swift keeps it for the linear model's Double θ).
static inline float adamw_scalar(const UpweightAdamWStep *s, float *theta, float *m, float *v, float g) {
    const float m1 = s->beta1 * *m + (1.0f - s->beta1) * g;
    const float v1 = s->beta2 * *v + ((1.0f - s->beta2) * g) * g;
    const float step = (m1 * s->inverseCorrection1) / (sqrtf(v1 * s->inverseCorrection2) + s->epsilon);
    const float theta1 = *theta - s->rate * (step + s->decay * *theta);
    *m = m1, *v = v1, *theta = theta1;
    return theta1;
}

static bool adamw_portable(const UpweightAdamWStep *s, long count, float *theta, float *m, float *v, const float *g) {
    bool finite = true;
    for (long i = 0; i < count; i++) finite &= isfinite(adamw_scalar(s, theta + i, m + i, v + i, g[i]));
    return finite;
}

#ifdef UPWEIGHT_X86
__attribute__((target("avx512f")))
static bool adamw_avx512(const UpweightAdamWStep *s, long count, float *theta, float *m, float *v, const float *g) {
    const __m512 beta1 = _mm512_set1_ps(s->beta1), oneMinusBeta1 = _mm512_set1_ps(1.0f - s->beta1);
    const __m512 beta2 = _mm512_set1_ps(s->beta2), oneMinusBeta2 = _mm512_set1_ps(1.0f - s->beta2);
    const __m512 correction1 = _mm512_set1_ps(s->inverseCorrection1), correction2 = _mm512_set1_ps(s->inverseCorrection2);
    const __m512 epsilon = _mm512_set1_ps(s->epsilon), rate = _mm512_set1_ps(s->rate), decay = _mm512_set1_ps(s->decay);
    // θ − θ is 0 for a finite θ and NaN otherwise, and a NaN stays in a sum.
    __m512 check = _mm512_setzero_ps();
    for (long i = 0; i < count; i += 16) {
        // The last block is masked: lanes past `count` are neither read nor written, and stay 0.
        const __mmask16 lanes = count - i >= 16 ? 0xFFFF : (__mmask16)((1u << (count - i)) - 1);
        const __m512 gi = _mm512_maskz_loadu_ps(lanes, g + i), thetaI = _mm512_maskz_loadu_ps(lanes, theta + i);
        const __m512 mi = _mm512_add_ps(_mm512_mul_ps(beta1, _mm512_maskz_loadu_ps(lanes, m + i)), _mm512_mul_ps(oneMinusBeta1, gi));
        const __m512 vi = _mm512_add_ps(_mm512_mul_ps(beta2, _mm512_maskz_loadu_ps(lanes, v + i)),
                                        _mm512_mul_ps(_mm512_mul_ps(oneMinusBeta2, gi), gi));
        const __m512 step = _mm512_div_ps(_mm512_mul_ps(mi, correction1),
                                          _mm512_add_ps(_mm512_sqrt_ps(_mm512_mul_ps(vi, correction2)), epsilon));
        const __m512 updated = _mm512_sub_ps(thetaI, _mm512_mul_ps(rate, _mm512_add_ps(step, _mm512_mul_ps(decay, thetaI))));
        _mm512_mask_storeu_ps(m + i, lanes, mi);
        _mm512_mask_storeu_ps(v + i, lanes, vi);
        _mm512_mask_storeu_ps(theta + i, lanes, updated);
        check = _mm512_mask_add_ps(check, lanes, check, _mm512_sub_ps(updated, updated));
    }
    // No lane of `check` is NaN exactly when every θ written is finite (an ordered compare is false for NaN).
    return _mm512_cmp_ps_mask(check, check, _CMP_ORD_Q) == 0xFFFF;
}

// The AVX-512 path's operations on 8 lanes; the last, partial block takes the scalar path, which
// rounds the same.
__attribute__((target("avx2")))
static bool adamw_avx2(const UpweightAdamWStep *s, long count, float *theta, float *m, float *v, const float *g) {
    const __m256 beta1 = _mm256_set1_ps(s->beta1), oneMinusBeta1 = _mm256_set1_ps(1.0f - s->beta1);
    const __m256 beta2 = _mm256_set1_ps(s->beta2), oneMinusBeta2 = _mm256_set1_ps(1.0f - s->beta2);
    const __m256 correction1 = _mm256_set1_ps(s->inverseCorrection1), correction2 = _mm256_set1_ps(s->inverseCorrection2);
    const __m256 epsilon = _mm256_set1_ps(s->epsilon), rate = _mm256_set1_ps(s->rate), decay = _mm256_set1_ps(s->decay);
    __m256 check = _mm256_setzero_ps();  // θ − θ summed: NaN exactly when some θ is not finite
    const long whole = count / 8 * 8;
    for (long i = 0; i < whole; i += 8) {
        const __m256 gi = _mm256_loadu_ps(g + i), thetaI = _mm256_loadu_ps(theta + i);
        const __m256 mi = _mm256_add_ps(_mm256_mul_ps(beta1, _mm256_loadu_ps(m + i)), _mm256_mul_ps(oneMinusBeta1, gi));
        const __m256 vi = _mm256_add_ps(_mm256_mul_ps(beta2, _mm256_loadu_ps(v + i)),
                                        _mm256_mul_ps(_mm256_mul_ps(oneMinusBeta2, gi), gi));
        const __m256 step = _mm256_div_ps(_mm256_mul_ps(mi, correction1),
                                          _mm256_add_ps(_mm256_sqrt_ps(_mm256_mul_ps(vi, correction2)), epsilon));
        const __m256 updated = _mm256_sub_ps(thetaI, _mm256_mul_ps(rate, _mm256_add_ps(step, _mm256_mul_ps(decay, thetaI))));
        _mm256_storeu_ps(m + i, mi);
        _mm256_storeu_ps(v + i, vi);
        _mm256_storeu_ps(theta + i, updated);
        check = _mm256_add_ps(check, _mm256_sub_ps(updated, updated));
    }
    const bool finite = _mm256_movemask_ps(_mm256_cmp_ps(check, check, _CMP_UNORD_Q)) == 0;
    return adamw_portable(s, count - whole, theta + whole, m + whole, v + whole, g + whole) && finite;
}
#endif

bool upweight_adamw(const UpweightAdamWStep *step, long count, float *theta, float *m, float *v, const float *g) {
#ifdef UPWEIGHT_X86
    switch (upweight_instruction_set()) {
    case UPWEIGHT_AVX512: return adamw_avx512(step, count, theta, m, v, g);
    case UPWEIGHT_AVX2: return adamw_avx2(step, count, theta, m, v, g);
    case UPWEIGHT_BASELINE: break;
    }
#endif
    return adamw_portable(step, count, theta, m, v, g);
}
