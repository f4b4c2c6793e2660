/*
 * mthp_bench - the live-kernel side of `mthpsim bench --vs-kernel`.
 *
 * Runs one memory pattern natively and prints "UNITS NANOSECONDS" (the units done and the time
 * they took, CLOCK_MONOTONIC unless the pattern says otherwise) on one line of stdout; exit 0. On failure: a message on stderr, exit 1.
 * `mthpsim bench` sets the THP settings before starting it and restores them afterwards; this
 * program only maps, touches and unmaps memory. The LEN patterns first write and unmap LEN bytes
 * once, untimed (see warm()).
 *
 *   mthp_bench touch LEN STRIDE WRITE PRETOUCH
 *       maps LEN bytes (PMD-aligned, MAP_PRIVATE|MAP_ANONYMOUS), optionally writes every 4K page
 *       first (PRETOUCH=1, untimed), then times one access per STRIDE bytes: a store (WRITE=1) or
 *       a volatile load (WRITE=0). Units: accesses.
 *   mthp_bench fork LEN      writes LEN bytes, then times fork() + the child's _exit(0) + waitpid().
 *                            Units: pages of the parent.
 *   mthp_bench munmap LEN    writes LEN bytes, then times munmap() of the region. Units: pages.
 *   mthp_bench cow LEN       writes LEN bytes (after warming 2 * LEN: the copies need memory too),
 *                            forks a child that waits, then times the parent writing every 4K page
 *                            again (a copy-on-write fault each; a PMD mapping is split at its first
 *                            write). Units: pages.
 *   mthp_bench split LEN     writes LEN bytes, then times MADV_DONTNEED of the first 4K page of every
 *                            2M (one call each: with 2M THPs each splits a PMD mapping). Units: 2M ranges.
 *   mthp_bench free-split LEN STEP
 *                            writes LEN bytes, then times MADV_FREE of the first 4K page of every STEP
 *                            bytes (one call each: with folios of STEP bytes, madvise_free_pte_range()
 *                            splits each, as it covers the folio in part). Units: calls.
 *   mthp_bench memcpy LEN    writes LEN bytes and a second region of LEN bytes (untimed), then times
 *                            copying the first into the second 4K at a time, as the kernel's
 *                            copy_user_highpage() copies a page. Units: 4K pages.
 *   mthp_bench mmap N        times N one-page mmaps (alternating PROT_READ and PROT_READ|PROT_WRITE,
 *                            so none merge). N is capped below vm.max_map_count. Units: mmaps.
 *   mthp_bench munmap-many N maps as `mmap N` does (untimed), then times munmap() of each page in
 *                            mmap order. Units: munmaps.
 *   mthp_bench collapse LEN FILL
 *                            writes the first FILL 4K pages of every 2M of a LEN region (base pages:
 *                            run with enabled=never), then times one MADV_COLLAPSE of the region.
 *                            Units: 2M ranges (each must collapse).
 *   mthp_bench memset LEN    writes LEN bytes (untimed), then times zeroing them with memset(), which
 *                            uses the instruction the kernel's clear_page() does. Units: 4K pages.
 *   mthp_bench khugepaged-scan LEN PASSES
 *                            writes all but the last 4K page of every 2M of a LEN region (base
 *                            pages), then MADV_HUGEPAGE, which registers it with khugepaged; with
 *                            max_ptes_none=0 and scan_sleep_millisecs=0 every window is read whole
 *                            and fails on its last PTE. Times PASSES full scans (after the pass under
 *                            way ends) by khugepaged's own CPU time (its CPU-time clock), not the
 *                            wall clock: khugepaged runs at nice 19, and on a busy machine it waits
 *                            for a CPU far longer than it scans. Units: PTEs of the region scanned.
 *
 * Build: gcc -O2 -Wall -Wextra -Werror -o mthp_bench mthp_bench.c
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#ifndef PR_SET_THP_DISABLE
#define PR_SET_THP_DISABLE 41
#endif

#define PAGE 4096UL
#define PMD (2UL << 20)

static void die(const char *what)
{
	fprintf(stderr, "mthp_bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;
	if (clock_gettime(clock, &ts) != 0)
		die("clock_gettime");
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ns(void) { return clock_ns(CLOCK_MONOTONIC); }

static unsigned long arg(const char *s)
{
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || end == s) {
		fprintf(stderr, "mthp_bench: bad number '%s'\n", s);
		exit(1);
	}
	return v;
}

/* LEN bytes starting at a PMD boundary: map more, then trim the ends, so that the VMA is exactly
 * the region (as the simulator's mmap of a PMD multiple places it). */
static char *map_region(unsigned long len)
{
	char *raw = mmap(NULL, len + PMD, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		die("mmap");
	uintptr_t start = ((uintptr_t)raw + PMD - 1) & ~(PMD - 1);
	uintptr_t end = start + len, rawend = (uintptr_t)raw + len + PMD;
	if (start > (uintptr_t)raw && munmap(raw, start - (uintptr_t)raw) != 0)
		die("munmap head");
	if (rawend > end && munmap((void *)end, rawend - end) != 0)
		die("munmap tail");
	return (char *)start;
}

static void write_all(char *p, unsigned long len)
{
	for (unsigned long off = 0; off < len; off += PAGE)
		*(volatile char *)(p + off) = 1;
}

/* In a virtual machine the first touch of guest memory the host has not backed yet costs a host
 * fault per host page, which would be charged to the guest kernel. Writing LEN bytes once and
 * unmapping them (untimed) makes the measured run get memory the host has backed: freed pages are
 * the first the allocator hands out again. */
static void warm(unsigned long len)
{
	char *p = map_region(len);
	write_all(p, len);
	if (munmap(p, len) != 0)
		die("munmap");
}

static void report(unsigned long units, uint64_t ns)
{
	printf("%lu %llu\n", units, (unsigned long long)ns);
}

static void bench_touch(unsigned long len, unsigned long stride, int write, int pretouch)
{
	warm(len);
	char *p = map_region(len);
	if (pretouch)
		write_all(p, len);
	unsigned long n = 0;
	char sum = 0;
	uint64_t t0 = now_ns();
	if (write) {
		for (unsigned long off = 0; off < len; off += stride, n++)
			*(volatile char *)(p + off) = 1;
	} else {
		for (unsigned long off = 0; off < len; off += stride, n++)
			sum += *(volatile char *)(p + off);
	}
	uint64_t t1 = now_ns();
	if (sum != 0) /* zero pages read as zero; this also keeps the loads */
		fprintf(stderr, "mthp_bench: read %d from fresh memory\n", sum);
	report(n, t1 - t0);
}

static void bench_fork(unsigned long len)
{
	warm(len);
	char *p = map_region(len);
	write_all(p, len);
	fflush(stdout);
	uint64_t t0 = now_ns();
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0)
		_exit(0);
	int status;
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");
	uint64_t t1 = now_ns();
	report(len / PAGE, t1 - t0);
}

static void bench_munmap(unsigned long len)
{
	warm(len);
	char *p = map_region(len);
	write_all(p, len);
	uint64_t t0 = now_ns();
	if (munmap(p, len) != 0)
		die("munmap");
	uint64_t t1 = now_ns();
	report(len / PAGE, t1 - t0);
}

static void bench_cow(unsigned long len)
{
	warm(2 * len);   /* the region, and the copies its writes make */
	char *p = map_region(len);
	write_all(p, len);
	int fds[2];
	if (pipe(fds) != 0)
		die("pipe");
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		char c;
		close(fds[1]);
		/* holds its copy of the region until the parent has written it all (EOF) */
		while (read(fds[0], &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(fds[0]);
	uint64_t t0 = now_ns();
	write_all(p, len);
	uint64_t t1 = now_ns();
	close(fds[1]);
	int status;
	if (waitpid(pid, &status, 0) != pid)
		die("waitpid");
	report(len / PAGE, t1 - t0);
}

/* split and free-split: one madvise() of the first 4K page of every STEP bytes of LEN written. */
static void bench_madvise_each(unsigned long len, unsigned long step, int advice)
{
	warm(len);
	char *p = map_region(len);
	write_all(p, len);
	uint64_t t0 = now_ns();
	for (unsigned long off = 0; off < len; off += step)
		if (madvise(p + off, PAGE, advice) != 0)
			die("madvise");
	uint64_t t1 = now_ns();
	report(len / step, t1 - t0);
}

static void bench_memcpy(unsigned long len)
{
	char *src = map_region(len), *dst = map_region(len);
	write_all(src, len);
	write_all(dst, len);
	uint64_t t0 = now_ns();
	for (unsigned long off = 0; off < len; off += PAGE)
		memcpy(dst + off, src + off, PAGE);
	uint64_t t1 = now_ns();
	if (*(volatile char *)dst != 1) /* keeps the copies */
		fprintf(stderr, "mthp_bench: copy lost\n");
	report(len / PAGE, t1 - t0);
}

/* vm.max_map_count bounds the VMAs of a process (65530 by default); leave room for the program's own. */
static unsigned long cap_mappings(unsigned long n)
{
	unsigned long max = 65530;
	FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
	if (f) {
		if (fscanf(f, "%lu", &max) != 1)
			max = 65530;
		fclose(f);
	}
	return n < max - 1000 ? n : max - 1000;
}

static char **map_many(unsigned long n, uint64_t *ns)
{
	char **pages = malloc(n * sizeof *pages);
	if (!pages)
		die("malloc");
	uint64_t t0 = now_ns();
	for (unsigned long i = 0; i < n; i++) {
		int prot = i % 2 == 0 ? PROT_READ : PROT_READ | PROT_WRITE;
		pages[i] = mmap(NULL, PAGE, prot, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (pages[i] == MAP_FAILED)
			die("mmap");
	}
	*ns = now_ns() - t0;
	return pages;
}

static void bench_collapse(unsigned long len, unsigned long fill)
{
	if (fill == 0 || fill > PMD / PAGE) {
		fprintf(stderr, "mthp_bench: FILL must be 1 to %lu\n", PMD / PAGE);
		exit(1);
	}
	warm(len);
	char *p = map_region(len);
	for (unsigned long r = 0; r < len; r += PMD)
		for (unsigned long i = 0; i < fill; i++)
			*(volatile char *)(p + r + i * PAGE) = 1;
	/* One call over the region, as khugepaged drains the LRU caches once per round, not per range.
	 * EAGAIN (a page that could not be isolated just then) is retried: the ranges done return at once. */
	uint64_t t0 = now_ns();
	int tries = 0;
	while (madvise(p, len, 25 /* MADV_COLLAPSE */) != 0) {
		if (errno != EAGAIN || ++tries == 5)
			die("madvise(MADV_COLLAPSE)");
	}
	report(len / PMD, now_ns() - t0);
}

static void bench_memset(unsigned long len)
{
	warm(len);
	char *p = map_region(len);
	write_all(p, len);
	uint64_t t0 = now_ns();
	memset(p, 0, len);
	uint64_t t1 = now_ns();
	if (*(volatile char *)(p + len / 2) != 0)
		fprintf(stderr, "mthp_bench: memset left data\n");
	report(len / PAGE, t1 - t0);
}

static unsigned long full_scans(void)
{
	FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/khugepaged/full_scans", "r");
	unsigned long v = 0;
	if (!f || fscanf(f, "%lu", &v) != 1)
		die("read khugepaged/full_scans");
	fclose(f);
	return v;
}

/* Waits (polling every 200 us) until full_scans reaches TARGET; gives up after 120 s. */
static void wait_full_scans(unsigned long target)
{
	uint64_t deadline = now_ns() + 120ULL * 1000000000ULL;
	while (full_scans() < target) {
		if (now_ns() > deadline) {
			fprintf(stderr, "mthp_bench: khugepaged did not complete its scans in 120 s\n");
			exit(1);
		}
		usleep(200);
	}
}

/* The khugepaged thread's pid (its comm is "khugepaged"). */
static long khugepaged_pid(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	long pid = -1;
	if (!d)
		die("opendir(/proc)");
	while (pid < 0 && (e = readdir(d)) != NULL) {
		char path[300], comm[32] = "";
		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/comm", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof comm, f) && strcmp(comm, "khugepaged\n") == 0)
			pid = strtol(e->d_name, NULL, 10);
		fclose(f);
	}
	closedir(d);
	if (pid < 0) {
		fprintf(stderr, "mthp_bench: no khugepaged thread in /proc\n");
		exit(1);
	}
	return pid;
}

/* Nanoseconds the thread PID has run on a CPU, up to date even while it runs (its CPU-time clock:
 * /proc/PID/schedstat lags a running thread by up to a tick). */
static uint64_t cpu_ns(long pid)
{
	clockid_t clock;
	int err = clock_getcpuclockid((pid_t)pid, &clock);
	if (err != 0) {
		errno = err;
		die("clock_getcpuclockid(khugepaged)");
	}
	return clock_ns(clock);
}

static void bench_khugepaged_scan(unsigned long len, unsigned long passes)
{
	warm(len);
	char *p = map_region(len);
	for (unsigned long r = 0; r < len; r += PMD)
		for (unsigned long off = 0; off < PMD - PAGE; off += PAGE)
			*(volatile char *)(p + r + off) = 1;
	if (madvise(p, len, MADV_HUGEPAGE) != 0)
		die("madvise(MADV_HUGEPAGE)");
	wait_full_scans(full_scans() + 1);   /* the pass under way may have started before the region was registered */
	long pid = khugepaged_pid();
	unsigned long start = full_scans();
	uint64_t t0 = cpu_ns(pid);
	wait_full_scans(start + passes);
	uint64_t t1 = cpu_ns(pid);
	report(passes * (len / PAGE), t1 - t0);
}

int main(int argc, char **argv)
{
	/* The settings under test must apply to this process: clear a PR_SET_THP_DISABLE inherited
	 * from the parent (the oracle sets it on itself). */
	(void)prctl(PR_SET_THP_DISABLE, 0UL, 0UL, 0UL, 0UL);
	if (argc == 6 && strcmp(argv[1], "touch") == 0) {
		bench_touch(arg(argv[2]), arg(argv[3]), arg(argv[4]) != 0, arg(argv[5]) != 0);
	} else if (argc == 3 && strcmp(argv[1], "fork") == 0) {
		bench_fork(arg(argv[2]));
	} else if (argc == 3 && strcmp(argv[1], "cow") == 0) {
		bench_cow(arg(argv[2]));
	} else if (argc == 3 && strcmp(argv[1], "split") == 0) {
		bench_madvise_each(arg(argv[2]), PMD, MADV_DONTNEED);
	} else if (argc == 4 && strcmp(argv[1], "free-split") == 0) {
		bench_madvise_each(arg(argv[2]), arg(argv[3]), MADV_FREE);
	} else if (argc == 3 && strcmp(argv[1], "memcpy") == 0) {
		bench_memcpy(arg(argv[2]));
	} else if (argc == 3 && strcmp(argv[1], "munmap") == 0) {
		bench_munmap(arg(argv[2]));
	} else if (argc == 3 && strcmp(argv[1], "mmap") == 0) {
		unsigned long n = cap_mappings(arg(argv[2]));
		uint64_t ns;
		map_many(n, &ns);
		report(n, ns);
	} else if (argc == 3 && strcmp(argv[1], "munmap-many") == 0) {
		unsigned long n = cap_mappings(arg(argv[2]));
		uint64_t ns;
		char **pages = map_many(n, &ns);
		uint64_t t0 = now_ns();
		for (unsigned long i = 0; i < n; i++)
			if (munmap(pages[i], PAGE) != 0)
				die("munmap");
		report(n, now_ns() - t0);
	} else if (argc == 4 && strcmp(argv[1], "collapse") == 0) {
		bench_collapse(arg(argv[2]), arg(argv[3]));
	} else if (argc == 3 && strcmp(argv[1], "memset") == 0) {
		bench_memset(arg(argv[2]));
	} else if (argc == 4 && strcmp(argv[1], "khugepaged-scan") == 0) {
		bench_khugepaged_scan(arg(argv[2]), arg(argv[3]));
	} else {
		fprintf(stderr, "usage: mthp_bench touch LEN STRIDE WRITE PRETOUCH | fork LEN | cow LEN | split LEN | free-split LEN STEP | memcpy LEN | munmap LEN | mmap N | munmap-many N | collapse LEN FILL | memset LEN | khugepaged-scan LEN PASSES\n");
		return 1;
	}
	return 0;
}
