/*
 * ctr-exec: the last program the runtime runs before a container's own.
 *
 * The spawned child (a fork of ctrun or of node) does not execve the
 * container's program itself: it execveat()s this helper from a sealed
 * memfd (see src/exec_helper.rs), and the helper execve()s the program.
 * So at the container's first instruction, and during the final execve
 * (when the kernel resolves "#!/proc/self/exe" or the program's ELF
 * interpreter inside the rootfs), /proc/self/exe is a sealed, in-memory
 * copy of these few hundred bytes, never a host binary: the runc
 * CVE-2019-5736 class has nothing to overwrite. The helper is static,
 * without libc or an ELF interpreter, so nothing of the rootfs is loaded
 * before the final execve.
 *
 * argv: MARKER, status fd (decimal), gates, exec candidates..., "", argv of
 * the program...; envp is the program's. The status pipe is the spawn's
 * (inherited without close-on-exec): the helper marks it close-on-exec so a
 * successful execve closes it (the parent reads end of file), and writes a
 * [MSG_ERROR, STEP_EXEC, errno, 0] message on failure, as the child would.
 * Anything else (a "#!/proc/self/exe" script landing here) exits 126.
 *
 * gates is "FIFO,PROC,GATE,MEMCG,INDEX" (decimal fds, -1 for none): the waits a created
 * container makes before `start`, when the child exec'd this helper before
 * them (src/child.rs, `exec_early`) so that it stops sharing the runtime's
 * memory as soon as its setup is done. With a FIFO, the helper reports
 * [MSG_EXEC_FIFO], opens "self/fd/FIFO" beneath PROC (or /proc/self/fd/FIFO
 * when PROC is -1) for writing, which blocks until `start` opens it for
 * reading, and writes one byte; with a GATE it reports [MSG_HELD] and reads
 * one byte (none: the parent gave up, exit 1). Before either it makes itself
 * non-dumpable (exec made it dumpable again), so no process of the
 * container can ptrace it and reach PROC, the host's /proc, while it waits.
 * With a MEMCG (the container's v1 memory cgroup `tasks` file) it first
 * writes "0" there: the child exec'd it from the caller's memory cgroup, so
 * this address space is charged to the caller, as a forking runtime's
 * waiting init is, while everything from here on (the program's exec
 * included) is the container's (src/plan.rs, `CallerMemoryCgroup`). A
 * failed move is reported as the child's cgroup join, detail INDEX.
 *
 * Built by build.rs with: gcc -static -nostdlib -Os (no libc, no loader).
 */
#define MARKER "ctr-exec:1"
#define MSG_HELD 1       /* crate::child::MSG_HELD */
#define MSG_ERROR 2      /* crate::child::MSG_ERROR */
#define MSG_EXEC_FIFO 5  /* crate::child::MSG_EXEC_FIFO */
#define STEP_GATE 10     /* crate::child::Step::Gate */
#define STEP_EXEC 11     /* crate::child::Step::Exec */
#define STEP_DUMPABLE 32 /* crate::child::Step::Dumpable */
#define STEP_EXEC_FIFO 34 /* crate::child::Step::ExecFifo */
#define STEP_CGROUP_JOIN 44 /* crate::child::Step::CgroupJoin */
#define EINTR 4
#define AT_FDCWD -100
#define O_WRONLY 01
#define O_CLOEXEC 02000000
#define PR_SET_DUMPABLE 4
#define PR_SET_NAME 15
#define ENOENT 2
#define EACCES 13
#define ENOTDIR 20
#define F_SETFD 2
#define FD_CLOEXEC 1

#if defined(__x86_64__)
#define NR_read 0
#define NR_write 1
#define NR_close 3
#define NR_openat 257
#define NR_prctl 157
#define NR_fcntl 72
#define NR_execve 59
#define NR_exit_group 231
static long sys3(long n, long a, long b, long c)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return r;
}
static long sys4(long n, long a, long b, long c, long d)
{
	long r;
	register long r10 __asm__("r10") = d;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10) : "rcx", "r11", "memory");
	return r;
}
__asm__(".text\n.global _start\n_start:\n\txor %rbp,%rbp\n\tmov %rsp,%rdi\n\tand $-16,%rsp\n\tcall helper_main\n\thlt\n");
#elif defined(__aarch64__)
#define NR_read 63
#define NR_write 64
#define NR_close 57
#define NR_openat 56
#define NR_prctl 167
#define NR_fcntl 25
#define NR_execve 221
#define NR_exit_group 94
static long sys3(long n, long a, long b, long c)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	__asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2) : "memory");
	return x0;
}
static long sys4(long n, long a, long b, long c, long d)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	__asm__ volatile("svc 0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3) : "memory");
	return x0;
}
__asm__(".text\n.global _start\n_start:\n\tmov x0, sp\n\tbl helper_main\n\tbrk #0\n");
#else
#error "ctr-exec: unsupported architecture"
#endif

static void die(long code)
{
	for (;;)
		sys3(NR_exit_group, code, 0, 0);
}

static int same(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

static void say(const char *s)
{
	long n = 0;
	while (s[n])
		n++;
	sys3(NR_write, 2, (long)s, n);
}

static void report(long status, unsigned int kind, unsigned int step, unsigned int err, unsigned int detail)
{
	unsigned int msg[4];
	msg[0] = kind;
	msg[1] = step;
	msg[2] = err;
	msg[3] = detail;
	sys3(NR_write, status, (long)msg, sizeof msg);
}

/* One decimal number of the gates argument ("-1": no fd); advances *s past it and
 * its comma. Anything malformed exits 126. */
static long next_fd(const char **s)
{
	long v = 0, neg = 0;
	if (**s == '-')
		neg = 1, (*s)++;
	if (**s < '0' || **s > '9')
		die(126);
	while (**s >= '0' && **s <= '9')
		v = v * 10 + (*(*s)++ - '0');
	if (**s == ',')
		(*s)++;
	return neg ? -v : v;
}

/* The waits before `start` (see the top of this file). */
static void gates(long status, const char *spec)
{
	long fifo = next_fd(&spec), proc = next_fd(&spec), gate = next_fd(&spec);
	long memcg = next_fd(&spec), index = next_fd(&spec);
	static const char prefix[] = "/proc/self/fd/";
	char path[32];
	char digits[16];
	long n = 0, i, fd;
	unsigned char byte = '0';

	if (*spec)
		die(126);
	if (fifo < 0 && gate < 0 && memcg < 0)
		return;
	fd = sys3(NR_prctl, PR_SET_DUMPABLE, 0, 0);
	if (fd < 0) {
		report(status, MSG_ERROR, STEP_DUMPABLE, (unsigned int)-fd, 0);
		die(1);
	}
	/* Named as the child was until now (ps, and a count of the children). */
	sys3(NR_prctl, PR_SET_NAME, (long)"ctr-init", 0);
	if (memcg >= 0) {
		/* Back in the container's memory cgroup before `create` returns. */
		fd = sys3(NR_write, memcg, (long)"0", 1);
		if (fd != 1) {
			report(status, MSG_ERROR, STEP_CGROUP_JOIN, fd < 0 ? (unsigned int)-fd : 5 /* EIO */, (unsigned int)index);
			die(1);
		}
		sys3(NR_close, memcg, 0, 0);
	}
	if (fifo >= 0) {
		report(status, MSG_EXEC_FIFO, STEP_EXEC_FIFO, 0, 0);
		for (i = 0; prefix[i]; i++)
			path[i] = prefix[i];
		for (fd = fifo; n == 0 || fd > 0; fd /= 10)
			digits[n++] = (char)('0' + fd % 10);
		while (n > 0)
			path[i++] = digits[--n];
		path[i] = 0;
		/* "self/fd/N" beneath the given /proc, as the child would. */
		do
			fd = sys4(NR_openat, proc >= 0 ? proc : AT_FDCWD, (long)(proc >= 0 ? path + 6 : path), O_WRONLY | O_CLOEXEC, 0);
		while (fd == -EINTR);
		if (fd < 0) {
			report(status, MSG_ERROR, STEP_EXEC_FIFO, (unsigned int)-fd, 1);
			die(1);
		}
		fd = sys3(NR_write, fd, (long)&byte, 1);
		if (fd != 1) {
			report(status, MSG_ERROR, STEP_EXEC_FIFO, fd < 0 ? (unsigned int)-fd : 5 /* EIO */, 2);
			die(1);
		}
		/* The FIFO's write end stays open (close-on-exec) until the
		 * program runs: `start` sees end of file exactly then. */
		sys3(NR_close, fifo, 0, 0);
		if (proc >= 0)
			sys3(NR_close, proc, 0, 0);
	}
	if (gate >= 0) {
		report(status, MSG_HELD, STEP_GATE, 0, 0);
		for (;;) {
			long r = sys3(NR_read, gate, (long)&byte, 1);
			if (r == 1)
				break;
			if (r != -EINTR)
				die(1); /* the parent closed the gate without releasing */
		}
		sys3(NR_close, gate, 0, 0);
	}
}

__attribute__((used)) void helper_main(long *sp)
{
	long argc = sp[0];
	char **argv = (char **)(sp + 1);
	char **envp = argv + argc + 1;
	long status = 0, i, sep = -1;
	int saved = ENOENT;
	unsigned int msg[4];

	if (argc < 5 || !same(argv[0], MARKER)) {
		say("ctr-exec: not started by the runtime (a \"#!/proc/self/exe\" script?)\n");
		die(126);
	}
	for (const char *d = argv[1]; *d; d++) {
		if (*d < '0' || *d > '9')
			die(126);
		status = status * 10 + (*d - '0');
	}
	for (i = 3; i < argc; i++)
		if (argv[i][0] == 0) {
			sep = i;
			break;
		}
	if (sep < 4 || sep + 1 >= argc)
		die(126);
	gates(status, argv[2]);
	/* The pipe must close when the program runs. */
	if (sys3(NR_fcntl, status, F_SETFD, FD_CLOEXEC) < 0)
		die(127);
	/* execvp over the prepared candidates: ENOENT/ENOTDIR move on, EACCES
	 * is remembered, anything else stops the search. */
	for (i = 3; i < sep; i++) {
		long e = -sys3(NR_execve, (long)argv[i], (long)(argv + sep + 1), (long)envp);
		if (e == ENOENT || e == ENOTDIR)
			continue;
		saved = (int)e;
		if (e != EACCES)
			break;
	}
	msg[0] = MSG_ERROR;
	msg[1] = STEP_EXEC;
	msg[2] = (unsigned int)saved;
	msg[3] = 0;
	sys3(NR_write, status, (long)msg, sizeof msg);
	die(127);
}
