/* The real-noise decision benchmark's workload (bench/realnoise/run.sh copies it into a scratch
 * repository): a least-significant-digit radix sort of 16,384 pseudo-random keys followed by a
 * hash of the sorted keys, repeated a number of times. Only the repetitions are timed, in-process
 * with CLOCK_MONOTONIC, so process start-up adds no noise of its own; the time is printed as
 * `METRIC seconds=<s>` (the metric the loop decides on), and the CPU time the process spent as
 * `METRIC cpu_seconds=<s>`, which time on a busy machine's run queue does not inflate: the ground
 * truth checks the nominal effects with it.
 *
 * The repetitions are base_units (the first argument) times the product of the slot factors in
 * slots.h, each a per-mille knob: a patch that moves one knob from 1000 to 1020 makes the run
 * 2.0% longer and nothing else, and a patch that only edits a comment or whitespace in a slot
 * file leaves the binary byte for byte the same. Every repetition does identical work on data
 * that fits in the L2 cache, so the time scales with the repetitions. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slots.h"

#define KEYS 16384

static uint32_t g_input[KEYS];
static uint32_t g_work[KEYS];
static uint32_t g_tmp[KEYS];

static void radix_sort(uint32_t *a, uint32_t *tmp, size_t n) {
  for (unsigned shift = 0; shift < 32; shift += 8) {
    size_t count[257] = {0};
    for (size_t i = 0; i < n; ++i) ++count[((a[i] >> shift) & 0xffu) + 1];
    for (size_t d = 0; d < 256; ++d) count[d + 1] += count[d];
    for (size_t i = 0; i < n; ++i) tmp[count[(a[i] >> shift) & 0xffu]++] = a[i];
    memcpy(a, tmp, n * sizeof *a);
  }
}

static uint64_t hash_keys(const uint32_t *a, size_t n, uint64_t h) {
  for (size_t i = 0; i < n; ++i) h = (h ^ a[i]) * 0x100000001b3ull;
  return h;
}

static double clock_seconds(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv) {
  long base_units = argc > 1 ? strtol(argv[1], NULL, 10) : 1000;
  if (base_units < 1) {
    fprintf(stderr, "workload: the base units must be a positive number\n");
    return 2;
  }
  double factor = 1.0;
  for (size_t i = 0; i < sizeof k_slots / sizeof k_slots[0]; ++i) factor *= k_slots[i] / 1000.0;
  long units = (long)(base_units * factor + 0.5);

  uint32_t x = 2463534242u;
  for (size_t i = 0; i < KEYS; ++i) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    g_input[i] = x;
  }

  uint64_t h = 1469598103934665603ull;
  double start = clock_seconds(CLOCK_MONOTONIC);
  double cpu_start = clock_seconds(CLOCK_PROCESS_CPUTIME_ID);
  for (long u = 0; u < units; ++u) {
    memcpy(g_work, g_input, sizeof g_work);
    g_work[(size_t)u % KEYS] ^= (uint32_t)u;  /* each repetition sorts a slightly different array */
    radix_sort(g_work, g_tmp, KEYS);
    h = hash_keys(g_work, KEYS, h);
  }
  double seconds = clock_seconds(CLOCK_MONOTONIC) - start;
  double cpu_seconds = clock_seconds(CLOCK_PROCESS_CPUTIME_ID) - cpu_start;
  printf("METRIC seconds=%.6f\n", seconds);
  printf("METRIC cpu_seconds=%.6f\n", cpu_seconds);
  printf("units=%ld checksum=%016llx\n", units, (unsigned long long)h);
  return 0;
}
