// The seed's walkthrough, done from code with the ctr packages: new
// namespaces, a 5 MB memory limit ending in a reported OOM kill, a syscall
// blocked by the default seccomp profile, and two network namespaces on a
// bridge talking to each other. Everything it creates is removed at the end.
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const { run, spawn } = require('../packages/ns/dist/index.cjs');
const { Cgroup } = require('../packages/cgroup/dist/index.cjs');
const { Profile, spawnOptions } = require('../packages/seccomp/dist/index.cjs');
const { BridgeNetwork, NetNS } = require('../packages/netns/dist/index.cjs');

const bold = (s) => `\x1b[1m${s}\x1b[0m`;
const section = (title) => process.stdout.write(`\n${bold(`== ${title}`)}\n`);
const say = (s) => process.stdout.write(`${s}\n`);
const tag = `ctrdemo${process.pid % 100000}`;
let failures = 0;
const check = (ok, what) => {
  if (!ok) failures++;
  say(`${ok ? '✔' : '✘'} ${what}`);
};

// 1. Namespaces: `unshare --fork --pid --net --mount-proc sh`.
section("1. spawn('sh', ..., { namespaces: ['pid', 'net', 'mnt', 'uts', 'ipc'], mountProc: true, hostname: 'ctr-demo' })");
{
  const script = [
    'echo "hostname: $(hostname)"',
    'echo "my pid:   $$"',
    'echo; echo "$ ps -o pid,ppid,comm"; ps -o pid,ppid,comm 2>/dev/null || ps',
    'echo; echo "$ ip -brief link"; ip -brief link 2>/dev/null || cat /proc/net/dev',
  ].join('; ');
  const r = await run('sh', ['-c', script], { namespaces: ['pid', 'net', 'mnt', 'uts', 'ipc'], mountProc: true, hostname: 'ctr-demo' });
  process.stdout.write(r.stdout + r.stderr);
  check(/my pid:\s+1\n/.test(r.stdout), `the shell is PID 1 inside (host pid ${r.pid})`);
}

// 2. A 5 MB memory limit: a 50 MB allocation is OOM-killed, and reported.
section("2. Cgroup.create(..., { memory: { max: 5_000_000 } }) + a 50 MB allocation");
{
  const cg = await Cgroup.create(`/${tag}-mem`, { memory: { max: 5_000_000 } });
  try {
    const oom = new Promise((resolve) => cg.once('oom_kill', resolve));
    const child = spawn('busybox', ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=50M', 'count=1'], { stdio: 'ignore', hold: true });
    await child.spawned;
    await cg.addProcess(child.pid); // moved in while held at the gate, before it runs
    await child.release();
    const r = await child.exited;
    const event = await Promise.race([oom, new Promise((res) => setTimeout(() => res(null), 10000))]);
    const s = await cg.stats();
    say(`limit read back: ${s.memory.limit} bytes; dd ended with signal ${r.signal}; oom_kill count ${s.memory.oomKill}`);
    check(r.signal === 'SIGKILL' && event !== null && s.memory.oomKill >= 1, 'the OOM kill was reported as an event and in stats');
  } finally {
    await cg.delete({ kill: true });
  }
}

// 3. Seccomp: the built-in default profile blocks unshare.
section('3. Profile.default() compiled to BPF, installed in the child before exec');
{
  const program = await Profile.default().compile();
  const r = await run('busybox', ['unshare', '-u', 'true'], spawnOptions(program));
  say(`$ unshare -u true  -> exit ${r.exitCode}: ${r.stderr.trim()}`);
  const d = Profile.default().evaluate({ syscall: 'unshare', args: [0x04000000] });
  say(`evaluate(unshare) -> ${JSON.stringify({ action: d.action, errno: d.errno })}`);
  check(r.exitCode !== 0 && /not permitted/i.test(r.stderr), 'unshare got EPERM under the default profile');
}

// 4. Network: two namespaces on one bridge exchange data.
section("4. BridgeNetwork.create({ subnet: '10.233.7.0/24' }) and two attached namespaces");
{
  const net = await BridgeNetwork.create({ name: `${tag}`.slice(0, 12), subnet: '10.233.7.0/24' });
  const a = await NetNS.create();
  const b = await NetNS.create();
  try {
    const la = await net.attach(a, { ifname: 'eth0' });
    const lb = await net.attach(b, { ifname: 'eth0' });
    say(`a: eth0 ${la.address}, b: eth0 ${lb.address}, gateway ${net.gateway ?? '10.233.7.1'}`);
    const server = spawn('busybox', ['nc', '-l', '-p', '7000'], { join: { net: `/proc/${process.pid}/fd/${a.fd}` }, stdio: ['ignore', 'pipe', 'inherit'] });
    const received = [];
    server.stdout.on('data', (c) => received.push(c));
    await server.spawned;
    // The server may need a moment to listen: the client retries a refused connect.
    // The message comes from a here-document, in its pipe before nc starts: with
    // `echo ... | nc` the server's half-close (its stdin is /dev/null) can reach
    // the client before echo's data, and the client then exits 0 having sent nothing.
    const connect = `for i in $(seq 50); do busybox nc -w 2 ${la.address} 7000 <<EOF && exit 0\nhello from b\nEOF\nsleep 0.1; done; exit 1`;
    const client = await run('sh', ['-c', connect], { join: { net: `/proc/${process.pid}/fd/${b.fd}` } });
    await Promise.race([server.exited, new Promise((r) => setTimeout(r, 10000))]);
    server.kill('SIGKILL');
    await server.exited.catch(() => undefined);
    const text = Buffer.concat(received).toString().trim();
    say(`server in a received: ${JSON.stringify(text)} (client exit ${client.exitCode})`);
    check(text === 'hello from b', 'b reached a across the bridge');
    await net.detach(la);
    await net.detach(lb);
  } finally {
    a.close();
    b.close();
    await net.delete();
  }
}

section(failures === 0 ? 'all steps worked' : `${failures} step(s) failed`);
process.exit(failures === 0 ? 0 : 1);
