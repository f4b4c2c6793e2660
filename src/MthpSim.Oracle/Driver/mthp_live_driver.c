/*
 * mthp_live_driver - runs mthpsim scenario memory operations on the live kernel.
 *
 * `mthpsim oracle` starts this program (as root), writes one command per line to its stdin and
 * reads exactly one response line per command from its stdout. The commands, their arguments and
 * the response formats are specified in PROTOCOL.md next to this file; keep the two in sync.
 *
 * The mTHP counters in /sys are machine-wide, so the oracle can only attribute faults to the
 * scenario if the driver itself faults nothing once it is running. Everything the driver needs
 * (stack, stdio buffers, static arrays, lazily bound library calls, the fault handler) is therefore
 * touched or exercised before it prints `ready`, and nothing is allocated afterwards.
 *
 * `fork` makes a child that is a driver of its own (same protocol, over two FIFOs); `pin`/`unpin`
 * hold long-term FOLL_WRITE|FOLL_LONGTERM pins as io_uring fixed buffers. See PROTOCOL.md.
 *
 * Build: gcc -O2 -Wall -Wextra -Werror -o mthp_live_driver mthp_live_driver.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <linux/fs.h>
#include <linux/io_uring.h>
#include <linux/userfaultfd.h>
#include <pthread.h>

#ifndef PAGEMAP_SCAN
/* Debian 12's linux-libc-dev (6.1) predates PAGEMAP_SCAN (Linux 6.7); these are copied from the
 * kernel's include/uapi/linux/fs.h. */
struct page_region {
	__u64 start;
	__u64 end;
	__u64 categories;
};

struct pm_scan_arg {
	__u64 size;
	__u64 flags;
	__u64 start;
	__u64 end;
	__u64 walk_end;
	__u64 vec;
	__u64 vec_len;
	__u64 max_pages;
	__u64 category_inverted;
	__u64 category_mask;
	__u64 category_anyof_mask;
	__u64 return_mask;
};

#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)
#endif
#ifndef PAGE_IS_PRESENT
#define PAGE_IS_PRESENT (1 << 3)
#endif
#ifndef PAGE_IS_HUGE
#define PAGE_IS_HUGE (1 << 6)
#endif
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef PR_SET_THP_DISABLE
#define PR_SET_THP_DISABLE 41
#endif
#ifndef __NR_io_uring_setup
#define __NR_io_uring_setup 425
#endif
#ifndef __NR_io_uring_register
#define __NR_io_uring_register 427
#endif
#ifndef __NR_cachestat
#define __NR_cachestat 451
#endif
#ifndef MADV_REMOVE
#define MADV_REMOVE 9
#endif

/* cachestat(2) (Linux 6.5), newer than Debian 12's headers; layout from include/uapi/linux/mman.h. */
struct mthp_cachestat_range {
	__u64 off;
	__u64 len;
};

struct mthp_cachestat {
	__u64 nr_cache;
	__u64 nr_dirty;
	__u64 nr_writeback;
	__u64 nr_evicted;
	__u64 nr_recently_evicted;
};

/* /proc/self/pagemap entry bits (Documentation/admin-guide/mm/pagemap.rst). */
#define PM_PRESENT (UINT64_C(1) << 63)
#define PM_SWAPPED (UINT64_C(1) << 62)
#define PM_PFN_MASK ((UINT64_C(1) << 55) - 1)

/* /proc/kpageflags bits (include/uapi/linux/kernel-page-flags.h). */
#define KPF_COMPOUND_HEAD (UINT64_C(1) << 15)
#define KPF_COMPOUND_TAIL (UINT64_C(1) << 16)

/* No anonymous folio is larger than this; bounds the walk to a folio's head. */
#define MAX_FOLIO_PAGES 8192

/* peek/pages print one entry per page; refuse absurd ranges instead of streaming for hours. */
#define MAX_LIST_PAGES (UINT64_C(1) << 24)

#define LINE_CAP 8192
#define OUT_CAP 65536
#define PM_CHUNK 4096
#define KPF_WIN 64
#define SCAN_REGIONS 512
#define STACK_PRETOUCH (256 * 1024)
/* Slots in the io_uring fixed-buffer table, i.e. long-term pins a process can hold at once. */
#define MAX_PINS 64
/* The driver's own mappings remembered for mlock() in a forked child. */
#define MAX_OWN_RANGES 256
/* Files a process keeps open to map them (see file_fd()), and the longest path remembered. */
#define MAX_FILE_FDS 64
#define FILE_PATH_CAP 64
/* pwrite/pread are issued in pieces that end at multiples of this file offset: the largest page
 * cache folio (PMD size with 4K pages), which is also the step in which the kernel's
 * generic_perform_write() walks one big write, so the pieces reach shmem exactly as one call would. */
#define FILE_PIECE (UINT64_C(2) << 20)
/* iovecs of one piece: at most two per page (token word, zeros), 512 pages of 4K. */
#define PIECE_IOV 1024
#define ZERO_CAP 65536
/* userfaultfd: registered ranges with their handler, fills logged between two `uffd_log`, pages per
 * UFFDIO_COPY of a `uffd_copy` command, and the handler thread's stack. */
#define UFFD_RANGES 256
#define UFFD_LOG_CAP 65536
#define UFFD_SRC_PAGES 16
#define UFFD_STACK (256 * 1024)

/* All buffers are static so that nothing is allocated after `ready`. */
static char stdin_buf[65536];
static char stdout_buf[65536];
static char line[LINE_CAP];
static char outbuf[OUT_CAP];
static size_t outlen;
static uint64_t pm_buf[PM_CHUNK];
static uint64_t kpf_win[KPF_WIN];
static struct page_region scan_regions[SCAN_REGIONS];
/* File I/O: token words of one piece, a page of zeros, a read sink (iovecs may alias it). */
static uint64_t piece_tokens[PIECE_IOV];
static unsigned char zero_buf[ZERO_CAP];
static unsigned char read_buf[ZERO_CAP];
static struct iovec piece_iov[PIECE_IOV];

static uint64_t page_size;
static unsigned page_shift;
static int pagemap_fd = -1, kpageflags_fd = -1, mem_fd = -1;

/* Long-term pins: one io_uring instance per driver process whose sparse fixed-buffer table has
 * MAX_PINS slots; a pinned range occupies one slot. ring_fd is -1 when io_uring is unusable and
 * ring_err then holds the -errno that `pin` reports. */
static int ring_fd = -1;
static int ring_err = -ENOSYS;
static struct {
	uint64_t addr, len;
	int used;
} pins[MAX_PINS];
static struct io_uring_params ring_params;
static struct io_uring_rsrc_register ring_rr;
static struct io_uring_rsrc_update2 ring_up;
static struct iovec ring_iov;

/* The driver's own mappings as of `ready` (from /proc/self/maps). */
static struct {
	unsigned long lo, hi;
} own_ranges[MAX_OWN_RANGES];
static int own_nr;

/* During startup self-tests the responses are produced but thrown away. */
static int discard_output;

/* ---- output: one line per command, built in outbuf and handed to stdio in chunks ---- */

static void out_chunk(void)
{
	if (!discard_output && outlen > 0) {
		outbuf[outlen] = '\0';
		fputs(outbuf, stdout);
	}
	outlen = 0;
}

static void out_str(const char *s)
{
	size_t n = strlen(s);
	if (n >= OUT_CAP)
		n = OUT_CAP - 1; /* only err messages could be this long; truncate them */
	if (outlen + n >= OUT_CAP)
		out_chunk();
	memcpy(outbuf + outlen, s, n);
	outlen += n;
}

static void out_u64(uint64_t v, int hex)
{
	char tmp[24];
	char *p = tmp + sizeof tmp;
	*--p = '\0';
	do {
		unsigned d = (unsigned)(v % (hex ? 16 : 10));
		*--p = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v /= hex ? 16 : 10;
	} while (v != 0);
	out_str(p);
}

static void out_i64(int64_t v)
{
	if (v < 0) {
		out_str("-");
		out_u64((uint64_t)0 - (uint64_t)v, 0);
	} else {
		out_u64((uint64_t)v, 0);
	}
}

static void out_end(void)
{
	out_str("\n");
	out_chunk();
	if (!discard_output && fflush(stdout) != 0)
		_exit(1); /* the reader is gone */
}

static void respond_err(const char *msg)
{
	out_str("err ");
	out_str(msg);
	out_end();
}

static void respond_rc(int64_t rc)
{
	out_str("ok ");
	out_i64(rc);
	out_end();
}

/* ---- parsing ---- */

/* Reads one line into `line` without its newline (and a trailing CR).
 * Returns 0 for a line, 1 for a line that was too long or held a NUL byte, -1 at end of input. */
static int read_line(void)
{
	size_t n = 0;
	int c, bad = 0;
	while ((c = getc_unlocked(stdin)) != EOF && c != '\n') {
		if (c == '\0')
			bad = 1;
		if (n < LINE_CAP - 1)
			line[n++] = (char)c;
		else
			bad = 1;
	}
	if (c == EOF && n == 0 && !bad)
		return -1;
	if (n > 0 && line[n - 1] == '\r')
		n--;
	line[n] = '\0';
	return bad;
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Splits off the next blank-separated token in place; NULL when none is left. */
static char *next_token(char **cursor)
{
	char *p = *cursor;
	while (is_blank(*p))
		p++;
	if (*p == '\0') {
		*cursor = p;
		return NULL;
	}
	char *tok = p;
	while (*p != '\0' && !is_blank(*p))
		p++;
	if (*p != '\0')
		*p++ = '\0';
	*cursor = p;
	return tok;
}

/* Unsigned 64-bit number, decimal or 0x-prefixed hex; no sign, no blanks, overflow rejected. */
static int parse_u64(const char *s, uint64_t *out)
{
	unsigned base = 10;
	uint64_t v = 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		unsigned d;
		if (*s >= '0' && *s <= '9')
			d = (unsigned)(*s - '0');
		else if (*s >= 'a' && *s <= 'f')
			d = (unsigned)(*s - 'a' + 10);
		else if (*s >= 'A' && *s <= 'F')
			d = (unsigned)(*s - 'A' + 10);
		else
			return -1;
		if (d >= base || v > (UINT64_MAX - d) / base)
			return -1;
		v = v * base + d;
	}
	*out = v;
	return 0;
}

/* Parses exactly n numeric arguments; on failure responds `err` and returns -1. */
static int parse_args(char **cursor, uint64_t *v, int n, const char *usage)
{
	for (int i = 0; i < n; i++) {
		char *tok = next_token(cursor);
		if (tok == NULL || parse_u64(tok, &v[i]) != 0) {
			out_str("err ");
			out_str(tok == NULL ? "missing argument, usage: " : "bad number, usage: ");
			out_str(usage);
			out_end();
			return -1;
		}
	}
	if (next_token(cursor) != NULL) {
		out_str("err too many arguments, usage: ");
		out_str(usage);
		out_end();
		return -1;
	}
	return 0;
}

/* Base pages overlapping [addr, addr+len): first page address and count. -1 if the range wraps. */
static int page_range(uint64_t addr, uint64_t len, uint64_t *first, uint64_t *npages)
{
	*first = addr & ~(page_size - 1);
	if (len == 0) {
		*npages = 0;
		return 0;
	}
	if (len - 1 > UINT64_MAX - addr)
		return -1;
	*npages = ((addr + len - 1) >> page_shift) - (addr >> page_shift) + 1;
	return 0;
}

/* Reads pagemap entries for npages pages starting at virtual page vpn. Entries past what the
 * kernel returned (beyond the user address space) read as 0 = not present. Returns -errno on a
 * read error, else 0. */
static int read_pagemap(uint64_t vpn, size_t npages)
{
	ssize_t r = pread(pagemap_fd, pm_buf, npages * sizeof pm_buf[0], (off_t)(vpn * sizeof pm_buf[0]));
	if (r < 0)
		return -errno;
	size_t got = (size_t)r / sizeof pm_buf[0];
	for (size_t i = got; i < npages; i++)
		pm_buf[i] = 0;
	return 0;
}

/* ---- commands ---- */

/* Each process opens a file once, at its first mapping of it, and maps it through that descriptor
 * from then on, as a program that keeps its fd: two mappings of one open file (one struct file)
 * can merge into one VMA, mappings of two opens never do. A forked child inherits the table with
 * the descriptors, so its own mappings share its parent's open file too. */
static struct {
	char path[FILE_PATH_CAP];
	int fd;
} file_fds[MAX_FILE_FDS];
static int nfile_fds;

/* The process's descriptor for path, opened O_RDWR (so a later mprotect to rw works on a shared
 * mapping, as for a program that opened it read-write), or -errno. *keep is 0 when the table had no
 * room for it: the caller closes it after use. */
static int file_fd(const char *path, int *keep)
{
	*keep = 1;
	for (int i = 0; i < nfile_fds; i++)
		if (strcmp(file_fds[i].path, path) == 0)
			return file_fds[i].fd;
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (nfile_fds == MAX_FILE_FDS || strlen(path) >= FILE_PATH_CAP) {
		*keep = 0;
		return fd;
	}
	strcpy(file_fds[nfile_fds].path, path);
	file_fds[nfile_fds++].fd = fd;
	return fd;
}

/* path NULL: anonymous (shared = MAP_SHARED|MAP_ANONYMOUS, i.e. shmem). Otherwise the file, through
 * the process's descriptor for it (file_fd()). */
static void cmd_mmap(uint64_t addr, uint64_t len, uint64_t prot, uint64_t shared, const char *path, uint64_t off)
{
	int fd = -1, keep = 1;
	int flags = (shared ? MAP_SHARED : MAP_PRIVATE) | (addr != 0 ? MAP_FIXED_NOREPLACE : 0);
	if (path == NULL) {
		flags |= MAP_ANONYMOUS;
	} else {
		fd = file_fd(path, &keep);
		if (fd < 0) {
			respond_rc(fd);
			return;
		}
	}
	void *p = mmap((void *)(uintptr_t)addr, (size_t)len, (int)prot, flags, fd, (off_t)off);
	int64_t rc = p == MAP_FAILED ? -errno : (int64_t)(uintptr_t)p;
	if (!keep)
		close(fd);
	respond_rc(rc);
}

static void cmd_munmap(uint64_t addr, uint64_t len)
{
	respond_rc(munmap((void *)(uintptr_t)addr, (size_t)len) == 0 ? 0 : -errno);
}

/* mremap with MREMAP_MAYMOVE, plus MREMAP_FIXED when NEWADDR is not 0. */
static void cmd_mremap(uint64_t old, uint64_t oldlen, uint64_t newlen, uint64_t newaddr)
{
	void *p = newaddr != 0
		? mremap((void *)(uintptr_t)old, (size_t)oldlen, (size_t)newlen, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)(uintptr_t)newaddr)
		: mremap((void *)(uintptr_t)old, (size_t)oldlen, (size_t)newlen, MREMAP_MAYMOVE);
	respond_rc(p == MAP_FAILED ? -errno : (int64_t)(uintptr_t)p);
}

static void cmd_mprotect(uint64_t addr, uint64_t len, uint64_t prot)
{
	respond_rc(mprotect((void *)(uintptr_t)addr, (size_t)len, (int)prot) == 0 ? 0 : -errno);
}

static void cmd_madvise(uint64_t addr, uint64_t len, uint64_t advice)
{
	respond_rc(madvise((void *)(uintptr_t)addr, (size_t)len, (int)advice) == 0 ? 0 : -errno);
}

static void cmd_prctl_thp_disable(uint64_t v)
{
	respond_rc(prctl(PR_SET_THP_DISABLE, (unsigned long)v, 0UL, 0UL, 0UL) == 0 ? 0 : -errno);
}

/* touch state is global: the locals of a function that calls sigsetjmp are not reliable after
 * siglongjmp, and the page counter must survive the jump. */
static sigjmp_buf touch_env;
static volatile sig_atomic_t in_touch;
static volatile uint64_t touch_done;
static uint64_t t_addr, t_first, t_npages, t_write, t_token;

static void fault_handler(int sig)
{
	if (in_touch) {
		in_touch = 0;
		siglongjmp(touch_env, sig == SIGUSR1 ? 2 : 1);
	}
	/* SIGUSR1 outside `touch` (a syscall faulted on a range nobody resolves): it returns -EINTR. */
	if (sig == SIGUSR1)
		return;
	/* A fault outside `touch` is a driver bug: die with the default action (and a core). */
	signal(sig, SIG_DFL);
}

static __attribute__((noinline)) void touch_loop(void)
{
	for (uint64_t i = touch_done; i < t_npages; i++) {
		uintptr_t page = (uintptr_t)(t_first + i * page_size);
		if (t_write == 2)
			/* xchg: a locked read-modify-write, which x86 faults as one write */
			(void)__atomic_exchange_n((uint64_t *)page, t_token + i, __ATOMIC_SEQ_CST);
		else if (t_write)
			*(volatile uint64_t *)page = t_token + i;
		else
			(void)*(volatile const uint8_t *)(i == 0 ? (uintptr_t)t_addr : page);
		touch_done = i + 1;
	}
}

static void cmd_touch(uint64_t addr, uint64_t len, uint64_t w, uint64_t token)
{
	int64_t rc;
	if (w > 2) {
		respond_err("W must be 0, 1 or 2, usage: touch ADDR LEN W TOKEN");
		return;
	}
	if (page_range(addr, len, &t_first, &t_npages) != 0) {
		respond_err("range wraps around the address space");
		return;
	}
	t_addr = addr;
	t_write = w;
	t_token = token;
	touch_done = 0;
	/* savemask=1: siglongjmp restores the mask, so SIGSEGV is unblocked again after a jump. */
	int jumped = sigsetjmp(touch_env, 1);
	if (jumped == 0) {
		in_touch = 1;
		touch_loop();
		in_touch = 0;
		rc = 0;
	} else {
		rc = jumped == 2 ? -EAGAIN : -EFAULT;
	}
	out_str("ok ");
	out_i64(rc);
	out_str(" ");
	out_u64(touch_done, 0);
	out_end();
}

/* Shared by peek and pages: validates the range and reports `err` itself on failure. */
static int list_range(uint64_t addr, uint64_t len, uint64_t *first, uint64_t *npages)
{
	if (page_range(addr, len, first, npages) != 0) {
		respond_err("range wraps around the address space");
		return -1;
	}
	if (*npages > MAX_LIST_PAGES) {
		respond_err("range too large (at most 16777216 pages)");
		return -1;
	}
	return 0;
}

static void cmd_peek(uint64_t addr, uint64_t len)
{
	uint64_t first, npages;
	if (list_range(addr, len, &first, &npages) != 0)
		return;
	out_str("ok");
	for (uint64_t done = 0; done < npages;) {
		size_t n = npages - done < PM_CHUNK ? (size_t)(npages - done) : PM_CHUNK;
		int err = read_pagemap((first >> page_shift) + done, n);
		for (size_t i = 0; i < n; i++) {
			uint64_t page = first + (done + i) * page_size;
			uint64_t v;
			if (err != 0) {
				out_str(" ?");
			} else if (pm_buf[i] & PM_SWAPPED) {
				out_str(" s");   /* reading it would swap it in */
			} else if (!(pm_buf[i] & PM_PRESENT)) {
				out_str(" -");
			} else if (pread(mem_fd, &v, sizeof v, (off_t)page) == (ssize_t)sizeof v) {
				/* /proc/self/mem instead of a load: it never faults (not even on a PROT_NONE
				 * page, which pagemap still reports present) and takes no signal. */
				out_str(" ");
				out_u64(v, 0);
			} else {
				out_str(" ?");
			}
		}
		done += n;
	}
	out_end();
}

/* kpageflags is read through a small aligned window: a folio's pages are physically contiguous,
 * so walks to the head and over the tails mostly hit the window. Reset per command. */
static uint64_t kpf_win_start, kpf_win_len;

static int kpf_get(uint64_t pfn, uint64_t *flags)
{
	if (pfn < kpf_win_start || pfn - kpf_win_start >= kpf_win_len) {
		uint64_t start = pfn & ~(uint64_t)(KPF_WIN - 1);
		ssize_t r = pread(kpageflags_fd, kpf_win, sizeof kpf_win, (off_t)(start * sizeof kpf_win[0]));
		kpf_win_start = start;
		kpf_win_len = r > 0 ? (uint64_t)r / sizeof kpf_win[0] : 0;
		if (pfn - start >= kpf_win_len)
			return -1; /* past the last PFN, or unreadable */
	}
	*flags = kpf_win[pfn - kpf_win_start];
	return 0;
}

/* Last folio found, so that its other pages need no walk. Reset per command. */
static uint64_t fc_head, fc_nr;

static int ilog2_u64(uint64_t n)
{
	int o = 0;
	while (n > 1) {
		n >>= 1;
		o++;
	}
	return o;
}

/* Folio order of the page at pfn (flags = its kpageflags), -1 if no head within MAX_FOLIO_PAGES. */
static int folio_order(uint64_t pfn, uint64_t flags)
{
	uint64_t f, head = pfn, nr = 1;
	if (fc_nr != 0 && pfn >= fc_head && pfn - fc_head < fc_nr)
		return ilog2_u64(fc_nr);
	if (!(flags & (KPF_COMPOUND_HEAD | KPF_COMPOUND_TAIL)))
		return 0;
	if (!(flags & KPF_COMPOUND_HEAD)) {
		int found = 0;
		for (uint64_t i = 1; i <= MAX_FOLIO_PAGES && i <= pfn; i++) {
			if (kpf_get(pfn - i, &f) != 0)
				break;
			if (f & KPF_COMPOUND_HEAD) {
				head = pfn - i;
				found = 1;
				break;
			}
			if (!(f & KPF_COMPOUND_TAIL))
				break;
		}
		if (!found)
			return -1;
	}
	while (nr < MAX_FOLIO_PAGES && kpf_get(head + nr, &f) == 0 && (f & KPF_COMPOUND_TAIL))
		nr++;
	fc_head = head;
	fc_nr = nr;
	return ilog2_u64(nr);
}

static void cmd_pages(uint64_t addr, uint64_t len)
{
	uint64_t first, npages;
	if (list_range(addr, len, &first, &npages) != 0)
		return;
	kpf_win_start = kpf_win_len = 0;
	fc_head = fc_nr = 0;
	out_str("ok");
	for (uint64_t done = 0; done < npages;) {
		size_t n = npages - done < PM_CHUNK ? (size_t)(npages - done) : PM_CHUNK;
		int err = read_pagemap((first >> page_shift) + done, n);
		for (size_t i = 0; i < n; i++) {
			uint64_t e = pm_buf[i];
			if (err != 0) {
				out_str(" ?");
			} else if (e & PM_PRESENT) {
				uint64_t pfn = e & PM_PFN_MASK, flags = 0, next = 0;
				(void)kpf_get(pfn, &flags); /* a PFN kpageflags cannot read reports flags 0 */
				int order = folio_order(pfn, flags);
				(void)kpf_get(pfn + 1, &next);
				out_str(" ");
				out_u64(pfn, 1);
				out_str(":");
				out_u64(flags, 1);
				out_str(":");
				out_i64(order);
				out_str((next & KPF_COMPOUND_TAIL) ? ":1" : ":0");
			} else if (e & PM_SWAPPED) {
				out_str(" s");
			} else {
				out_str(" -");
			}
		}
		done += n;
	}
	out_end();
}

static void cmd_pmdmapped(uint64_t addr, uint64_t len)
{
	uint64_t first, npages, total = 0;
	if (page_range(addr, len, &first, &npages) != 0) {
		respond_err("range wraps around the address space");
		return;
	}
	if (npages == 0) {
		respond_rc(0);
		return;
	}
	uint64_t last = first + ((npages - 1) << page_shift);
	if (last > UINT64_MAX - page_size) {
		respond_rc(-EFAULT); /* the last page ends at 2^64: no user address, as the kernel would say */
		return;
	}
	struct pm_scan_arg a;
	memset(&a, 0, sizeof a);
	a.size = sizeof a;
	a.start = first;
	a.end = last + page_size;
	a.vec = (uint64_t)(uintptr_t)scan_regions;
	a.vec_len = SCAN_REGIONS;
	/* PAGE_IS_HUGE alone would also match a PMD migration entry; only present PMDs are mapped. */
	a.category_mask = PAGE_IS_HUGE | PAGE_IS_PRESENT;
	a.return_mask = PAGE_IS_HUGE | PAGE_IS_PRESENT;
	for (;;) {
		int r = ioctl(pagemap_fd, PAGEMAP_SCAN, &a);
		if (r < 0) {
			respond_rc(-errno);
			return;
		}
		for (int i = 0; i < r; i++)
			total += (scan_regions[i].end - scan_regions[i].start) >> page_shift;
		/* The vector filled up before the end: continue where the walk stopped. */
		if (a.walk_end >= a.end || a.walk_end <= a.start)
			break;
		a.start = a.walk_end;
	}
	respond_rc((int64_t)total);
}

/* ---- long-term pins (io_uring fixed buffers) ---- */

/* Creates this process's ring with an empty (sparse) table of MAX_PINS buffer slots. The rings
 * themselves are never mmap()ed: only registration is used, never submission. Returns 0 or -errno
 * (-EPERM when /proc/sys/kernel/io_uring_disabled forbids io_uring). */
static int ring_open(void)
{
	memset(&ring_params, 0, sizeof ring_params);
	long fd = syscall(__NR_io_uring_setup, 1U, &ring_params);
	if (fd < 0)
		return -errno;
	memset(&ring_rr, 0, sizeof ring_rr);
	ring_rr.nr = MAX_PINS;
	ring_rr.flags = IORING_RSRC_REGISTER_SPARSE;
	if (syscall(__NR_io_uring_register, (int)fd, IORING_REGISTER_BUFFERS2, &ring_rr, sizeof ring_rr) < 0) {
		int e = errno;
		close((int)fd);
		return -e;
	}
	ring_fd = (int)fd;
	return 0;
}

/* Replaces the buffer in one slot. addr 0 / len 0 empties the slot, which unpins its pages at
 * once (nothing is in flight on the ring). A non-empty buffer is pinned by
 * pin_user_pages_fast(FOLL_WRITE | FOLL_LONGTERM) on the overlapping base pages. */
static int ring_set_slot(unsigned slot, uint64_t addr, uint64_t len)
{
	ring_iov.iov_base = (void *)(uintptr_t)addr;
	ring_iov.iov_len = (size_t)len;
	memset(&ring_up, 0, sizeof ring_up);
	ring_up.offset = slot;
	ring_up.data = (uint64_t)(uintptr_t)&ring_iov;
	ring_up.nr = 1;
	long r = syscall(__NR_io_uring_register, ring_fd, IORING_REGISTER_BUFFERS_UPDATE, &ring_up, sizeof ring_up);
	return r < 0 ? -errno : 0;
}

static void cmd_pin(uint64_t addr, uint64_t len)
{
	if (ring_fd < 0) {
		respond_rc(ring_err);
		return;
	}
	if (len == 0) {
		respond_rc(-EFAULT); /* io_uring refuses an empty buffer with -EFAULT */
		return;
	}
	unsigned slot = 0;
	while (slot < MAX_PINS && pins[slot].used)
		slot++;
	if (slot == MAX_PINS) {
		respond_rc(-ENOSPC);
		return;
	}
	int rc = ring_set_slot(slot, addr, len);
	if (rc == 0) {
		pins[slot].addr = addr;
		pins[slot].len = len;
		pins[slot].used = 1;
	}
	respond_rc(rc);
}

static void cmd_unpin(uint64_t addr, uint64_t len)
{
	/* The most recent pin of exactly this range (identical pins are interchangeable). */
	int slot = MAX_PINS - 1;
	while (slot >= 0 && !(pins[slot].used && pins[slot].addr == addr && pins[slot].len == len))
		slot--;
	if (slot < 0) {
		/* Nothing to unregister: io_uring's errno for unregistering buffers that are not registered. */
		respond_rc(-ENXIO);
		return;
	}
	int rc = ring_set_slot((unsigned)slot, 0, 0);
	if (rc == 0)
		pins[slot].used = 0;
	respond_rc(rc);
}

/* ---- userfaultfd ---- */

/* Each driver process has one userfaultfd (no features) and one handler thread reading it, both
 * made before `ready` (and anew by a forked child). The thread resolves each fault by the handler
 * the range was registered with: a missing page by UFFDIO_COPY of a page whose first word is a new
 * value (handler 0) or by UFFDIO_ZEROPAGE (1); a minor fault by UFFDIO_CONTINUE and a write-protect
 * fault by clearing the page's protection (either handler); with handler 2 (none) it resolves
 * nothing and sends SIGUSR1 to the main thread, which stops the access (`touch` answers -EAGAIN).
 * Every page filled with new content (by the thread or by `uffd_copy`/`uffd_zeropage`) is logged
 * with its first word, for `uffd_log`. */
static int uffd_fd = -1;
static int uffd_err = -ENOSYS;
static pid_t main_tid;
static pthread_t uffd_thread;
static unsigned char uffd_stack[UFFD_STACK] __attribute__((aligned(4096)));
static unsigned char uffd_src[UFFD_SRC_PAGES * 65536] __attribute__((aligned(65536)));
static pthread_mutex_t uffd_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	uint64_t start, end, handler;
} uffd_ranges[UFFD_RANGES];
static int uffd_nranges;
static struct {
	uint64_t addr, value;
} uffd_log[UFFD_LOG_CAP];
static int uffd_nlog, uffd_log_overflow;
static uint64_t uffd_faults;
/* Values the copies write: above every touch token, unique within the process. */
static uint64_t uffd_next_value = UINT64_C(1) << 62;

static void uffd_log_fill(uint64_t addr, uint64_t value)
{
	if (uffd_nlog == UFFD_LOG_CAP) {
		uffd_log_overflow = 1;
		return;
	}
	uffd_log[uffd_nlog].addr = addr;
	uffd_log[uffd_nlog].value = value;
	uffd_nlog++;
}

/* UFFDIO_COPY of n pages at addr from uffd_src, each page's first word a new value; the lock is
 * held. Returns the `copy` field: bytes copied, or -errno when none was. */
static int64_t uffd_copy_locked(uint64_t addr, uint64_t n, uint64_t src_off)
{
	unsigned char *src = uffd_src + src_off;
	for (uint64_t i = 0; i < n; i++) {
		memset(src + i * page_size, 0, page_size);
		*(uint64_t *)(src + i * page_size) = uffd_next_value + i;
	}
	struct uffdio_copy c = { addr, (uint64_t)(uintptr_t)src, n * page_size, 0, 0 };
	if (ioctl(uffd_fd, UFFDIO_COPY, &c) != 0 && c.copy == 0)
		c.copy = -errno;
	for (int64_t i = 0; c.copy > 0 && i < c.copy / (int64_t)page_size; i++)
		uffd_log_fill(addr + (uint64_t)i * page_size, uffd_next_value + (uint64_t)i);
	if (c.copy > 0)
		uffd_next_value += (uint64_t)c.copy / page_size;
	return c.copy;
}

static int64_t uffd_zeropage_locked(uint64_t addr, uint64_t len)
{
	struct uffdio_zeropage z = { { addr, len }, 0, 0 };
	if (ioctl(uffd_fd, UFFDIO_ZEROPAGE, &z) != 0 && z.zeropage == 0)
		z.zeropage = -errno;
	for (int64_t i = 0; z.zeropage > 0 && i < z.zeropage / (int64_t)page_size; i++)
		uffd_log_fill(addr + (uint64_t)i * page_size, 0);
	return z.zeropage;
}

/* The handler of the latest registration holding addr; outside every one (a registered VMA that
 * mremap grew in place), that of the latest registration. */
static uint64_t uffd_handler_at(uint64_t addr)
{
	for (int i = uffd_nranges - 1; i >= 0; i--)
		if (addr >= uffd_ranges[i].start && addr < uffd_ranges[i].end)
			return uffd_ranges[i].handler;
	return uffd_nranges > 0 ? uffd_ranges[uffd_nranges - 1].handler : 0;
}

static void *uffd_reader(void *arg)
{
	(void)arg;
	struct uffd_msg msg;
	for (;;) {
		ssize_t n = read(uffd_fd, &msg, sizeof msg);
		if (n != (ssize_t)sizeof msg || msg.event != UFFD_EVENT_PAGEFAULT)
			continue;
		uint64_t addr = msg.arg.pagefault.address & ~(page_size - 1);
		uint64_t flags = msg.arg.pagefault.flags;
		pthread_mutex_lock(&uffd_lock);
		uffd_faults++;
		uint64_t handler = uffd_handler_at(addr);
		if (handler == 2) {
			pthread_mutex_unlock(&uffd_lock);
			(void)syscall(SYS_tgkill, getpid(), main_tid, SIGUSR1);
			continue;
		}
		int64_t rc;
		if (flags & UFFD_PAGEFAULT_FLAG_WP) {
			struct uffdio_writeprotect w = { { addr, page_size }, 0 };
			rc = ioctl(uffd_fd, UFFDIO_WRITEPROTECT, &w) != 0 ? -errno : 0;
		} else if (flags & UFFD_PAGEFAULT_FLAG_MINOR) {
			struct uffdio_continue c = { { addr, page_size }, 0, 0 };
			rc = ioctl(uffd_fd, UFFDIO_CONTINUE, &c) != 0 ? -errno : 0;
		} else if (handler == 1) {
			rc = uffd_zeropage_locked(addr, page_size);
		} else {
			/* the thread's own source page, after the command's */
			rc = uffd_copy_locked(addr, 1, (UFFD_SRC_PAGES - 1) * 65536);
		}
		pthread_mutex_unlock(&uffd_lock);
		/* An ioctl that failed (no memory) resolved nothing: stop the access as for handler 2. */
		if (rc < 0 && rc != -EEXIST)
			(void)syscall(SYS_tgkill, getpid(), main_tid, SIGUSR1);
	}
	return NULL;
}

/* The process's userfaultfd and its reader thread (on the static stack: nothing is allocated).
 * Returns 0 or -errno; failure is not fatal (`uffd_*` then answer that errno). */
static int uffd_open(void)
{
	main_tid = (pid_t)syscall(SYS_gettid);
	long fd = syscall(SYS_userfaultfd, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct uffdio_api api = { UFFD_API, 0, 0 };
	if (ioctl((int)fd, UFFDIO_API, &api) != 0) {
		int e = errno;
		close((int)fd);
		return -e;
	}
	uffd_fd = (int)fd;
	memset(uffd_stack, 0, sizeof uffd_stack);
	memset(uffd_src, 0, sizeof uffd_src);
	pthread_attr_t attr;
	sigset_t all, old;
	int e = pthread_attr_init(&attr);
	if (e == 0)
		e = pthread_attr_setstack(&attr, uffd_stack, sizeof uffd_stack);
	/* The thread blocks every signal: SIGSEGV, SIGBUS and SIGUSR1 are the main thread's. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	if (e == 0)
		e = pthread_create(&uffd_thread, &attr, uffd_reader, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (e != 0) {
		close(uffd_fd);
		uffd_fd = -1;
		return -e;
	}
	return 0;
}

static void cmd_uffd_register(uint64_t addr, uint64_t len, uint64_t mode, uint64_t handler)
{
	if (mode == 0 || mode > 7 || handler > 2) {
		respond_err("MODE must be 1..7 (1 missing, 2 wp, 4 minor), HANDLER 0..2 (copy, zeropage, none)");
		return;
	}
	if (uffd_fd < 0) {
		respond_rc(uffd_err);
		return;
	}
	struct uffdio_register r;
	memset(&r, 0, sizeof r);
	r.range.start = addr;
	r.range.len = len;
	r.mode = ((mode & 1) ? UFFDIO_REGISTER_MODE_MISSING : 0) | ((mode & 2) ? UFFDIO_REGISTER_MODE_WP : 0)
		| ((mode & 4) ? UFFDIO_REGISTER_MODE_MINOR : 0);
	int rc = ioctl(uffd_fd, UFFDIO_REGISTER, &r) != 0 ? -errno : 0;
	if (rc == 0) {
		pthread_mutex_lock(&uffd_lock);
		if (uffd_nranges == UFFD_RANGES) {
			/* keep the latest: the oldest are the most likely to be covered */
			memmove(&uffd_ranges[0], &uffd_ranges[1], sizeof uffd_ranges[0] * (UFFD_RANGES - 1));
			uffd_nranges--;
		}
		uffd_ranges[uffd_nranges].start = addr;
		uffd_ranges[uffd_nranges].end = addr + len;
		uffd_ranges[uffd_nranges].handler = handler;
		uffd_nranges++;
		pthread_mutex_unlock(&uffd_lock);
	}
	respond_rc(rc);
}

static void cmd_uffd_range(const char *op, uint64_t addr, uint64_t len, uint64_t arg)
{
	int64_t rc;
	if (uffd_fd < 0) {
		respond_rc(uffd_err);
		return;
	}
	pthread_mutex_lock(&uffd_lock);
	if (strcmp(op, "uffd_unregister") == 0) {
		struct uffdio_range r = { addr, len };
		rc = ioctl(uffd_fd, UFFDIO_UNREGISTER, &r) != 0 ? -errno : 0;
	} else if (strcmp(op, "uffd_copy") == 0) {
		/* pieces of up to UFFD_SRC_PAGES - 1 pages; the first that fails ends it, as one call would */
		if ((addr | len) & (page_size - 1) || len == 0) {
			struct uffdio_copy c = { addr, (uint64_t)(uintptr_t)uffd_src, len, 0, 0 };
			rc = ioctl(uffd_fd, UFFDIO_COPY, &c) != 0 ? -errno : (int64_t)c.copy;
		} else {
			uint64_t piece = (UFFD_SRC_PAGES - 1) * 65536 / page_size, done = 0;
			rc = 0;
			while (done < len) {
				uint64_t n = (len - done) / page_size < piece ? (len - done) / page_size : piece;
				int64_t r = uffd_copy_locked(addr + done, n, 0);
				if (r < 0) {
					if (done == 0)
						rc = r;
					break;
				}
				done += (uint64_t)r;
				rc = (int64_t)done;
				if ((uint64_t)r < n * page_size)
					break;
			}
		}
	} else if (strcmp(op, "uffd_zeropage") == 0) {
		rc = uffd_zeropage_locked(addr, len);
	} else if (strcmp(op, "uffd_continue") == 0) {
		struct uffdio_continue c = { { addr, len }, 0, 0 };
		if (ioctl(uffd_fd, UFFDIO_CONTINUE, &c) != 0 && c.mapped == 0)
			c.mapped = -errno;
		rc = c.mapped;
	} else {
		struct uffdio_writeprotect w = { { addr, len }, arg ? UFFDIO_WRITEPROTECT_MODE_WP : 0 };
		rc = ioctl(uffd_fd, UFFDIO_WRITEPROTECT, &w) != 0 ? -errno : 0;
	}
	pthread_mutex_unlock(&uffd_lock);
	respond_rc(rc);
}

static void cmd_uffd_faults(void)
{
	pthread_mutex_lock(&uffd_lock);
	uint64_t n = uffd_faults;
	pthread_mutex_unlock(&uffd_lock);
	out_str("ok ");
	out_u64(n, 0);
	out_end();
}

static void cmd_uffd_log(void)
{
	pthread_mutex_lock(&uffd_lock);
	if (uffd_log_overflow) {
		uffd_nlog = 0;
		uffd_log_overflow = 0;
		pthread_mutex_unlock(&uffd_lock);
		respond_err("uffd log overflow: more than 65536 pages filled since the last uffd_log");
		return;
	}
	out_str("ok");
	for (int i = 0; i < uffd_nlog; i++) {
		out_str(" ");
		out_u64(uffd_log[i].addr, 0);
		out_str(":");
		out_u64(uffd_log[i].value, 0);
	}
	uffd_nlog = 0;
	pthread_mutex_unlock(&uffd_lock);
	out_end();
}

/* ---- fork ---- */

/* `err` unless path names a FIFO; returns 0 if it does. */
static int check_fifo(const char *path, const char *name)
{
	struct stat st;
	if (stat(path, &st) != 0) {
		int e = errno;
		out_str("err cannot stat ");
		out_str(name);
		out_str(": errno ");
		out_i64(e);
		out_end();
		return -1;
	}
	if (!S_ISFIFO(st.st_mode)) {
		out_str("err ");
		out_str(name);
		out_str(" is not a FIFO");
		out_end();
		return -1;
	}
	return 0;
}

/* Puts fd on target (0 or 1) and closes fd; 0 or -1. */
static int move_fd(int fd, int target)
{
	if (fd == target)
		return 0;
	int r = dup2(fd, target);
	close(fd);
	return r < 0 ? -1 : 0;
}

/* Replaces fd *slot by a fresh open of path (same number). The /proc/self files opened before the
 * fork still refer to the parent's mm. */
static int reopen_self(int *slot, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = dup3(fd, *slot, O_CLOEXEC);
	close(fd);
	return r < 0 ? -1 : 0;
}

static void startup_fail(const char *what, int err);

/* Locks the driver's own mappings again. mlock() populates writable private pages for writing, so
 * this also breaks COW on them now (order-0 copies in NOHUGEPAGE VMAs) instead of at the driver's
 * next write during the scenario, where it would count in the process's fault counts. Best effort. */
static void relock_own_ranges(void)
{
	for (int i = 0; i < own_nr; i++)
		(void)mlock((void *)own_ranges[i].lo, own_ranges[i].hi - own_ranges[i].lo);
}

/* The forked child: switches to the FIFOs and becomes a driver of its own. Touches no scenario
 * memory. Returns to the command loop, which then reads the new stdin. */
static void child_start(const char *in_path, const char *out_path, pid_t parent)
{
	/* Drop the parent's pipes at once, so that the .NET side sees EOF on the parent's stdout
	 * when the parent ends even if this child is still waiting for its FIFOs. */
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd < 0 || dup2(fd, 0) < 0 || dup2(fd, 1) < 0)
		_exit(1);
	if (fd > 1)
		close(fd);

	/* Do not hang in open() forever if nobody ever comes: die with the parent while waiting. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0UL, 0UL, 0UL) != 0 || getppid() != parent)
		_exit(1);
	/* FIFO order: OUT_FIFO first, then IN_FIFO (the .NET side opens them in the same order). */
	fd = open(out_path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || move_fd(fd, 1) != 0)
		_exit(1); /* no way to tell anyone; the parent checked that both are FIFOs */
	__fpurge(stdout);
	clearerr(stdout);
	outlen = 0;
	fd = open(in_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || move_fd(fd, 0) != 0)
		startup_fail("open IN_FIFO", errno);
	(void)prctl(PR_SET_PDEATHSIG, 0UL, 0UL, 0UL, 0UL);
	/* Whatever the parent had read ahead from its own stdin is not ours. */
	__fpurge(stdin);
	clearerr(stdin);

	if (reopen_self(&pagemap_fd, "/proc/self/pagemap") != 0)
		startup_fail("open /proc/self/pagemap", errno);
	if (reopen_self(&mem_fd, "/proc/self/mem") != 0)
		startup_fail("open /proc/self/mem", errno);

	/* The inherited ring is the parent's (its pins and pinned_vm account are the parent's): the
	 * child gets a ring and an empty pin table of its own. */
	if (ring_fd >= 0)
		close(ring_fd);
	ring_fd = -1;
	memset(pins, 0, sizeof pins);
	ring_err = ring_open();

	/* The inherited userfaultfd is the parent's (its mm), and its reader thread did not come along:
	 * the child opens its own (no UFFD_FEATURE_EVENT_FORK: its VMAs are not registered anyway). */
	if (uffd_fd >= 0)
		close(uffd_fd);
	uffd_fd = -1;
	uffd_nranges = uffd_nlog = uffd_log_overflow = 0;
	uffd_faults = 0;
	pthread_mutex_init(&uffd_lock, NULL);
	uffd_err = uffd_open();

	/* mlockall() is not inherited; never MCL_CURRENT, which would fault in the scenario's pages. */
	relock_own_ranges();

	out_str("ready ");
	out_u64((uint64_t)getpid(), 0);
	out_str(" ");
	out_u64(page_size, 0);
	out_end();
}

static void cmd_fork(const char *in_path, const char *out_path)
{
	if (check_fifo(in_path, "IN_FIFO") != 0 || check_fifo(out_path, "OUT_FIFO") != 0)
		return;
	fflush(stdout); /* nothing is pending (every response is flushed), but the child must not inherit output */
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0)
		respond_rc(-errno);
	else if (pid > 0) {
		relock_own_ranges(); /* fork made the parent's own pages COW too */
		respond_rc(pid);
	}
	else
		child_start(in_path, out_path, parent);
}

/* Only kernel tunables: a typo in a scenario must not be able to overwrite an ordinary file. */
static int sysfs_path_ok(const char *path)
{
	if (strncmp(path, "/sys/", 5) != 0 && strncmp(path, "/proc/sys/", 10) != 0)
		return 0;
	if (strstr(path, "/../") != NULL)
		return 0;
	size_t n = strlen(path);
	return !(n >= 3 && strcmp(path + n - 3, "/..") == 0);
}

static void cmd_sysfs_write(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		respond_rc(-errno);
		return;
	}
	size_t n = strlen(value);
	ssize_t w = write(fd, value, n);
	int64_t rc = w < 0 ? -errno : ((size_t)w == n ? 0 : -EIO);
	close(fd);
	respond_rc(rc);
}

/* ---- files (shmem): memfd, tmpfs files, their I/O and their page cache ---- */

/* `err` unless fd fits an int; returns 1 if it does. */
static int fd_ok(uint64_t fd)
{
	if (fd <= INT32_MAX)
		return 1;
	respond_err("FD out of range");
	return 0;
}

/* `mmap ADDR LEN PROT [SHARED [PATH OFF]]`: the numeric arguments, then an optional path. */
static void cmd_mmap_line(char *cursor)
{
	static const char usage[] = "mmap ADDR LEN PROT [SHARED [PATH OFF]]";
	uint64_t v[5] = { 0, 0, 0, 0, 0 };
	char *tok[6];
	int n = 0;
	while (n < 6 && (tok[n] = next_token(&cursor)) != NULL)
		n++;
	if (n < 3 || n == 5 || next_token(&cursor) != NULL) {
		out_str("err usage: ");
		out_str(usage);
		out_end();
		return;
	}
	for (int i = 0; i < n; i++) {
		if (i == 4)
			continue; /* PATH */
		if (parse_u64(tok[i], &v[i == 5 ? 4 : i]) != 0) {
			out_str("err bad number, usage: ");
			out_str(usage);
			out_end();
			return;
		}
	}
	if (v[2] > 3)
		respond_err("PROT must be 0..3 (1 read, 2 write)");
	else if (n >= 4 && v[3] > 1)
		respond_err("SHARED must be 0 or 1");
	else
		cmd_mmap(v[0], v[1], v[2], v[3], n == 6 ? tok[4] : NULL, v[4]);
}

/* `ok FD RC`: FD is the new descriptor (or -errno, and RC the same); RC is ftruncate's result. */
static void respond_fd_rc(int fd, int64_t rc)
{
	out_str("ok ");
	out_i64(fd);
	out_str(" ");
	out_i64(rc);
	out_end();
}

static void cmd_memfd(const char *name, uint64_t size)
{
	int fd = memfd_create(name, MFD_CLOEXEC);
	if (fd < 0) {
		respond_fd_rc(-errno, -errno);
		return;
	}
	respond_fd_rc(fd, ftruncate(fd, (off_t)size) == 0 ? 0 : -errno);
}

static void cmd_fcreate(const char *path, uint64_t size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		respond_fd_rc(-errno, -errno);
		return;
	}
	respond_fd_rc(fd, ftruncate(fd, (off_t)size) == 0 ? 0 : -errno);
}

static void cmd_fopen(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	respond_rc(fd < 0 ? -errno : fd);
}

/* One piece of a pwrite, [pos, end) inside one FILE_PIECE: per page, the bytes of its token word
 * that the range covers, then zeros for the rest of the page. first_page is the file offset of the
 * first page the whole pwrite touches (token + 0). Returns the number of iovecs. */
static int pwrite_piece(uint64_t pos, uint64_t end, uint64_t first_page, uint64_t token)
{
	int n = 0;
	unsigned k = 0;
	while (pos < end) {
		uint64_t page = pos & ~(page_size - 1);
		uint64_t stop = page + page_size < end ? page + page_size : end;
		piece_tokens[k] = token + ((page - first_page) >> page_shift);
		if (pos < page + 8) {
			uint64_t wend = page + 8 < stop ? page + 8 : stop;
			piece_iov[n].iov_base = (unsigned char *)&piece_tokens[k] + (pos - page);
			piece_iov[n].iov_len = (size_t)(wend - pos);
			n++;
			pos = wend;
		}
		if (pos < stop) {
			piece_iov[n].iov_base = zero_buf;
			piece_iov[n].iov_len = (size_t)(stop - pos);
			n++;
			pos = stop;
		}
		k++;
	}
	return n;
}

/* pwrite of exactly [off, off+len): every page the range touches gets new content, the 8-byte word
 * TOKEN+i at its start (i = 0, 1, ... per page, as `touch` stores) where the range covers it, zeros
 * elsewhere. A page whose first bytes lie outside the range keeps them (the write covers only the
 * range; file size and allocation are those of one pwrite of LEN bytes at OFF). */
static void cmd_pwrite(uint64_t fd, uint64_t off, uint64_t len, uint64_t token)
{
	if (len == 0) {
		ssize_t r = pwrite((int)fd, zero_buf, 0, (off_t)off);
		respond_rc(r < 0 ? -errno : 0);
		return;
	}
	if (len - 1 > UINT64_MAX - off) {
		respond_err("range wraps around");
		return;
	}
	uint64_t end = off + len, pos = off, first_page = off & ~(page_size - 1);
	int64_t total = 0;
	while (pos < end) {
		uint64_t piece_end = (pos | (FILE_PIECE - 1)) + 1;
		if (piece_end > end || piece_end == 0)
			piece_end = end;
		int n = pwrite_piece(pos, piece_end, first_page, token);
		ssize_t r = pwritev((int)fd, piece_iov, n, (off_t)pos);
		if (r < 0) {
			if (total == 0)
				total = -errno;
			break;
		}
		total += r;
		if ((uint64_t)r < piece_end - pos)
			break; /* short write (ENOSPC on a full mount): what one pwrite would return */
		pos = piece_end;
	}
	respond_rc(total);
}

/* pread of [off, off+len) into a sink buffer (the iovecs alias it: only the kernel's side matters). */
static void cmd_pread(uint64_t fd, uint64_t off, uint64_t len)
{
	if (len == 0) {
		ssize_t r = pread((int)fd, read_buf, 0, (off_t)off);
		respond_rc(r < 0 ? -errno : 0);
		return;
	}
	if (len - 1 > UINT64_MAX - off) {
		respond_err("range wraps around");
		return;
	}
	uint64_t end = off + len, pos = off;
	int64_t total = 0;
	while (pos < end) {
		uint64_t piece_end = (pos | (FILE_PIECE - 1)) + 1;
		if (piece_end > end || piece_end == 0)
			piece_end = end;
		int n = 0;
		for (uint64_t p = pos; p < piece_end; n++) {
			uint64_t step = piece_end - p < ZERO_CAP ? piece_end - p : ZERO_CAP;
			piece_iov[n].iov_base = read_buf;
			piece_iov[n].iov_len = (size_t)step;
			p += step;
		}
		ssize_t r = preadv((int)fd, piece_iov, n, (off_t)pos);
		if (r < 0) {
			if (total == 0)
				total = -errno;
			break;
		}
		total += r;
		if ((uint64_t)r < piece_end - pos)
			break; /* end of file */
		pos = piece_end;
	}
	respond_rc(total);
}

static void cmd_fstat(uint64_t fd)
{
	struct stat st;
	if (fstat((int)fd, &st) != 0) {
		int64_t e = -errno;
		out_str("ok ");
		out_i64(e);
		out_str(" 0 0 0 0");
		out_end();
		return;
	}
	out_str("ok 0 ");
	out_u64((uint64_t)st.st_size, 0);
	out_str(" ");
	out_u64((uint64_t)st.st_blocks, 0);
	out_str(" ");
	out_u64((uint64_t)st.st_dev, 0);
	out_str(" ");
	out_u64((uint64_t)st.st_ino, 0);
	out_end();
}

/* An 8-byte load that survives SIGSEGV/SIGBUS (the `touch` handler); 0 or -1. */
static volatile uint64_t probe_value;
static int probe_load(uintptr_t addr)
{
	if (sigsetjmp(touch_env, 1) == 0) {
		in_touch = 1;
		probe_value = *(volatile const uint64_t *)addr;
		in_touch = 0;
		return 0;
	}
	return -1;
}

/*
 * One file page for `fpages`, looked at without changing what the scenario can observe:
 * cachestat() first (it reads the page cache's xarray only: real folios, uptodate or not, and
 * shmem swap entries); only an uptodate cached page (mincore() of a one-page scratch mapping) is
 * faulted in to read its PFN and first word. A hole is never faulted (a fault would allocate), nor
 * a fallocated page that was never written (a fault would zero it and mark it uptodate, which turns
 * it into data for SEEK_DATA). The scratch VMA is one page (no PMD mapping, no fault-around beyond
 * it) and MADV_RANDOM (its young PTE is not passed to the folio at unmap, so the folio's
 * referenced/active state stays as it was).
 */
static void fpage_entry(int fd, uint64_t off)
{
	struct mthp_cachestat_range r = { off, page_size };
	struct mthp_cachestat cs;
	memset(&cs, 0, sizeof cs);
	if (syscall(__NR_cachestat, fd, &r, &cs, 0) != 0) {
		out_str(" ?");
		return;
	}
	if (cs.nr_cache == 0) {
		out_str(cs.nr_evicted != 0 ? " s" : " -");
		return;
	}
	void *m = mmap(NULL, (size_t)page_size, PROT_READ, MAP_SHARED, fd, (off_t)off);
	if (m == MAP_FAILED) {
		out_str(" ?");
		return;
	}
	unsigned char vec = 0;
	uint64_t a = (uint64_t)(uintptr_t)m;
	if (madvise(m, (size_t)page_size, MADV_RANDOM) != 0 || mincore(m, (size_t)page_size, &vec) != 0) {
		out_str(" ?");
	} else if (!(vec & 1)) {
		out_str(" u");
	} else if (probe_load((uintptr_t)m) != 0 || read_pagemap(a >> page_shift, 1) != 0 || !(pm_buf[0] & PM_PRESENT)) {
		out_str(" ?");
	} else {
		uint64_t pfn = pm_buf[0] & PM_PFN_MASK, flags = 0, next = 0;
		(void)kpf_get(pfn, &flags);
		int order = folio_order(pfn, flags);
		(void)kpf_get(pfn + 1, &next);
		out_str(" ");
		out_u64(pfn, 1);
		out_str(":");
		out_u64(flags, 1);
		out_str(":");
		out_i64(order);
		out_str((next & KPF_COMPOUND_TAIL) ? ":1:" : ":0:");
		out_u64(probe_value, 0);
	}
	munmap(m, (size_t)page_size);
}

static void cmd_fpages(uint64_t fd, uint64_t off, uint64_t len)
{
	uint64_t first, npages;
	if (list_range(off, len, &first, &npages) != 0)
		return;
	kpf_win_start = kpf_win_len = 0;
	fc_head = fc_nr = 0;
	out_str("ok");
	for (uint64_t i = 0; i < npages; i++) {
		kpf_win_start = kpf_win_len = 0; /* flags as read while this page's scratch VMA maps it */
		fpage_entry((int)fd, first + i * page_size);
	}
	out_end();
}

/* Handles one line; returns 1 for `exit`. */
static int dispatch(char *cursor)
{
	uint64_t v[4];
	char *cmd = next_token(&cursor);
	if (cmd == NULL) {
		respond_err("empty command");
	} else if (strcmp(cmd, "mmap") == 0) {
		cmd_mmap_line(cursor);
	} else if (strcmp(cmd, "munmap") == 0) {
		if (parse_args(&cursor, v, 2, "munmap ADDR LEN") == 0)
			cmd_munmap(v[0], v[1]);
	} else if (strcmp(cmd, "mremap") == 0) {
		if (parse_args(&cursor, v, 4, "mremap OLD OLDLEN NEWLEN NEWADDR") == 0)
			cmd_mremap(v[0], v[1], v[2], v[3]);
	} else if (strcmp(cmd, "mprotect") == 0) {
		if (parse_args(&cursor, v, 3, "mprotect ADDR LEN PROT") == 0) {
			if (v[2] > 3)
				respond_err("PROT must be 0..3 (1 read, 2 write)");
			else
				cmd_mprotect(v[0], v[1], v[2]);
		}
	} else if (strcmp(cmd, "madvise") == 0) {
		if (parse_args(&cursor, v, 3, "madvise ADDR LEN ADVICE") == 0) {
			if (v[2] > INT32_MAX)
				respond_err("ADVICE out of range");
			else
				cmd_madvise(v[0], v[1], v[2]);
		}
	} else if (strcmp(cmd, "prctl_thp_disable") == 0) {
		if (parse_args(&cursor, v, 1, "prctl_thp_disable V") == 0)
			cmd_prctl_thp_disable(v[0]);
	} else if (strcmp(cmd, "touch") == 0) {
		if (parse_args(&cursor, v, 4, "touch ADDR LEN W TOKEN") == 0)
			cmd_touch(v[0], v[1], v[2], v[3]);
	} else if (strcmp(cmd, "peek") == 0) {
		if (parse_args(&cursor, v, 2, "peek ADDR LEN") == 0)
			cmd_peek(v[0], v[1]);
	} else if (strcmp(cmd, "pages") == 0) {
		if (parse_args(&cursor, v, 2, "pages ADDR LEN") == 0)
			cmd_pages(v[0], v[1]);
	} else if (strcmp(cmd, "pmdmapped") == 0) {
		if (parse_args(&cursor, v, 2, "pmdmapped ADDR LEN") == 0)
			cmd_pmdmapped(v[0], v[1]);
	} else if (strcmp(cmd, "pin") == 0) {
		if (parse_args(&cursor, v, 2, "pin ADDR LEN") == 0)
			cmd_pin(v[0], v[1]);
	} else if (strcmp(cmd, "unpin") == 0) {
		if (parse_args(&cursor, v, 2, "unpin ADDR LEN") == 0)
			cmd_unpin(v[0], v[1]);
	} else if (strcmp(cmd, "uffd_register") == 0) {
		if (parse_args(&cursor, v, 4, "uffd_register ADDR LEN MODE HANDLER") == 0)
			cmd_uffd_register(v[0], v[1], v[2], v[3]);
	} else if (strcmp(cmd, "uffd_unregister") == 0 || strcmp(cmd, "uffd_copy") == 0 || strcmp(cmd, "uffd_zeropage") == 0
		   || strcmp(cmd, "uffd_continue") == 0) {
		if (parse_args(&cursor, v, 2, "uffd_OP ADDR LEN") == 0)
			cmd_uffd_range(cmd, v[0], v[1], 0);
	} else if (strcmp(cmd, "uffd_wp") == 0) {
		if (parse_args(&cursor, v, 3, "uffd_wp ADDR LEN 0|1") == 0) {
			if (v[2] > 1)
				respond_err("usage: uffd_wp ADDR LEN 0|1");
			else
				cmd_uffd_range(cmd, v[0], v[1], v[2]);
		}
	} else if (strcmp(cmd, "uffd_faults") == 0) {
		if (next_token(&cursor) != NULL)
			respond_err("usage: uffd_faults");
		else
			cmd_uffd_faults();
	} else if (strcmp(cmd, "uffd_log") == 0) {
		if (next_token(&cursor) != NULL)
			respond_err("usage: uffd_log");
		else
			cmd_uffd_log();
	} else if (strcmp(cmd, "fork") == 0) {
		char *in_path = next_token(&cursor);
		char *out_path = next_token(&cursor);
		if (in_path == NULL || out_path == NULL || next_token(&cursor) != NULL)
			respond_err("usage: fork IN_FIFO OUT_FIFO");
		else
			cmd_fork(in_path, out_path);
	} else if (strcmp(cmd, "sysfs_write") == 0) {
		char *path = next_token(&cursor);
		while (is_blank(*cursor))
			cursor++;
		/* The value is the raw rest of the line, inner blanks included. */
		if (path == NULL || *cursor == '\0')
			respond_err("usage: sysfs_write PATH VALUE...");
		else if (!sysfs_path_ok(path))
			respond_err("PATH must be under /sys/ or /proc/sys/ and contain no /../");
		else
			cmd_sysfs_write(path, cursor);
	} else if (strcmp(cmd, "memfd") == 0) {
		/* The scenario's file name, so that smaps names the mapping as the model does. */
		char *name = next_token(&cursor);
		if (name == NULL)
			respond_err("usage: memfd NAME SIZE");
		else if (parse_args(&cursor, v, 1, "memfd NAME SIZE") == 0)
			cmd_memfd(name, v[0]);
	} else if (strcmp(cmd, "fcreate") == 0 || strcmp(cmd, "fopen") == 0) {
		int create = cmd[1] == 'c';
		char *path = next_token(&cursor);
		if (path == NULL) {
			respond_err(create ? "usage: fcreate PATH SIZE" : "usage: fopen PATH");
		} else if (!create) {
			if (next_token(&cursor) != NULL)
				respond_err("usage: fopen PATH");
			else
				cmd_fopen(path);
		} else if (parse_args(&cursor, v, 1, "fcreate PATH SIZE") == 0) {
			cmd_fcreate(path, v[0]);
		}
	} else if (strcmp(cmd, "fclose") == 0) {
		if (parse_args(&cursor, v, 1, "fclose FD") == 0 && fd_ok(v[0]))
			respond_rc(close((int)v[0]) == 0 ? 0 : -errno);
	} else if (strcmp(cmd, "ftruncate") == 0) {
		if (parse_args(&cursor, v, 2, "ftruncate FD SIZE") == 0 && fd_ok(v[0]))
			respond_rc(ftruncate((int)v[0], (off_t)v[1]) == 0 ? 0 : -errno);
	} else if (strcmp(cmd, "fallocate") == 0) {
		if (parse_args(&cursor, v, 4, "fallocate FD MODE OFF LEN") == 0 && fd_ok(v[0])) {
			if (v[1] > INT32_MAX)
				respond_err("MODE out of range");
			else
				respond_rc(fallocate((int)v[0], (int)v[1], (off_t)v[2], (off_t)v[3]) == 0 ? 0 : -errno);
		}
	} else if (strcmp(cmd, "lseek") == 0) {
		if (parse_args(&cursor, v, 3, "lseek FD WHENCE OFF") == 0 && fd_ok(v[0])) {
			if (v[1] > 4)
				respond_err("WHENCE must be 0..4 (3 SEEK_DATA, 4 SEEK_HOLE)");
			else {
				off_t r = lseek((int)v[0], (off_t)v[2], (int)v[1]);
				respond_rc(r < 0 ? -errno : (int64_t)r);
			}
		}
	} else if (strcmp(cmd, "pwrite") == 0) {
		if (parse_args(&cursor, v, 4, "pwrite FD OFF LEN TOKEN") == 0 && fd_ok(v[0]))
			cmd_pwrite(v[0], v[1], v[2], v[3]);
	} else if (strcmp(cmd, "pread") == 0) {
		if (parse_args(&cursor, v, 3, "pread FD OFF LEN") == 0 && fd_ok(v[0]))
			cmd_pread(v[0], v[1], v[2]);
	} else if (strcmp(cmd, "fstat") == 0) {
		if (parse_args(&cursor, v, 1, "fstat FD") == 0 && fd_ok(v[0]))
			cmd_fstat(v[0]);
	} else if (strcmp(cmd, "fpages") == 0) {
		if (parse_args(&cursor, v, 3, "fpages FD OFF LEN") == 0 && fd_ok(v[0]))
			cmd_fpages(v[0], v[1], v[2]);
	} else if (strcmp(cmd, "exit") == 0) {
		if (next_token(&cursor) != NULL)
			respond_err("usage: exit");
		else
			return 1;
	} else {
		respond_err("unknown command");
	}
	return 0;
}

/* ---- startup ---- */

static void startup_fail(const char *what, int err)
{
	/* One `err` line instead of `ready`, so the parent's first read explains the failure. */
	printf("err startup: %s: %s\n", what, strerror(err));
	fflush(stdout);
	exit(1);
}

static __attribute__((noinline)) void pretouch_stack(void)
{
	volatile unsigned char buf[STACK_PRETOUCH];
	for (size_t i = 0; i < sizeof buf; i += 256)
		buf[i] = 0;
}

/* The driver's own mappings must not become THPs later (by khugepaged or a fault), which would
 * show up in the counters as the scenario's. Scenario mappings are made later and unaffected.
 * The list is also remembered (the last call before `ready` wins) for mlock() in a forked child. */
static void nohugepage_own_mappings(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char buf[512];
	if (f == NULL)
		return;
	own_nr = 0;
	while (fgets(buf, sizeof buf, f) != NULL) {
		unsigned long lo, hi;
		if (sscanf(buf, "%lx-%lx", &lo, &hi) == 2) {
			(void)madvise((void *)lo, hi - lo, MADV_NOHUGEPAGE); /* fails harmlessly on [vsyscall] etc. */
			if (own_nr < MAX_OWN_RANGES) {
				own_ranges[own_nr].lo = lo;
				own_ranges[own_nr].hi = hi;
				own_nr++;
			}
		}
		while (strchr(buf, '\n') == NULL && fgets(buf, sizeof buf, f) != NULL)
			; /* skip the rest of an overlong line */
	}
	fclose(f);
}

/* The file commands on a one-page memfd: binds memfd_create, ftruncate, fallocate, lseek,
 * pwritev, preadv, fstat, mincore and the path through `fpages` (a hole, a fallocated page, a
 * written one). Its one shmem page is freed again at close, before `ready`. 0 if all worked. */
static int self_test_files(void)
{
	int fd = memfd_create("mthpsim-self-test", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	int ok = ftruncate(fd, (off_t)page_size) == 0;
	cmd_fpages((uint64_t)fd, 0, page_size);
	cmd_fstat((uint64_t)fd);
	ok = ok && fallocate(fd, 0, 0, (off_t)page_size) == 0;
	cmd_fpages((uint64_t)fd, 0, page_size);
	ok = ok && lseek(fd, 0, SEEK_DATA) < 0;
	cmd_pwrite((uint64_t)fd, 0, 16, 1);
	cmd_pread((uint64_t)fd, 0, 16);
	cmd_fpages((uint64_t)fd, 0, page_size);
	ok = ok && probe_value == 1;
	ok = ok && fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, (off_t)page_size) == 0;
	cmd_fopen("/proc/self/fd/no-such-fd");
	(void)close(fd);
	return ok ? 0 : -1;
}

/* Runs every command path once on a scratch mapping so that lazy symbol binding, the signal
 * delivery path and all buffers are exercised before `ready`. Returns 0 if the fault handler
 * worked. */
static int self_test(void)
{
	char cmdline[64];
	size_t len = 2 * page_size;
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	uint64_t a = (uint64_t)(uintptr_t)p;
	discard_output = 1;
	cmd_touch(a, len, 1, 1);
	cmd_touch(a, len, 0, 0);
	cmd_peek(a, len);
	cmd_pages(a, len);
	cmd_pmdmapped(a, len);
	cmd_pin(a, len);
	cmd_unpin(a, len);
	cmd_madvise(a, len, MADV_DONTNEED);
	if (uffd_fd >= 0) {
		/* one fault the reader thread resolves, and the commands; counts start again at `ready` */
		cmd_uffd_register(a, len, 1, 0);
		cmd_touch(a, page_size, 0, 0);
		cmd_uffd_range("uffd_zeropage", a + page_size, page_size, 0);
		cmd_uffd_faults();
		cmd_uffd_log();
		cmd_uffd_range("uffd_unregister", a, len, 0);
		pthread_mutex_lock(&uffd_lock);
		uffd_faults = 0;
		uffd_nranges = 0;
		pthread_mutex_unlock(&uffd_lock);
		cmd_madvise(a, len, MADV_DONTNEED);
	}
	cmd_mprotect(a, len, PROT_NONE);
	cmd_touch(a, len, 0, 0);
	int ok = touch_done == 0;
	cmd_munmap(a, len);
	cmd_mmap(a, len, PROT_NONE, 0, NULL, 0);
	(void)munmap(p, len);
	ok = ok && self_test_files() == 0;
	cmd_sysfs_write("/sys/kernel/mm/transparent_hugepage/mthp-driver-no-such-file", "x");
	if (write(-1, "", 0) < 0) /* binds write() without writing anything */
		ok = ok && errno == EBADF;
	/* Bind what the `fork` path calls, harmlessly: nothing has been read or written yet. */
	(void)dup2(-1, -1);
	(void)dup3(-1, -1, O_CLOEXEC);
	(void)getppid();
	(void)mlock(p, 0);
	__fpurge(stdin);
	clearerr(stdin);
	__fpurge(stdout);
	clearerr(stdout);
	strcpy(cmdline, "fork /dev/null /dev/null"); /* `err ... is not a FIFO`: binds stat() */
	dispatch(cmdline);
	pid_t pid = fork(); /* binds fork() and waitpid() */
	if (pid == 0)
		_exit(0);
	if (pid > 0)
		(void)waitpid(pid, NULL, 0);
	strcpy(cmdline, "bogus 1");
	dispatch(cmdline);
	strcpy(cmdline, "mmap 0x 1 2");
	dispatch(cmdline);
	discard_output = 0;
	return ok ? 0 : -1;
}

int main(void)
{
	/* Static stdio buffers: stdio would otherwise malloc them on first use. */
	setvbuf(stdin, stdin_buf, _IOFBF, sizeof stdin_buf);
	setvbuf(stdout, stdout_buf, _IOFBF, sizeof stdout_buf);

	long ps = sysconf(_SC_PAGESIZE);
	if (ps <= 0 || (ps & (ps - 1)) != 0)
		startup_fail("sysconf(_SC_PAGESIZE)", EINVAL);
	page_size = (uint64_t)ps;
	while ((UINT64_C(1) << page_shift) < page_size)
		page_shift++;

	/* Signal mask and SIGPIPE disposition are inherited across exec; a blocked SIGSEGV would
	 * kill us instead of reaching the handler. */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fault_handler;
	sa.sa_flags = SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, NULL) != 0)
		startup_fail("sigaction(SIGSEGV)", errno);
	if (sigaction(SIGBUS, &sa, NULL) != 0)
		startup_fail("sigaction(SIGBUS)", errno);
	/* no SA_RESTART: a syscall waiting on a userfaultfd fault nobody resolves returns -EINTR */
	if (sigaction(SIGUSR1, &sa, NULL) != 0)
		startup_fail("sigaction(SIGUSR1)", errno);

	/* The .NET parent sets PR_SET_THP_DISABLE on itself and it is inherited. */
	if (prctl(PR_SET_THP_DISABLE, 0UL, 0UL, 0UL, 0UL) != 0)
		startup_fail("prctl(PR_SET_THP_DISABLE, 0)", errno);

	pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (pagemap_fd < 0)
		startup_fail("open /proc/self/pagemap", errno);
	kpageflags_fd = open("/proc/kpageflags", O_RDONLY | O_CLOEXEC);
	if (kpageflags_fd < 0)
		startup_fail("open /proc/kpageflags (needs root)", errno);
	mem_fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
	if (mem_fd < 0)
		startup_fail("open /proc/self/mem", errno);

	nohugepage_own_mappings();

	/* Registered buffers are charged to RLIMIT_MEMLOCK unless the process has CAP_IPC_LOCK (root
	 * has); raising the limit covers a root without that capability. Best effort. */
	struct rlimit rl = { RLIM_INFINITY, RLIM_INFINITY };
	(void)setrlimit(RLIMIT_MEMLOCK, &rl);
	ring_err = ring_open(); /* failure is not fatal: `pin` then answers ok -errno */
	uffd_err = uffd_open(); /* nor is this: the `uffd_*` commands then answer ok -errno */

	pretouch_stack();
	memset(stdin_buf, 0, sizeof stdin_buf);
	memset(stdout_buf, 0, sizeof stdout_buf);
	memset(line, 0, sizeof line);
	memset(outbuf, 0, sizeof outbuf);
	memset(pm_buf, 0, sizeof pm_buf);
	memset(kpf_win, 0, sizeof kpf_win);
	memset(scan_regions, 0, sizeof scan_regions);

	if (self_test() != 0)
		startup_fail("self-test of the SIGSEGV handler", EFAULT);

	/* Children made by `fork` are reaped by the kernel (no zombies); installed after the
	 * self-test, which waits for its own test child. Inherited by the children. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sa.sa_flags = SA_NOCLDWAIT;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGCHLD, &sa, NULL) != 0)
		startup_fail("sigaction(SIGCHLD)", errno);

	/* Remember the final list of the driver's own mappings (for mlock() in forked children). */
	nohugepage_own_mappings();

	/* Keep the driver's pages resident so that reclaim cannot make it fault them back in.
	 * Best effort: MCL_CURRENT only, so scenario mappings made later are not locked. */
	(void)mlockall(MCL_CURRENT);

	out_str("ready ");
	out_u64((uint64_t)getpid(), 0);
	out_str(" ");
	out_u64(page_size, 0);
	out_end();

	for (;;) {
		int r = read_line();
		if (r < 0)
			break;
		if (r > 0) {
			respond_err("line too long or contains a NUL byte");
			continue;
		}
		if (dispatch(line))
			break;
	}
	/* Unpin synchronously before exiting: the ring's teardown at exit is asynchronous (a
	 * workqueue), and a pinned folio freed late would move the next scenario's counters. */
	if (ring_fd >= 0)
		(void)syscall(__NR_io_uring_register, ring_fd, IORING_UNREGISTER_BUFFERS, NULL, 0);
	return 0;
}
