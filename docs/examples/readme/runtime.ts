import { Container, gc, run } from '@ctr/runtime';

const r = await run({ rootfs: '/path/to/busybox', args: ['sh', '-c', 'echo hi from $(hostname)'], hostname: 'box' });
r.exitCode; r.stdout; // 0, 'hi from box\n'

const c = await Container.create({ id: 'web', bundle: './bundle', stdio: ['ignore', 'pipe', 'pipe'] });
c.stdout!.pipe(process.stdout);
c.on('oom', () => console.log('out of memory'));
await c.start();                       // 'exit' (code, signal) is emitted too
console.log((await c.stats()).memory); // @ctr/cgroup stats of its cgroup
const p = await c.exec(['sh', '-c', 'cat /etc/hostname'], { env: { X: '1' }, stdio: ['ignore', 'pipe', 'inherit'] });
p.stdout!.pipe(process.stdout);
await p.wait();                        // { exitCode, signal } of the exec'd process
await c.update({ memory: '64m', pids: 20 }); // or c.updateResources({ ...OCI linux.resources })
for await (const ev of c.events({ interval: 1000 })) {
  console.log(ev.type, ev.type === 'stats' ? ev.data.memory.usage : ''); // runc's `events` shape
  break;
}
await c.kill('USR1');                  // async like every ctr kill: true once sent, false if it had ended
const { exitCode, signal } = await c.stop({ timeout: 5000 }); // SIGTERM, SIGKILL after 5 s (default 10 s)
await c.delete();                      // or `await using c = ...`: delete({ force: true }) at scope end
await Container.list();                // also the ones `ctrun` made, and `creating` ones
await gc();                            // remove records whose owner died (a killed Node or ctrun)

// A terminal (docker run -it): the pty master is an @ctr/ns Terminal (Duplex)
const sh = await Container.create({ id: 'tty', rootfs: '/path/to/busybox', args: ['sh'], terminal: { cols: 120, rows: 40 } });
process.stdin.setRawMode(true);
process.stdin.pipe(sh.terminal!);
sh.terminal!.pipe(process.stdout);
await sh.start();
process.stdout.on('resize', () => sh.terminal!.resize(process.stdout.columns, process.stdout.rows));
