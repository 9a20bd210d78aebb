/* Fused scoring + top-k for one query: every row's dot product and the k best in one pass.
 *
 * Built by core/index/native.py (cc -O3 -march=native -fPIC -shared) and called through ctypes.
 * Rows are float32 or float16 (IEEE half, converted with F16C when available); candidates are
 * all rows, or a list of row ids, minus an optional exclusion mask. Results are sorted by
 * score, best first; equal scores keep the earlier candidate first (deterministic ties).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__AVX2__) || defined(__F16C__)
#include <immintrin.h>
#endif

/* ---- half -> float ---------------------------------------------------------------- */
static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0x1f) {
        bits = sign | 0x7f800000u | (man << 13);
    } else if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else { /* subnormal: normalise */
            int e = -1;
            do { man <<= 1; e++; } while (!(man & 0x400));
            bits = sign | ((uint32_t)(112 - e) << 23) | ((man & 0x3ff) << 13);
        }
    } else {
        bits = sign | ((exp + 112) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

#if defined(__AVX2__)
static inline float hsum256(__m256 a) {
    __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(a), _mm256_extractf128_ps(a, 1));
    s4 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
    s4 = _mm_add_ss(s4, _mm_movehdup_ps(s4));
    return _mm_cvtss_f32(s4);
}
#endif

/* ---- dot products of one row with q (one row at a time: interleaving 4 rows measured
 * slower on scans beyond the caches) ------------------------------------------------------ */
static inline float dot_f32(const float *x, const float *q, long d) {
    long i = 0;
    float s = 0.0f;
#if defined(__AVX2__) && defined(__FMA__)
    /* 256-bit, four accumulators: measured faster than 512-bit (and than interleaving rows)
     * on cached and streamed scans alike */
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    for (; i + 32 <= d; i += 32) {
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(q + i), a0);
        a1 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 8), _mm256_loadu_ps(q + i + 8), a1);
        a2 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 16), _mm256_loadu_ps(q + i + 16), a2);
        a3 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i + 24), _mm256_loadu_ps(q + i + 24), a3);
    }
    for (; i + 8 <= d; i += 8)
        a0 = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), _mm256_loadu_ps(q + i), a0);
    s = hsum256(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
#else
    float acc[16] = {0};
    for (; i + 16 <= d; i += 16)
        for (int j = 0; j < 16; j++) acc[j] += x[i + j] * q[i + j];
    for (int j = 0; j < 16; j++) s += acc[j];
#endif
    for (; i < d; i++) s += x[i] * q[i];
    return s;
}

static inline float dot_f16(const uint16_t *x, const float *q, long d) {
    long i = 0;
    float s = 0.0f;
#if defined(__F16C__) && defined(__AVX2__) && defined(__FMA__)
    __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();
    __m256 a2 = _mm256_setzero_ps(), a3 = _mm256_setzero_ps();
    for (; i + 32 <= d; i += 32) {
        a0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i))),
                             _mm256_loadu_ps(q + i), a0);
        a1 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i + 8))),
                             _mm256_loadu_ps(q + i + 8), a1);
        a2 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i + 16))),
                             _mm256_loadu_ps(q + i + 16), a2);
        a3 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i + 24))),
                             _mm256_loadu_ps(q + i + 24), a3);
    }
    for (; i + 8 <= d; i += 8)
        a0 = _mm256_fmadd_ps(_mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(x + i))),
                             _mm256_loadu_ps(q + i), a0);
    s = hsum256(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
#endif
    for (; i < d; i++) s += half_to_float(x[i]) * q[i];
    return s;
}

/* ---- top-k heap: root = worst kept (lowest score; on equal scores the later position) -- */
typedef struct {
    float *s;
    int64_t *p;
    long size, k;
} heap_t;

static inline int worse(float sa, int64_t pa, float sb, int64_t pb) {
    return sa < sb || (sa == sb && pa > pb);
}

static void heap_sift_down(heap_t *h, long i) {
    float s = h->s[i];
    int64_t p = h->p[i];
    for (;;) {
        long c = 2 * i + 1;
        if (c >= h->size) break;
        if (c + 1 < h->size && worse(h->s[c + 1], h->p[c + 1], h->s[c], h->p[c])) c++;
        if (!worse(h->s[c], h->p[c], s, p)) break;
        h->s[i] = h->s[c];
        h->p[i] = h->p[c];
        i = c;
    }
    h->s[i] = s;
    h->p[i] = p;
}

static inline void heap_push(heap_t *h, float s, int64_t p) {
    if (h->size < h->k) {
        long i = h->size++;
        while (i > 0) {
            long parent = (i - 1) / 2;
            if (!worse(s, p, h->s[parent], h->p[parent])) break;
            h->s[i] = h->s[parent];
            h->p[i] = h->p[parent];
            i = parent;
        }
        h->s[i] = s;
        h->p[i] = p;
    } else if (worse(h->s[0], h->p[0], s, p)) {
        h->s[0] = s;
        h->p[0] = p;
        heap_sift_down(h, 0);
    }
}

/* score below which a row cannot enter (everything enters while the heap is not full) */
static inline float heap_floor(const heap_t *h) {
    return h->size < h->k ? -INFINITY : h->s[0];
}

/* pop everything: best first into out_s / out_r (row = ids[pos] when ids is given) */
static long heap_drain(heap_t *h, const int64_t *ids, float *out_s, int64_t *out_r) {
    long m = h->size;
    for (long j = m - 1; j >= 0; j--) {
        out_s[j] = h->s[0];
        out_r[j] = ids ? ids[h->p[0]] : h->p[0];
        h->size--;
        h->s[0] = h->s[h->size];
        h->p[0] = h->p[h->size];
        if (h->size) heap_sift_down(h, 0);
    }
    return m;
}

static inline void offer(heap_t *h, float s, int64_t pos, const uint8_t *excl, int64_t row) {
    if ((h->size < h->k || s > h->s[0]) && !(excl && excl[row])) heap_push(h, s, pos);
}

/* q copied to a 64-byte aligned buffer (free *raw): its vector loads never straddle lines */
static float *aligned_query(const float *q, long d, void **raw) {
    *raw = malloc(sizeof(float) * (d > 0 ? d : 1) + 64);
    if (!*raw) return NULL;
    float *qa = (float *)(((uintptr_t)*raw + 63) & ~(uintptr_t)63);
    memcpy(qa, q, sizeof(float) * d);
    return qa;
}

/* ---- public entry points -------------------------------------------------------------- */

/* Top-k of float32 rows x (n x d) against q. Candidates: ids[0..m) when ids, else rows
 * 0..n (m ignored); rows with excl[row] != 0 are skipped. Writes up to k results into
 * out_s / out_r (best first, ties by candidate order) and returns how many. */
long topk_f32(const float *x, long n, long d, const float *q, const int64_t *ids, long m,
              const uint8_t *excl, long k, float *out_s, int64_t *out_r) {
    if (k <= 0) return 0;
    void *qraw;
    float *hs = malloc(sizeof(float) * k);
    int64_t *hp = malloc(sizeof(int64_t) * k);
    q = aligned_query(q, d, &qraw);
    if (!hs || !hp || !q) { free(hs); free(hp); free(qraw); return -1; }
    heap_t h = {hs, hp, 0, k};
    if (ids) {
        for (long j = 0; j < m; j++) {
            int64_t row = ids[j];
            offer(&h, dot_f32(x + row * d, q, d), j, excl, row);
        }
    } else {
        float lim = -INFINITY; /* cheap pre-test; offer() re-checks against the heap */
        for (long i = 0; i < n; i++) {
            float s = dot_f32(x + i * d, q, d);
            if (s > lim) {
                offer(&h, s, i, excl, i);
                lim = heap_floor(&h);
            }
        }
    }
    long got = heap_drain(&h, ids, out_s, out_r);
    free(hs);
    free(hp);
    free(qraw);
    return got;
}

/* Exact top-k from float16 rows: scan xh (n x d halves) for approximate scores, then
 * re-score from the float32 rows x every candidate whose approximate score is within
 * margin * |q| of the k-th best approximate score. Same candidates / output as topk_f32;
 * *rescored receives how many rows were re-scored. */
long topk_f16(const uint16_t *xh, const float *x, long n, long d, const float *q,
              const int64_t *ids, long m, const uint8_t *excl, long k, float margin,
              float *out_s, int64_t *out_r, long *rescored) {
    if (k <= 0) return 0;
    long count = ids ? m : n;
    void *qraw;
    float *approx = malloc(sizeof(float) * (count > 0 ? count : 1));
    float *hs = malloc(sizeof(float) * k);
    int64_t *hp = malloc(sizeof(int64_t) * k);
    q = aligned_query(q, d, &qraw);
    if (!approx || !hs || !hp || !q) {
        free(approx); free(hs); free(hp); free(qraw);
        return -1;
    }
    heap_t h = {hs, hp, 0, k};
    float qq = 0.0f;
    for (long i = 0; i < d; i++) qq += q[i] * q[i];
    margin *= sqrtf(qq);
    for (long j = 0; j < count; j++) {
        int64_t row = ids ? ids[j] : j;
        if (excl && excl[row]) {
            approx[j] = -INFINITY;
            continue;
        }
        float s = dot_f16(xh + row * d, q, d);
        approx[j] = s;
        if (h.size < h.k || s > h.s[0]) heap_push(&h, s, j);
    }
    float cut = h.size ? h.s[0] - margin : INFINITY;
    h.size = 0;
    long seen = 0;
    for (long j = 0; j < count; j++) {
        if (approx[j] >= cut && approx[j] > -INFINITY) {
            int64_t row = ids ? ids[j] : j;
            float s = dot_f32(x + row * d, q, d);
            seen++;
            if (h.size < h.k || s > h.s[0]) heap_push(&h, s, j);
        }
    }
    if (rescored) *rescored = seen;
    long got = heap_drain(&h, ids, out_s, out_r);
    free(approx);
    free(hs);
    free(hp);
    free(qraw);
    return got;
}
