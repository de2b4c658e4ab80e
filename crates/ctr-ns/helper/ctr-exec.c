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
 * argv: MARKER, status fd (decimal), exec candidates..., "", argv of the
 * program...; envp is the program's. The status pipe is the spawn's
 * (inherited without close-on-exec): the helper marks it close-on-exec so a
 * successful execve closes it (the parent reads end of file), and writes a
 * [MSG_ERROR, STEP_EXEC, errno, 0] message on failure, as the child would.
 * Anything else (a "#!/proc/self/exe" script landing here) exits 126.
 *
 * Built by build.rs with: gcc -static -nostdlib -Os (no libc, no loader).
 */
#define MARKER "ctr-exec:1"
#define MSG_ERROR 2   /* crate::child::MSG_ERROR */
#define STEP_EXEC 11  /* crate::child::Step::Exec */
#define ENOENT 2
#define EACCES 13
#define ENOTDIR 20
#define F_SETFD 2
#define FD_CLOEXEC 1

#if defined(__x86_64__)
#define NR_write 1
#define NR_fcntl 72
#define NR_execve 59
#define NR_exit_group 231
static long sys3(long n, long a, long b, long c)
{
	long r;
	__asm__ volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
	return r;
}
__asm__(".text\n.global _start\n_start:\n\txor %rbp,%rbp\n\tmov %rsp,%rdi\n\tand $-16,%rsp\n\tcall helper_main\n\thlt\n");
#elif defined(__aarch64__)
#define NR_write 64
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

__attribute__((used)) void helper_main(long *sp)
{
	long argc = sp[0];
	char **argv = (char **)(sp + 1);
	char **envp = argv + argc + 1;
	long status = 0, i, sep = -1;
	int saved = ENOENT;
	unsigned int msg[4];

	if (argc < 4 || !same(argv[0], MARKER)) {
		say("ctr-exec: not started by the runtime (a \"#!/proc/self/exe\" script?)\n");
		die(126);
	}
	for (const char *d = argv[1]; *d; d++) {
		if (*d < '0' || *d > '9')
			die(126);
		status = status * 10 + (*d - '0');
	}
	for (i = 2; i < argc; i++)
		if (argv[i][0] == 0) {
			sep = i;
			break;
		}
	if (sep < 3 || sep + 1 >= argc)
		die(126);
	/* The pipe must close when the program runs. */
	if (sys3(NR_fcntl, status, F_SETFD, FD_CLOEXEC) < 0)
		die(127);
	/* execvp over the prepared candidates: ENOENT/ENOTDIR move on, EACCES
	 * is remembered, anything else stops the search. */
	for (i = 2; i < sep; i++) {
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
