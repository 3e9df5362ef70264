// A small pool of worker threads for the engine's parallel loops (see ckernels.h). Workers spin for a short while
// after each job before they sleep, so the next layer's loop, a few microseconds later, starts on all cores at once;
// woken from sleep through libdispatch, a second core joined a loop only after tens of microseconds here, longer than
// most of a small network's layers take.
#include "ckernels.h"
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>
#include <immintrin.h>

#define OPEN (1L << 40)                 // the gate's open bit; the low bits count the workers that entered the job
#define SPIN_NS 200000L                 // how long an idle worker spins before it sleeps

static struct {
    int workers;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    atomic_long generation;             // bumped once per job
    atomic_int sleeping;                // workers waiting on `wake`
    atomic_int busy;                    // a caller owns the pool
    atomic_long gate;                   // OPEN | entered
    atomic_long finished;               // entered workers done with the job
    atomic_long next;                   // the next iteration to claim
    ck_body body;
    void *context;
    long count;
} pool = { .lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER };

static long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

static void claim_all(void) {
    long i;
    while ((i = atomic_fetch_add(&pool.next, 1)) < pool.count) pool.body(pool.context, i);
}

static void *worker(void *unused) {
    (void)unused;
    long seen = 0;
    for (;;) {
        long g = atomic_load(&pool.generation);
        if (g == seen) {
            long start = now_ns();
            int spins = 0;
            while ((g = atomic_load(&pool.generation)) == seen) {
                _mm_pause();
                if (++spins % 64 == 0 && now_ns() - start > SPIN_NS) break;
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
        claim_all();
        atomic_fetch_add(&pool.finished, 1);
    }
    return NULL;
}

static pthread_once_t started = PTHREAD_ONCE_INIT;
static atomic_int wanted_workers;              // set by the first caller, read once by start()

static void start(void) {
    int n = atomic_load(&wanted_workers);
    for (int i = 0; i < n; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, worker, NULL) != 0) break;
        pthread_detach(t);
        pool.workers++;
    }
}

int ck_parallel(long count, ck_body body, void *context, int workers) {
    if (workers < 1 || count < 2) return 0;
    int unset = 0;
    atomic_compare_exchange_strong(&wanted_workers, &unset, workers);
    pthread_once(&started, start);
    int free = 0;
    if (pool.workers == 0 || !atomic_compare_exchange_strong(&pool.busy, &free, 1)) return 0;
    pool.body = body;
    pool.context = context;
    pool.count = count;
    atomic_store(&pool.next, 0);
    atomic_store(&pool.finished, 0);
    atomic_store(&pool.gate, OPEN);
    atomic_fetch_add(&pool.generation, 1);
    if (atomic_load(&pool.sleeping) > 0) {
        pthread_mutex_lock(&pool.lock);
        pthread_cond_broadcast(&pool.wake);
        pthread_mutex_unlock(&pool.lock);
    }
    claim_all();
    long entered = atomic_fetch_and(&pool.gate, ~OPEN) & (OPEN - 1);
    while (atomic_load(&pool.finished) < entered) _mm_pause();
    atomic_store(&pool.busy, 0);
    return 1;
}
