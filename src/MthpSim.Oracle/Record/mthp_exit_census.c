// mthp_exit_census: runs a program (ASLR off) under ptrace and, each time one of its threads (or a
// descendant's) is about to exit, counts the pages its process maps by folio size, from
// /proc/TID/pagemap and /proc/kpageflags, while the mm is still whole (PTRACE_EVENT_EXIT comes
// before exit_mm()). The last count of each process is what it ended with. One line per process:
//   census pid=P rss_anon_kb=N rss_file_kb=N rss_shmem_kb=N zero=N anon=ORDER:PAGES,... file=ORDER:PAGES,... comm=C
// then "exit status=N" or "exit signal=N" for the program itself. Usage: mthp_exit_census OUT CMD [ARGS...]
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/personality.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <unistd.h>

#define KPF_ANON (1ULL << 12)
#define KPF_HEAD (1ULL << 15)
#define KPF_TAIL (1ULL << 16)
#define KPF_ZERO (1ULL << 24)
#define MAX_ORDER_SEEN 20
#define MAX_PROCS 4096

struct census { int pid; char line[1024]; };
static struct census procs[MAX_PROCS];
static int nprocs;
static int kpf_fd;
static FILE *vmas;   // MTHP_CENSUS_VMAS=FILE: every census's pages per VMA too (for finding where a replay differs)

static uint64_t kpf(uint64_t pfn)
{
    uint64_t v = 0;
    if (pread(kpf_fd, &v, 8, (off_t)(pfn * 8)) != 8) return 0;
    return v;
}

static long status_kb(int tid, const char *key)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", tid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long v = -1;
    size_t n = strlen(key);
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, n) && line[n] == ':') { v = strtol(line + n + 1, NULL, 10); break; }
    fclose(f);
    return v;
}

static int tgid_of(int tid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", tid);
    FILE *f = fopen(path, "r");
    if (!f) return tid;
    int t = tid;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "Tgid:", 5)) { t = atoi(line + 5); break; }
    fclose(f);
    return t;
}

static void census(int tid)
{
    char path[64];
    long anon[MAX_ORDER_SEEN + 1] = {0}, file[MAX_ORDER_SEEN + 1] = {0}, zero = 0;
    snprintf(path, sizeof path, "/proc/%d/maps", tid);
    FILE *maps = fopen(path, "r");
    snprintf(path, sizeof path, "/proc/%d/pagemap", tid);
    int pm = open(path, O_RDONLY);
    if (!maps || pm < 0) { if (maps) fclose(maps); if (pm >= 0) close(pm); return; }
    uint64_t fhead = 0, fend = 0; int forder = 0;   // the folio found last: [fhead, fend)
    char line[4096];
    while (fgets(line, sizeof line, maps))
    {
        unsigned long start, end;
        if (sscanf(line, "%lx-%lx", &start, &end) != 2 || strstr(line, "[vsyscall]")) continue;
        long vanon = 0, vfile = 0, vzero = 0, vlarge = 0;
        char runs[2048] = "";
        size_t rlen = 0;
        unsigned long run_start = 0, run_end = 0;
        uint64_t buf[512];
        for (unsigned long a = start; a < end; )
        {
            size_t n = (end - a) / 4096;
            if (n > 512) n = 512;
            ssize_t got = pread(pm, buf, n * 8, (off_t)(a / 4096 * 8));
            if (got <= 0) break;
            n = (size_t)got / 8;
            for (size_t i = 0; i < n; i++)
            {
                uint64_t e = buf[i];
                if (!(e & (1ULL << 63))) continue;
                uint64_t pfn = e & ((1ULL << 55) - 1);
                unsigned long va = a + i * 4096;
                if (va != run_end)
                {
                    if (run_end && rlen < sizeof runs - 40) rlen += snprintf(runs + rlen, sizeof runs - rlen, "%lx-%lx,", run_start, run_end);
                    run_start = va;
                }
                run_end = va + 4096;
                if (!pfn) continue;
                uint64_t fl = kpf(pfn);
                if (fl & KPF_ZERO) { zero++; vzero++; continue; }
                int order = 0;
                if (fl & (KPF_HEAD | KPF_TAIL))
                {
                    if (!(pfn >= fhead && pfn < fend))
                    {
                        uint64_t h = pfn;
                        while ((kpf(h) & KPF_TAIL) && pfn - h < (1ULL << MAX_ORDER_SEEN)) h--;
                        uint64_t t = h + 1;
                        while ((kpf(t) & KPF_TAIL) && t - h < (1ULL << MAX_ORDER_SEEN)) t++;
                        fhead = h; fend = t; forder = 0;
                        while ((1ULL << forder) < t - h) forder++;
                    }
                    order = forder;
                }
                if (order > MAX_ORDER_SEEN) order = MAX_ORDER_SEEN;
                if (fl & KPF_ANON) { anon[order]++; vanon++; if (order) vlarge++; } else { file[order]++; vfile++; }
            }
            a += n * 4096;
        }
        if (run_end && rlen < sizeof runs - 40) snprintf(runs + rlen, sizeof runs - rlen, "%lx-%lx", run_start, run_end);
        if (vmas) fprintf(vmas, "vma tid=%d anon=%ld file=%ld zero=%ld anon_large=%ld %s", tid, vanon, vfile, vzero, vlarge, line);
        if (vmas) fprintf(vmas, "present %s\n", runs);
    }
    fclose(maps);
    close(pm);

    int tgid = tgid_of(tid);
    char comm[64] = "?";
    snprintf(path, sizeof path, "/proc/%d/comm", tid);
    FILE *c = fopen(path, "r");
    if (c) { if (fgets(comm, sizeof comm, c)) comm[strcspn(comm, "\n")] = 0; fclose(c); }
    for (char *p = comm; *p; p++) if (*p == ' ' || *p == '=') *p = '_';
    struct census *slot = NULL;
    for (int i = 0; i < nprocs; i++) if (procs[i].pid == tgid) slot = &procs[i];
    if (!slot) { if (nprocs == MAX_PROCS) return; slot = &procs[nprocs++]; slot->pid = tgid; }
    char *o = slot->line, *end = slot->line + sizeof slot->line;
    o += snprintf(o, end - o, "census pid=%d rss_anon_kb=%ld rss_file_kb=%ld rss_shmem_kb=%ld zero=%ld anon=", tgid,
                  status_kb(tid, "RssAnon"), status_kb(tid, "RssFile"), status_kb(tid, "RssShmem"), zero);
    const char *sep = "";
    for (int k = 0; k <= MAX_ORDER_SEEN; k++) if (anon[k]) { o += snprintf(o, end - o, "%s%d:%ld", sep, k, anon[k]); sep = ","; }
    o += snprintf(o, end - o, " file=");
    sep = "";
    for (int k = 0; k <= MAX_ORDER_SEEN; k++) if (file[k]) { o += snprintf(o, end - o, "%s%d:%ld", sep, k, file[k]); sep = ","; }
    snprintf(o, end - o, " comm=%s", comm);
}

int main(int argc, char **argv)
{
    if (argc < 3) { fprintf(stderr, "usage: mthp_exit_census OUT CMD [ARGS...]\n"); return 2; }
    FILE *out = fopen(argv[1], "w");
    if (!out) { perror(argv[1]); return 2; }
    if (getenv("MTHP_CENSUS_VMAS")) vmas = fopen(getenv("MTHP_CENSUS_VMAS"), "w");
    // MTHP_CENSUS_ENV=FILE: the program's environment, NUL-separated, so that another run can be given
    // exactly the same (perf adds variables, and their size changes what a program allocates)
    char *envout = getenv("MTHP_CENSUS_ENV") ? strdup(getenv("MTHP_CENSUS_ENV")) : NULL;
    unsetenv("MTHP_CENSUS_VMAS");
    unsetenv("MTHP_CENSUS_ENV");
    if (envout)
    {
        FILE *e = fopen(envout, "w");
        if (!e) { perror(envout); return 2; }
        for (char **v = environ; *v; v++) fwrite(*v, 1, strlen(*v) + 1, e);
        fclose(e);
    }
    kpf_fd = open("/proc/kpageflags", O_RDONLY);
    if (kpf_fd < 0) { perror("/proc/kpageflags"); return 2; }
    // Register this process with khugepaged before the program starts (an MADV_HUGEPAGE region read
    // once: the huge zero page, and the mm on khugepaged's list), so that khugepaged's list is never
    // empty while the program runs: its registration then does not wake khugepaged, which stays in
    // the sleep the recorder just restarted, in every run alike (and as a replay assumes).
    size_t pmd = 2UL << 20;
    char *region = mmap(NULL, 2 * pmd, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (region != MAP_FAILED)
    {
        char *aligned = (char *)(((uintptr_t)region + pmd - 1) & ~(pmd - 1));
        madvise(aligned, pmd, MADV_HUGEPAGE);
        if (*(volatile char *)aligned) fprintf(stderr, "?");
        usleep(50000);   // the pass a first registration wakes is over before the program starts
    }
    int errpipe[2];
    if (pipe2(errpipe, O_CLOEXEC)) { perror("pipe"); return 2; }
    pid_t child = fork();
    if (child == 0)
    {
        close(errpipe[0]);
        personality(ADDR_NO_RANDOMIZE);
        ptrace(PTRACE_TRACEME, 0, 0, 0);
        raise(SIGSTOP);
        execvp(argv[2], argv + 2);
        int e = errno;
        if (write(errpipe[1], &e, sizeof e) < 0) _exit(127);
        _exit(127);
    }
    close(errpipe[1]);
    int st;
    if (waitpid(child, &st, 0) < 0 || !WIFSTOPPED(st)) { fprintf(stderr, "mthp_exit_census: the child did not stop\n"); return 2; }
    ptrace(PTRACE_SETOPTIONS, child, 0, PTRACE_O_TRACEEXIT | PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC | PTRACE_O_EXITKILL);
    ptrace(PTRACE_CONT, child, 0, 0);
    int err = 0;
    if (read(errpipe[0], &err, sizeof err) == sizeof err)
    {
        fprintf(out, "exec_failed errno=%d\n", err);
        fclose(out);
        waitpid(child, &st, 0);
        return 127;
    }
    close(errpipe[0]);
    int root_status = -1, root_signal = -1;
    for (;;)
    {
        pid_t p = waitpid(-1, &st, __WALL);
        if (p < 0) { if (errno == EINTR) continue; break; }
        if (WIFEXITED(st) || WIFSIGNALED(st))
        {
            if (p == child) { if (WIFEXITED(st)) root_status = WEXITSTATUS(st); else root_signal = WTERMSIG(st); }
            continue;
        }
        if (!WIFSTOPPED(st)) continue;
        int sig = WSTOPSIG(st), ev = st >> 16;
        if (ev == PTRACE_EVENT_EXIT) census(p);
        int deliver = (ev != 0 || sig == SIGSTOP || sig == SIGTRAP) ? 0 : sig;
        ptrace(PTRACE_CONT, p, 0, deliver);
    }
    for (int i = 0; i < nprocs; i++) fprintf(out, "%s\n", procs[i].line);
    if (root_signal >= 0) fprintf(out, "exit signal=%d\n", root_signal); else fprintf(out, "exit status=%d\n", root_status);
    fclose(out);
    return 0;
}
