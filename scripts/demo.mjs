// `npm run demo`: the tutorial's seven steps (docs/tutorial.md) in a
// terminal, each with a short explanation, running the very files the
// tutorial shows (docs/examples/tutorial/*.ts). Every step removes what it
// created. `node scripts/demo.mjs 3 5` runs only steps 3 and 5.
import { register } from 'tsx/esm/api';

register(); // the steps are TypeScript
const bold = (s) => `\x1b[1m${s}\x1b[0m`;
const dim = (s) => `\x1b[2m${s}\x1b[0m`;
const say = (s = '') => process.stdout.write(`${s}\n`);
const indent = (line) => say(line.replace(/^/gm, '  │ '));

const steps = [
  {
    file: '1-namespaces.ts',
    title: 'Namespaces: a shell that is PID 1',
    why: 'A new pid, net and mount namespace, and a fresh /proc: ps sees only the shell and itself.',
    check: (r) => [r.processes.length === 2 && r.processes[0].pid === 1, 'the shell is PID 1 and ps sees nothing else'],
  },
  {
    file: '2-netns.ts',
    title: 'A network namespace: only lo, down',
    why: 'A new network namespace has no interface but a loopback, and it is down.',
    check: (r) => [r.links.length === 1 && r.links[0].name === 'lo' && !r.links[0].up, 'only lo, down'],
  },
  {
    file: '3-cgroup.ts',
    title: 'A memory cgroup and the OOM killer',
    why: 'A cgroup is a directory of control files: 5000000 is rounded to pages, and a 50 MB allocation is killed and reported.',
    check: (r) => [r.limit === 4997120 && r.signal === 'SIGKILL' && r.oomKill === 1, 'read back 4997120; the OOM kill came as an event and in stats'],
  },
  {
    file: '4-seccomp.ts',
    title: "Seccomp: Docker's profile, and a rule on an argument",
    why: "Docker's default profile is an allow list; ours lets personality(2) through for one value only.",
    check: (r) => [r.allowedRun.exitCode === 0 && r.refusedRun.exitCode !== 0, 'personality(PER_LINUX) allowed, personality(PER_LINUX32) refused'],
  },
  {
    file: '5-networks.ts',
    title: 'Two networks and a router',
    why: 'Bridges in a router namespace, two containers on each: isolated until the router forwards.',
    check: (r) => [!r.before.a1b1 && r.after.a1b1 && r.after.b2a2, 'isolated by default, routed through the router'],
  },
  {
    file: '6-bundle.ts',
    title: 'A whole container from an OCI bundle',
    why: 'config.json + rootfs: run in-process with @ctr/runtime, and with ctrun (runc\'s command line).',
    check: (r) => [r.exit.exitCode === 0 && r.ctrun.trim() === r.inProcess.trim(), 'same container both ways'],
  },
  {
    file: '7-supermarket.ts',
    title: 'The supermarket: three services, three replicas, a health check',
    why: 'Payment, inventory and database in their own containers and limits; a killed payment replica is noticed and replaced.',
    check: (r) => [r.replaced.length === 1 && r.after.length === 3, 'the killed replica was replaced and every request answered'],
  },
];

const only = process.argv.slice(2).map(Number);
let failures = 0;
const started = Date.now();
for (const [i, step] of steps.entries()) {
  if (only.length && !only.includes(i + 1)) continue;
  say();
  say(bold(`${i + 1}. ${step.title}`));
  say(dim(`   ${step.why}`));
  say(dim(`   docs/examples/tutorial/${step.file}`));
  const t0 = Date.now();
  try {
    const { main } = await import(`../docs/examples/tutorial/${step.file}`);
    const result = await main(indent);
    const [ok, what] = step.check(result);
    if (!ok) failures++;
    say(`${ok ? '✔' : '✘'} ${what} ${dim(`(${Date.now() - t0} ms)`)}`);
  } catch (e) {
    failures++;
    say(`✘ ${e.code ? `[${e.code}] ` : ''}${e.message}`);
  }
}
say();
say(bold(failures === 0 ? `all steps worked (${((Date.now() - started) / 1000).toFixed(1)} s)` : `${failures} step(s) failed`));
process.exit(failures === 0 ? 0 : 1);
