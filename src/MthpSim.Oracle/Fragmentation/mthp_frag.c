// mthp_frag: the live side of `mthpsim oracle fragmentation` (issue 18).
// Fills memory in base pages, keeps one page in a share of the fill's physical 2M blocks (HOLD
// "pinned": pinned long-term, as io_uring fixed buffers; "movable": only kept mapped, so compaction
// may move it), gives back all of the fill but the pages kept, then measures how
// many 2M and 64K faults succeed. Settings are changed by the C# side between phases (journalled
// there): before each phase this prints "ready PHASE" and waits for a line on stdin. Results are
// key=value lines.
// Usage: mthp_frag FILL_BYTES MEASURE_BYTES PIN_SHARE SEED HOLD
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#define PAGE 4096UL
#define PMD (2UL << 20)
#define SZ64K (64UL << 10)
// IORING_MAX_REG_BUFFERS: the most buffers one registration takes.
#define MAX_REG 16384

static void die(const char *what)
{
    fprintf(stderr, "mthp_frag: %s: %s\n", what, strerror(errno));
    exit(1);
}

// splitmix64: a seeded generator with no state beyond one word (the choices need only be reproducible).
static uint64_t rng_state;
static uint64_t rng_next(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static double rng_unit(void) { return (double)(rng_next() >> 11) / (double)(1ULL << 53); }

static void wait_for(const char *phase)
{
    char line[64];
    printf("ready %s\n", phase);
    fflush(stdout);
    if (!fgets(line, sizeof line, stdin)) { fprintf(stderr, "mthp_frag: stdin closed before %s\n", phase); exit(1); }
}

static long long read_ll(const char *path)
{
    FILE *f = fopen(path, "r");
    long long v = -1;
    if (!f) die(path);
    if (fscanf(f, "%lld", &v) != 1) v = -1;
    fclose(f);
    return v;
}

static long long vmstat(const char *name)
{
    FILE *f = fopen("/proc/vmstat", "r");
    char key[128];
    long long v, found = -1;
    if (!f) die("/proc/vmstat");
    while (fscanf(f, "%127s %lld", key, &v) == 2)
        if (!strcmp(key, name)) { found = v; break; }
    fclose(f);
    return found;
}

// AnonHugePages of this process in kB: only the measured region can have any (the fill is MADV_NOHUGEPAGE).
static long long anon_huge_kb(void)
{
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    char line[256];
    long long v = -1;
    if (!f) die("smaps_rollup");
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "AnonHugePages: %lld kB", &v) == 1) break;
    fclose(f);
    return v;
}

// Free memory in blocks of at least ORDER, counted in blocks of that order, over every zone
// (/proc/buddyinfo): what a phase can get without compaction.
static long long free_blocks(int order)
{
    FILE *f = fopen("/proc/buddyinfo", "r");
    char line[512];
    long long n = 0;
    if (!f) die("/proc/buddyinfo");
    while (fgets(line, sizeof line, f)) {
        char *p = strstr(line, "zone");
        if (!p) continue;
        p += 4;
        while (*p == ' ') p++;
        while (*p && *p != ' ') p++;   // the zone's name
        for (int o = 0; o < 11; o++) {
            long long c = strtoll(p, &p, 10);
            if (o >= order) n += c << (o - order);
        }
    }
    fclose(f);
    return n;
}

typedef struct { uint64_t pfn; uint64_t idx; } frame_t;

static int by_pfn(const void *a, const void *b)
{
    uint64_t x = ((const frame_t *)a)->pfn, y = ((const frame_t *)b)->pfn;
    return x < y ? -1 : x > y;
}
static int by_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static char *map_aligned(size_t len)
{
    char *p = mmap(NULL, len + PMD, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) die("mmap");
    char *a = (char *)(((uintptr_t)p + PMD - 1) & ~(PMD - 1));
    if (a > p) munmap(p, a - p);
    munmap(a + len, (p + len + PMD) - (a + len));
    return a;
}

// Pages of a 64K chunk beyond the one touched are mapped only if the fault got a 64K folio: counts
// this process's 64K folios without the machine-wide counter.
static long count_64k_by_pagemap(int pm, char *a, size_t len)
{
    long n = 0;
    for (size_t off = 0; off < len; off += SZ64K) {
        uint64_t e;
        if (pread(pm, &e, 8, ((uintptr_t)(a + off + PAGE) / PAGE) * 8) != 8) die("pagemap");
        if (e >> 63) n++;
    }
    return n;
}

// One measurement: a fresh 2M-aligned region touched once per STEP; prints the folios got.
static void measure(const char *phase, size_t len, size_t step, int hugepage, int pm)
{
    wait_for(phase);
    printf("%s.free_blocks=%lld\n", phase, free_blocks(step == PMD ? 9 : 4));
    char *a = map_aligned(len);
    if (hugepage && madvise(a, len, MADV_HUGEPAGE)) die("MADV_HUGEPAGE");
    long long stall = vmstat("compact_stall"), succ = vmstat("compact_success"), fail = vmstat("compact_fail");
    long long migr = vmstat("pgmigrate_success");
    long long thp0 = vmstat("thp_fault_alloc");
    long long a64 = read_ll("/sys/kernel/mm/transparent_hugepage/hugepages-64kB/stats/anon_fault_alloc");
    for (size_t off = 0; off < len; off += step) a[off] = 1;
    long long huge_kb = anon_huge_kb();
    printf("%s.faults=%zu\n", phase, len / step);
    printf("%s.anon_huge_kb=%lld\n", phase, huge_kb);
    printf("%s.thp_fault_alloc=%lld\n", phase, vmstat("thp_fault_alloc") - thp0);
    printf("%s.anon_fault_alloc_64k=%lld\n", phase,
           read_ll("/sys/kernel/mm/transparent_hugepage/hugepages-64kB/stats/anon_fault_alloc") - a64);
    if (step == SZ64K) printf("%s.mapped_64k=%ld\n", phase, count_64k_by_pagemap(pm, a, len));
    printf("%s.compact_stall=%lld\n", phase, vmstat("compact_stall") - stall);
    printf("%s.compact_success=%lld\n", phase, vmstat("compact_success") - succ);
    printf("%s.compact_fail=%lld\n", phase, vmstat("compact_fail") - fail);
    printf("%s.pgmigrate_success=%lld\n", phase, vmstat("pgmigrate_success") - migr);
    fflush(stdout);
    munmap(a, len);
}

int main(int argc, char **argv)
{
    if (argc != 6 || (strcmp(argv[5], "pinned") && strcmp(argv[5], "movable"))) {
        fprintf(stderr, "usage: mthp_frag FILL_BYTES MEASURE_BYTES PIN_SHARE SEED pinned|movable\n");
        return 2;
    }
    int movable = strcmp(argv[5], "movable") == 0;
    size_t fill = strtoull(argv[1], NULL, 0) & ~(PAGE - 1);
    size_t meas = strtoull(argv[2], NULL, 0) & ~(PMD - 1);
    double share = strtod(argv[3], NULL);
    rng_state = strtoull(argv[4], NULL, 0);
    size_t npages = fill / PAGE;

    // Pinned pages count against RLIMIT_MEMLOCK unless the process has CAP_IPC_LOCK (io_uring then
    // accounts nothing); without CAP_SYS_RESOURCE the limit cannot be raised, and root still pins.
    struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
    if (setrlimit(RLIMIT_MEMLOCK, &rl) && getrlimit(RLIMIT_MEMLOCK, &rl) == 0) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_MEMLOCK, &rl);
        printf("memlock_limit=%llu\n", (unsigned long long)rl.rlim_cur);
    }
    int pm = open("/proc/self/pagemap", O_RDONLY);
    if (pm < 0) die("/proc/self/pagemap");

    // a. fill in base pages.
    wait_for("fill");
    char *f = map_aligned(fill);
    if (madvise(f, fill, MADV_NOHUGEPAGE)) die("MADV_NOHUGEPAGE");
    for (size_t i = 0; i < npages; i++) f[i * PAGE] = 1;

    // b. group the fill's pages by physical 2M block and choose one page in a share of the blocks.
    frame_t *fr = malloc(npages * sizeof *fr);
    uint64_t *buf = malloc(65536 * 8);
    if (!fr || !buf) die("malloc");
    size_t nfr = 0;
    for (size_t i = 0; i < npages; i += 65536) {
        size_t n = npages - i < 65536 ? npages - i : 65536;
        if (pread(pm, buf, n * 8, ((uintptr_t)f / PAGE + i) * 8) != (ssize_t)(n * 8)) die("pagemap");
        for (size_t j = 0; j < n; j++)
            if ((buf[j] >> 63) && (buf[j] & ((1ULL << 55) - 1))) { fr[nfr].pfn = buf[j] & ((1ULL << 55) - 1); fr[nfr].idx = i + j; nfr++; }
    }
    if (nfr == 0) { fprintf(stderr, "mthp_frag: pagemap shows no page frame numbers (not root?)\n"); return 1; }
    qsort(fr, nfr, sizeof *fr, by_pfn);
    uint64_t *pin = malloc(nfr * sizeof *pin);   // at most one per frame
    size_t npin = 0, nblocks = 0;
    for (size_t s = 0; s < nfr;) {
        size_t e = s;
        while (e < nfr && fr[e].pfn >> 9 == fr[s].pfn >> 9) e++;
        nblocks++;
        double u = rng_unit();
        size_t pick = s + rng_next() % (e - s);
        if (u < share) pin[npin++] = fr[pick].idx;
        s = e;
    }
    free(fr);
    qsort(pin, npin, sizeof *pin, by_u64);
    printf("fill.pages=%zu\nfill.pfns=%zu\nfill.blocks=%zu\npinned=%zu\n", npages, nfr, nblocks, npin);

    // Long-term pins: io_uring fixed buffers, one 4K iovec per page, up to MAX_REG per ring.
    int nrings = movable ? 0 : (int)((npin + MAX_REG - 1) / MAX_REG);
    int *rings = calloc(nrings + 1, sizeof *rings);
    struct iovec *iov = malloc((npin + 1) * sizeof *iov);
    for (size_t i = 0; i < npin; i++) { iov[i].iov_base = f + pin[i] * PAGE; iov[i].iov_len = PAGE; }
    for (int r = 0; r < nrings; r++) {
        struct io_uring_params p;
        memset(&p, 0, sizeof p);
        rings[r] = syscall(__NR_io_uring_setup, 1, &p);
        if (rings[r] < 0) { fprintf(stderr, "mthp_frag: io_uring_setup: %s\n", strerror(errno)); return 4; }
        size_t first = (size_t)r * MAX_REG, n = npin - first < MAX_REG ? npin - first : MAX_REG;
        if (syscall(__NR_io_uring_register, rings[r], IORING_REGISTER_BUFFERS, iov + first, (unsigned)n) < 0) {
            fprintf(stderr, "mthp_frag: IORING_REGISTER_BUFFERS: %s\n", strerror(errno));
            return 4;
        }
    }
    printf("rings=%d\n", nrings);

    // c. every page of the fill but the ones kept goes back.
    size_t prev = 0;
    for (size_t i = 0; i <= npin; i++) {
        size_t next = i < npin ? pin[i] : npages;
        if (next > prev && madvise(f + prev * PAGE, (next - prev) * PAGE, MADV_DONTNEED)) die("MADV_DONTNEED");
        prev = next + 1;
    }
    printf("fill.dontneed=done\n");
    fflush(stdout);

    // d. the measurements; the C# side sets defrag and the sizes (and compacts) before each.
    measure("2m-never", meas, PMD, 0, pm);
    measure("2m-madvise", meas, PMD, 1, pm);
    measure("64k-never", meas, SZ64K, 0, pm);
    measure("2m-after-compact", meas, PMD, 0, pm);

    // e. unpin and give everything back.
    wait_for("end");
    for (int r = 0; r < nrings; r++) {
        syscall(__NR_io_uring_register, rings[r], IORING_UNREGISTER_BUFFERS, NULL, 0);
        close(rings[r]);
    }
    munmap(f, fill);
    printf("end=done\n");
    return 0;
}
