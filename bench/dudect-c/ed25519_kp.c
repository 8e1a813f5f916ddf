/*
 * The bench's dudect-style test of libsodium's ed25519 k·P (crypto_scalarmult_ed25519_noclamp), written in C with
 * no .NET in the loop: the same design as tests/Rotor.TestSupport/Timing/Dudect.cs (fixed secret against fresh
 * random secrets in a random order, an untimed spacer call on a random secret before every timed call, dudect's 100
 * crop percentiles set by the warm-up, Welch's t on each crop and on the whole), so that a reading of the .NET
 * harness on this path can be told apart from one of the machine. Build and run (docs/performance.md, session 8):
 *
 *   gcc -O2 -o /tmp/ed25519_kp bench/dudect-c/ed25519_kp.c \
 *       ~/.nuget/packages/libsodium/1.0.22/runtimes/linux-x64/native/libsodium.so -lm
 *   taskset -c 0 /tmp/ed25519_kp 1000000 [runs] [split]
 *
 * With "split", k·P is computed as (k − b)·P + b·P with a fresh random b per call (as Rotor's Group.Mul does), so
 * that the data the two multiplications process is fresh and random in both classes.
 *
 * Prints one line per run: max |t|, its crop, the uncropped t, the classes' means and the spread ratio.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int sodium_init(void);
void randombytes_buf(void *buf, size_t size);
uint32_t randombytes_uniform(uint32_t upper_bound);
void crypto_core_ed25519_scalar_random(unsigned char *r);
int crypto_scalarmult_ed25519_base_noclamp(unsigned char *q, const unsigned char *n);
int crypto_scalarmult_ed25519_noclamp(unsigned char *q, const unsigned char *n, const unsigned char *p);
void crypto_core_ed25519_scalar_sub(unsigned char *z, const unsigned char *x, const unsigned char *y);
int crypto_core_ed25519_add(unsigned char *r, const unsigned char *p, const unsigned char *q);

static int split;   /* 1: k·P computed as (k − b)·P + b·P with a fresh random b (Rotor's blinded k·P) */

static void mul(unsigned char *q, const unsigned char *k, const unsigned char *p)
{
    if (!split)
    {
        crypto_scalarmult_ed25519_noclamp(q, k, p);
        return;
    }
    unsigned char b[32], kb[32], q1[32], q2[32];
    crypto_core_ed25519_scalar_random(b);
    crypto_core_ed25519_scalar_sub(kb, k, b);
    crypto_scalarmult_ed25519_noclamp(q1, kb, p);
    crypto_scalarmult_ed25519_noclamp(q2, b, p);
    crypto_core_ed25519_add(q, q1, q2);
}

#define CROPS 100
#define BATCH 10000

typedef struct { double mean[2], m2[2]; long n[2]; } welch;

static void add(welch *w, int c, double x)
{
    w->n[c]++;
    double d = x - w->mean[c];
    w->mean[c] += d / w->n[c];
    w->m2[c] += d * (x - w->mean[c]);
}

static double tstat(const welch *w)
{
    if (w->n[0] < 2 || w->n[1] < 2) return 0;
    double v0 = w->m2[0] / (w->n[0] - 1), v1 = w->m2[1] / (w->n[1] - 1);
    double se = sqrt(v0 / w->n[0] + v1 / w->n[1]);
    return se == 0 ? 0 : (w->mean[0] - w->mean[1]) / se;
}

static double sd(const welch *w, int c) { return w->n[c] < 2 ? 0 : sqrt(w->m2[c] / (w->n[c] - 1)); }

static inline long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

static unsigned char P[32], fixed_k[32];
static unsigned char inputs[BATCH][32], spacers[BATCH][32], out[32];
static unsigned char classes[BATCH];
static long long times[BATCH];

static void prepare(int n)
{
    for (int i = 0; i < n; i++)
    {
        classes[i] = (unsigned char)randombytes_uniform(2);
        if (classes[i] == 0) memcpy(inputs[i], fixed_k, 32);
        else crypto_core_ed25519_scalar_random(inputs[i]);
        crypto_core_ed25519_scalar_random(spacers[i]);
    }
}

static void measure(int n)
{
    for (int i = 0; i < n; i++)
    {
        mul(out, spacers[i], P);
        long long t0 = now_ns();
        mul(out, inputs[i], P);
        long long t1 = now_ns();
        times[i] = t1 - t0;
    }
}

int main(int argc, char **argv)
{
    long samples = argc > 1 ? atol(argv[1]) : 1000000;
    int runs = argc > 2 ? atoi(argv[2]) : 1;
    split = argc > 3 && strcmp(argv[3], "split") == 0;
    if (sodium_init() < 0) return 1;
    unsigned char k[32];
    crypto_core_ed25519_scalar_random(k);
    crypto_scalarmult_ed25519_base_noclamp(P, k);
    crypto_core_ed25519_scalar_random(fixed_k);
    for (int run = 0; run < runs; run++)
    {
        prepare(BATCH);
        for (int pass = 0; pass < 3; pass++) measure(BATCH);   /* warm-up; the last pass sets the crops */
        static long long sorted[BATCH];
        memcpy(sorted, times, sizeof sorted);
        qsort(sorted, BATCH, sizeof sorted[0], cmp);
        double pct[CROPS];
        long long thr[CROPS];
        for (int i = 0; i < CROPS; i++)
        {
            pct[i] = 1 - pow(0.5, 10.0 * (i + 1) / CROPS);
            int at = (int)(pct[i] * BATCH);
            thr[i] = sorted[at < BATCH ? at : BATCH - 1];
        }
        static welch tests[CROPS + 1];
        memset(tests, 0, sizeof tests);
        for (long done = 0; done < samples;)
        {
            int n = samples - done < BATCH ? (int)(samples - done) : BATCH;
            prepare(n);
            measure(n);
            for (int i = 0; i < n; i++)
            {
                add(&tests[0], classes[i], (double)times[i]);
                for (int j = 0; j < CROPS; j++)
                    if (times[i] < thr[j]) add(&tests[j + 1], classes[i], (double)times[i]);
            }
            done += n;
        }
        int best = 0;
        double bt = 0;
        for (int i = 0; i <= CROPS; i++)
        {
            if (tests[i].n[0] < 500 || tests[i].n[1] < 500) continue;
            double t = tstat(&tests[i]);
            if (fabs(t) > fabs(bt)) { bt = t; best = i; }
        }
        printf("C libsodium ed25519 k·P%s: max |t| = %.2f (t = %.2f, %s %.1f %%, %ld measurements); %ld samples; mean %.0f ns fixed, %.0f ns random; "
               "uncropped t = %.2f; spread fixed/random %.4f\n",
               split ? " as (k - b)·P + b·P" : "", fabs(bt), bt, best ? "crop at" : "uncropped", best ? pct[best - 1] * 100 : 100.0, tests[best].n[0] + tests[best].n[1], samples,
               tests[0].mean[0], tests[0].mean[1], tstat(&tests[0]), sd(&tests[best], 0) / sd(&tests[best], 1));
        fflush(stdout);
    }
    return 0;
}
