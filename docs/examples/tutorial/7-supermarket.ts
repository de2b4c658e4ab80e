import { request } from 'node:http';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { BridgeNetwork } from '@ctr/netns';
import { Container, type Limits } from '@ctr/runtime';
import { isEntry, tag, type Log } from './log.js';
import { rootfs } from './rootfs.js';

// (7) The supermarket: a payment API, an inventory API and a database, each
// in its own container with its own limits, on one bridge network. The
// payment API runs as three replicas behind one published port (a small
// load balancer in this process), and a health check replaces a replica
// that dies.

// A service is busybox `nc` answering HTTP with a shell handler: $path is
// the request path, whatever the handler prints is the response body.
function service(handler: string, init = ''): string[] {
  const respond = `read -r method path version; while read -r h && [ "$h" != "$(printf '\\r')" ]; do :; done
    body=$(${handler}); printf 'HTTP/1.0 200 OK\\r\\ncontent-type: text/plain\\r\\n\\r\\n%s\\n' "$body"`;
  return ['sh', '-c', `${init} exec nc -ll -p 80 -e sh -c '${respond.replace(/'/g, `'\\''`)}'`];
}

const database = service(
  'case "$path" in /take/*) i=${path#/take/}; n=$(cat /dev/shm/$i 2>/dev/null || echo 0); [ "$n" -gt 0 ] && n=$((n-1)) && echo $n > /dev/shm/$i; echo $n;; *) echo ok;; esac',
  'echo 100 > /dev/shm/apples; echo 3 > /dev/shm/truffles;', // /dev/shm: the container's own tmpfs
);
const inventory = service('case "$path" in /reserve/*) i=${path#/reserve/}; echo "$i: $(wget -qO- http://$DB/take/$i) left";; *) echo ok;; esac');
const payment = service('case "$path" in /pay/*) echo "$(hostname) charged for $(wget -qO- http://$INVENTORY/reserve/${path#/pay/})";; *) echo ok;; esac');

/** GET a path from a service, with a deadline. */
function get(host: string, port: number, path: string, timeoutMs = 1000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => resolve(body.trim()));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

export async function main(log: Log = console.log) {
  const started = Date.now();
  const events: string[] = [];
  const event = (line: string) => {
    events.push(`[${((Date.now() - started) / 1000).toFixed(2)}s] ${line}`);
    log(events[events.length - 1]);
  };
  const net = await BridgeNetwork.create({ name: `${tag}m`, subnet: `10.234.${process.pid % 250}.0/24` });
  const containers = new Set<Container>();
  const start = async (name: string, args: string[], limits: Limits, env: Record<string, string> = {}) => {
    const c = await Container.create({ id: `${tag}-${name}`, rootfs, args, env, hostname: name, limits, network: { bridge: net }, stdio: 'ignore' });
    containers.add(c);
    await c.start();
    event(`started ${name} at ${c.network!.address} (memory ${limits.memory}, pids ${limits.pids}${limits.cpu ? `, cpu ${limits.cpu}` : ''})`);
    return c;
  };
  const healthy = async (c: Container) => (await get(c.network!.address, 80, '/health').catch(() => '')) === 'ok';
  const untilHealthy = async (c: Container) => {
    // A busy host can take seconds to start a service: wait up to 20 s, then say which one.
    for (const deadline = Date.now() + 20_000; !(await healthy(c)); await new Promise((r) => setTimeout(r, 50))) {
      if (Date.now() > deadline) throw new Error(`${c.id} does not answer /health after 20 s`);
    }
  };

  let balancer: ReturnType<typeof createServer> | undefined;
  let checker: NodeJS.Timeout | undefined;
  let checking: Promise<void> | null = null; // the health check in flight
  let stopping = false;
  try {
    const db = await start('database', database, { memory: '32m', pids: 16 });
    await untilHealthy(db);
    const inv = await start('inventory', inventory, { memory: '16m', pids: 16, cpu: 0.25 }, { DB: db.network!.address });
    await untilHealthy(inv);
    const paymentEnv = { INVENTORY: inv.network!.address };
    const replicas: Container[] = [];
    for (let i = 1; i <= 3; i++) replicas.push(await start(`payment-${i}`, payment, { memory: '16m', pids: 16, cpu: 0.5 }, paymentEnv));
    await Promise.all(replicas.map(untilHealthy));

    // One published port for the three replicas: round robin over the healthy ones.
    let next = 0;
    balancer = createServer((client) => {
      const target = replicas[next++ % replicas.length];
      const upstream = createConnection({ host: target.network!.address, port: 80 });
      client.pipe(upstream).pipe(client);
      upstream.on('error', () => client.destroy());
      client.on('error', () => upstream.destroy());
    });
    await new Promise<void>((r) => balancer!.listen(0, '127.0.0.1', r));
    const port = (balancer.address() as AddressInfo).port;
    event(`payment API published on 127.0.0.1:${port}`);

    // The health check: every 200 ms, a replica that does not answer /health
    // is deleted and replaced by a new one under the same name.
    let generation = 1;
    const replaced: { old: string; now: string }[] = [];
    const check = async () => {
      for (const [i, r] of replicas.entries()) {
        if (stopping || (await healthy(r))) continue;
        event(`health check: payment-${i + 1} (${r.id}) does not answer; replacing it`);
        const old = r.id;
        replicas.splice(i, 1, await start(`payment-${i + 1}-g${++generation}`, payment, { memory: '16m', pids: 16, cpu: 0.5 }, paymentEnv));
        await untilHealthy(replicas[i]);
        containers.delete(r);
        await r.delete({ force: true });
        replaced.push({ old, now: replicas[i].id });
        event(`health check: ${replicas[i].id} is healthy, ${old} deleted`);
      }
    };
    checker = setInterval(() => {
      if (checking || stopping) return;
      checking = check()
        .catch((e) => event(`health check failed: ${e.message}`))
        .finally(() => (checking = null));
    }, 200);

    const buy = async (n: number, item: string) => {
      const answers: string[] = [];
      for (let i = 0; i < n; i++) answers.push(await get('127.0.0.1', port, `/pay/${item}`, 3000));
      for (const a of answers) event(`GET /pay/${item} -> ${a}`);
      return answers;
    };
    const first = await buy(3, 'apples');

    await replicas[1].kill('SIGKILL');
    event(`killed payment-2 (${replicas[1].id}) with SIGKILL`);
    for (let i = 0; i < 200 && replaced.length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    const after = await buy(3, 'truffles');

    const limits = Object.fromEntries(await Promise.all([db, inv, ...replicas].map(async (c) => [c.id, (await c.stats()).memory.limit])));
    return { events, first, after, replaced, limits, port };
  } finally {
    stopping = true;
    clearInterval(checker);
    await checking; // let a check in flight finish before its containers go
    balancer?.close();
    for (const c of containers) await c.delete({ force: true }).catch(() => undefined);
    await net.delete();
  }
}

if (isEntry(import.meta.url)) await main();
