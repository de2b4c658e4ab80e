/*
 * Test helper: make raw system calls and print what they returned.
 * Each argument is one call: [32:]NR[,ARG]... where ARG is a number
 * (strtoull, base 0, negative allowed) or s:TEXT (a pointer to TEXT).
 * With the 32: prefix the call goes through int $0x80 (the i386 ABI, seen
 * by seccomp as AUDIT_ARCH_I386). Prints "NR ret=R errno=E" per call.
 * loop:N makes N getpid calls and prints "loop N ns=T", T in CPU time
 * (for bench/);
 * loop:N:NR makes N calls of NR with -1 in every argument instead.
 * Built by the tests with cc -static.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <time.h>

static long call32(long nr, long *a) {
  long ret;
  register long r_ebx asm("rbx") = a[0];
  __asm__ volatile("push %%rbp\n\tmov %6, %%rbp\n\tint $0x80\n\tpop %%rbp"
                   : "=a"(ret)
                   : "0"(nr), "r"(r_ebx), "c"(a[1]), "d"(a[2]), "S"(a[3]), "D"(a[4]), "m"(a[5])
                   : "memory", "r8", "r9", "r10", "r11");
  return ret;
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    if (strncmp(argv[i], "loop:", 5) == 0) {
      char *end;
      long n = strtol(argv[i] + 5, &end, 10);
      long nr = *end == ':' ? strtol(end + 1, NULL, 10) : SYS_getpid;
      struct timespec a, b;
      /* CPU time, not wall: on a loaded machine wall time mostly measures
       * the time the loop waited for a core. */
      clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
      if (nr == SYS_getpid)
        for (long k = 0; k < n; k++) syscall(SYS_getpid);
      else
        for (long k = 0; k < n; k++) syscall(nr, -1L, -1L, -1L, -1L, -1L, -1L);
      clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
      printf("loop %ld ns=%lld\n", n, (long long)(b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec));
      fflush(stdout);
      continue;
    }
    char *spec = strdup(argv[i]);
    int compat = 0;
    if (strncmp(spec, "32:", 3) == 0) { compat = 1; spec += 3; }
    long v[7] = {0};
    int n = 0;
    for (char *tok = strtok(spec, ","); tok && n < 7; tok = strtok(NULL, ","), n++) {
      if (strncmp(tok, "s:", 2) == 0) v[n] = (long)(tok + 2);
      else v[n] = (long)strtoull(tok, NULL, 0);
    }
    long ret;
    int err = 0;
    if (compat) {
      ret = call32(v[0], v + 1);
      if (ret < 0 && ret > -4096) { err = (int)-ret; ret = -1; }
    } else {
      errno = 0;
      ret = syscall(v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
      if (ret == -1) err = errno;
    }
    char line[96];
    int len = snprintf(line, sizeof line, "%ld ret=%ld errno=%d\n", v[0], ret, err);
    if (write(1, line, len) < 0) return 3;
  }
  return 0;
}
