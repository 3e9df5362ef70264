// A small pool of worker threads for the engine's parallel loops (see ckernels.h). Workers spin for a short while
// after each job before they sleep, so the next layer's loop, a few microseconds later, starts on all cores at once;
// woken from sleep through libdispatch, a second core joined a loop only after tens of microseconds here, longer than
// most of a small network's layers take.
//
// Each thread owns a contiguous share of a job's iterations (see ckernels.h), on a cache line of its own. A shared
// counter that every iteration claimed from gave the iterations out in turn, so the data a layer's iteration wrote on
// one core was read by the next layer on the other. On this machine (a VM whose two vCPUs the host sometimes places
// on different dies: a cache-line round trip of 320–370 ns instead of 50–90) that traffic made a ResNet-18 forward
// take 26–27 ms instead of 17–18; with shares it takes 22–24 in that placement and 16.4–17.7 in the usual one.
#include "ckernels.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>
#include <immintrin.h>

#define OPEN (1L << 40)                 // the gate's open bit; the low bits count the workers that entered the job
#define SPIN_NS 200000L                 // how long an idle worker spins before it sleeps

enum { MAX_THREADS = 64 };             // the caller and up to 63 workers

/// One thread's share of a job's iterations, [lo, hi) packed as lo | hi << 32, on a cache line of its own: the
/// owner takes from the front, a thread that has run out of its own takes from the back.
typedef struct { _Alignas(64) atomic_long range; } share;

static struct {
    int workers;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    // Written by the caller once per job, read by the workers as they enter it.
    _Alignas(64) atomic_long generation;  // bumped once per job
    atomic_int sleeping;                // workers waiting on `wake`
    ck_body body;
    void *context;
    int threads;                        // shares in this job: the caller's and every worker's
    // The job's bookkeeping, on a line of its own so the spinning workers' reads of `generation` do not fight it.
    _Alignas(64) atomic_int busy;       // a caller owns the pool
    atomic_long gate;                   // OPEN | entered
    atomic_long finished;               // entered workers done with the job
    share shares[MAX_THREADS];
} pool = { .lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER };

static long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

/// The next iteration for thread t: the front of its own share, else the back of another's; -1 when none is left.
static long claim(int t) {
    for (int step = 0; step < pool.threads; step++) {
        int owner = (t + step) % pool.threads;
        atomic_long *range = &pool.shares[owner].range;
        long r = atomic_load_explicit(range, memory_order_relaxed);
        for (;;) {
            long lo = r & 0xffffffffL, hi = r >> 32;
            if (lo >= hi) break;
            long taken = step == 0 ? lo : hi - 1;
            long next = step == 0 ? (lo + 1) | (hi << 32) : lo | ((hi - 1) << 32);
            if (atomic_compare_exchange_weak_explicit(range, &r, next, memory_order_relaxed, memory_order_relaxed)) return taken;
        }
    }
    return -1;
}

/// Runs iterations for thread t until none is left.
static void claim_all(int t) {
    long i;
    while ((i = claim(t)) >= 0) pool.body(pool.context, i);
}

/// This thread's number in the running job (`ck_thread_index`): t for pool worker t, 0 for a caller inside
/// ck_parallel, -1 elsewhere.
static _Thread_local int self = -1;

int ck_thread_index(void) { return self; }

static void *worker(void *index) {
    int t = (int)(long)index;
    self = t;
    long seen = 0;
    for (;;) {
        long g = atomic_load(&pool.generation);
        if (g == seen) {
            long start = now_ns();
            int spins = 0;
            while ((g = atomic_load(&pool.generation)) == seen) {
                _mm_pause();
                if (++spins % 64 == 0 && now_ns() - start > SPIN_NS) break;
                if (spins % 1024 == 0) sched_yield();      // let a thread sharing this CPU run
            }
            if (g == seen) {
                pthread_mutex_lock(&pool.lock);
                atomic_fetch_add(&pool.sleeping, 1);
                while ((g = atomic_load(&pool.generation)) == seen) pthread_cond_wait(&pool.wake, &pool.lock);
                atomic_fetch_sub(&pool.sleeping, 1);
                pthread_mutex_unlock(&pool.lock);
            }
        }
        seen = g;
        // Enter only while the caller still holds the gate open; a job it has closed is done without us.
        long w = atomic_load(&pool.gate);
        while ((w & OPEN) && !atomic_compare_exchange_weak(&pool.gate, &w, w + 1)) {}
        if (!(w & OPEN)) continue;
        claim_all(t);
        atomic_fetch_add(&pool.finished, 1);
    }
    return NULL;
}

static pthread_once_t started = PTHREAD_ONCE_INIT;
static atomic_int wanted_workers;              // set by the first caller, read once by start()

static void start(void) {
    int n = atomic_load(&wanted_workers);
    for (int i = 0; i < n && i < MAX_THREADS - 1; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, worker, (void *)(long)(pool.workers + 1)) != 0) break;
        pthread_detach(t);
        pool.workers++;
    }
}

int ck_parallel(long count, ck_body body, void *context, int workers) {
    if (workers < 1 || count < 2 || count > 0x7fffffffL) return 0;
    int unset = 0;
    atomic_compare_exchange_strong(&wanted_workers, &unset, workers);
    pthread_once(&started, start);
    int free = 0;
    if (pool.workers == 0 || !atomic_compare_exchange_strong(&pool.busy, &free, 1)) return 0;
    pool.body = body;
    pool.context = context;
    pool.threads = pool.workers + 1;
    for (int t = 0; t < pool.threads; t++) {
        long lo = count * t / pool.threads, hi = count * (t + 1) / pool.threads;
        atomic_store_explicit(&pool.shares[t].range, lo | (hi << 32), memory_order_relaxed);
    }
    atomic_store(&pool.finished, 0);
    atomic_store(&pool.gate, OPEN);
    atomic_fetch_add(&pool.generation, 1);
    if (atomic_load(&pool.sleeping) > 0) {
        pthread_mutex_lock(&pool.lock);
        pthread_cond_broadcast(&pool.wake);
        pthread_mutex_unlock(&pool.lock);
    }
    int outer = self;
    self = 0;
    claim_all(0);
    self = outer;
    long entered = atomic_fetch_and(&pool.gate, ~OPEN) & (OPEN - 1);
    // Spin briefly for the workers still on their last iteration, then yield: a worker that another process has
    // pushed onto this CPU cannot finish while the caller spins.
    for (long spins = 0; atomic_load(&pool.finished) < entered; spins++) {
        if (spins < 4096) _mm_pause(); else sched_yield();
    }
    atomic_store(&pool.busy, 0);
    return 1;
}
