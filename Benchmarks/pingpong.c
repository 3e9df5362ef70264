// How far apart two CPUs are: the round trip of one cache line bounced between a thread pinned to each, in ns.
//
// On this project's 2-vCPU machine it reads 50-90 ns when the host runs both vCPUs on one die and 320-370 ns when it
// places them on two, which it does from time to time (the placement changes when a vCPU has been idle). Run it
// before and after a benchmark to know which placement the benchmark saw (README, "Imported ONNX exports").
//
//   cc -O2 -pthread Benchmarks/pingpong.c -o /tmp/pingpong && /tmp/pingpong [cpu-a cpu-b]
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

enum { ROUNDS = 200000 };

static _Alignas(64) atomic_long ball;   // odd: the first thread has served; even: the second has returned it
static atomic_int unpinned;             // the second thread could not run on its CPU

static int pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void *returner(void *cpu) {
    if (pin((int)(long)cpu) != 0) { atomic_store(&unpinned, 1); return NULL; }
    for (long i = 0; i < ROUNDS; i++) {
        while (atomic_load_explicit(&ball, memory_order_acquire) != 2 * i + 1) {}
        atomic_store_explicit(&ball, 2 * i + 2, memory_order_release);
    }
    return NULL;
}

int main(int argc, char **argv) {
    int a = argc > 2 ? atoi(argv[1]) : 0, b = argc > 2 ? atoi(argv[2]) : 1;
    if (pin(a) != 0) { fprintf(stderr, "pingpong: cannot run on CPU %d\n", a); return 1; }
    pthread_t t;
    if (pthread_create(&t, NULL, returner, (void *)(long)b) != 0) { fprintf(stderr, "pingpong: no second thread\n"); return 1; }
    struct timespec start, end;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (long i = 0; i < ROUNDS; i++) {
        atomic_store_explicit(&ball, 2 * i + 1, memory_order_release);
        while (atomic_load_explicit(&ball, memory_order_acquire) != 2 * i + 2) {
            if (atomic_load_explicit(&unpinned, memory_order_relaxed)) { fprintf(stderr, "pingpong: cannot run on CPU %d\n", b); return 1; }
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &end);
    pthread_join(t, NULL);
    double ns = ((end.tv_sec - start.tv_sec) * 1e9 + (end.tv_nsec - start.tv_nsec)) / ROUNDS;
    printf("%.0f\n", ns);
    return 0;
}
