import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createSocket } from 'node:dgram';
import { connect, createServer, type Server } from 'node:net';
import { BridgeNetwork, NetNS, NetnsError, loopbackOnly, parsePorts } from '../src/index';
import { isRoot, skip, snapshot, leftovers, eventually } from '../../../test-support';

// Names unique to this process: ctt<pid>...; subnets 10.231.X.0/24 that
// exist only on our own test bridges.
const P = `ctt${process.pid % 100000}`;
const X = 20 + (process.pid % 200);
const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8' });

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    assert.instance(e, NetnsError);
    return (e as NetnsError).code;
  }
  return 'resolved';
}

/** Start `node -e script` inside the named namespace; resolves once it prints "ready". */
function inNs(ns: string, script: string): Promise<{ child: ChildProcess; out: () => string }> {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no ready from ${ns}: ${out}`)), 10000);
    child.stdout!.on('data', () => {
      if (out.includes('ready')) {
        clearTimeout(t);
        resolve({ child, out: () => out });
      }
    });
    child.on('exit', () => {
      clearTimeout(t);
      reject(new Error(`exited: ${out}`));
    });
  });
}

const echoServer = (host: string, port: number) =>
  `require('net').createServer(s=>s.on('data',d=>s.end('echo:'+d))).listen(${port},'${host}',()=>console.log('ready'))`;
/** A client that gives up after `ms`: prints `ready TIMEOUT` when its packets are dropped. */
const clientWithin = (host: string, port: number, ms: number) =>
  `const s=require('net').connect(${port},'${host}',()=>s.write('hi'));let b='';setTimeout(()=>{console.log('ready TIMEOUT');process.exit(2)},${ms});s.on('data',d=>b+=d);s.on('end',()=>{console.log('ready '+b);process.exit(0)});s.on('error',e=>{console.log('ready ERR '+e.code);process.exit(1)})`;
const client = (host: string, port: number) =>
  `const s=require('net').connect(${port},'${host}',()=>s.write('hi'));let b='';s.on('data',d=>b+=d);s.on('end',()=>{console.log('ready '+b);process.exit(0)});s.on('error',e=>{console.log('ready ERR '+e.code);process.exit(1)})`;

function hostRequest(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, host, () => s.write('hi'));
    let b = '';
    s.setTimeout(5000, () => s.destroy(new Error('timeout')));
    s.on('data', (d) => (b += d));
    s.on('end', () => resolve(b));
    s.on('error', reject);
  });
}

/**
 * A snapshot that counts the /run/netns mount itself as already there. On a
 * fresh machine (a test-vms guest, a new CI host) the first named namespace
 * makes /run/netns a shared bind mount of itself, exactly as `ip netns add`
 * does, and like iproute2 the library keeps it: it is shared infrastructure
 * for every user of named namespaces on the host, not an object of the test.
 * Mounts under it (the namespaces themselves) still count as leftovers.
 */
function netnsSnapshot(): ReturnType<typeof snapshot> {
  const s = snapshot();
  if (!s.mounts.includes('/run/netns')) s.mounts.push('/run/netns');
  return s;
}

function nftRuleset(): string {
  return sh('nft', ['list', 'ruleset']);
}

if (!isRoot) {
  skip('netns integration', 'needs root');
} else {
  test('a new named namespace has only a down lo; ip netns sees it; delete removes it', async () => {
    const before = netnsSnapshot();
    const ns = await NetNS.create(`${P}-a`);
    try {
      const links = await ns.links();
      assert.equal(links.map((l) => [l.name, l.up]), [['lo', false]]);
      assert.ok(sh('ip', ['netns', 'list']).split('\n').some((l) => l.startsWith(`${P}-a`)));
      assert.ok((await NetNS.list()).includes(`${P}-a`));
      await ns.loopbackUp();
      assert.ok((await ns.link('lo'))!.up);
      assert.match(sh('ip', ['-n', `${P}-a`, 'link', 'show', 'lo']), /state UNKNOWN|<LOOPBACK,UP/);
      const again = await NetNS.open(`${P}-a`);
      assert.is(again.inode, ns.inode);
      const byPath = await NetNS.open(`/run/netns/${P}-a`);
      assert.is(byPath.inode, ns.inode);
      again.close();
      byPath.close();
      assert.is(await code(NetNS.create(`${P}-a`)), 'ENETNS_EXISTS');
    } finally {
      await ns.delete();
    }
    assert.not.ok(existsSync(`/run/netns/${P}-a`));
    assert.not.ok(sh('ip', ['netns', 'list']).includes(`${P}-a`));
    assert.equal(leftovers(before), []);
  });

  test('host-network mode opens this process\'s namespace; loopback-only mode has just lo, up', async () => {
    const host = await NetNS.host();
    const lo = await loopbackOnly();
    try {
      assert.is(host.inode, statSync('/proc/self/ns/net').ino);
      assert.ok((await host.links()).some((l) => l.name === 'lo'));
      assert.is.not(lo.inode, host.inode);
      assert.equal((await lo.links()).map((l) => [l.name, l.up]), [['lo', true]]);
      const byPid = await NetNS.open({ pid: process.pid });
      assert.is(byPid.inode, host.inode);
      byPid.close();
    } finally {
      host.close();
      lo.close();
    }
  });

  test('bad input gives coded errors', async () => {
    assert.is(await code(NetNS.create('bad/name')), 'ENETNS_INVALID_NAME');
    assert.is(await code(NetNS.open(`${P}-nope`)), 'ENETNS_NOT_FOUND');
    assert.is(await code(NetNS.open('/proc/self/status')), 'ENETNS_NOT_NETNS');
    assert.is(await code(NetNS.open(-1)), 'ENETNS_INVALID_PID');
    assert.is(await code(NetNS.remove(`${P}-nope`)), 'ENETNS_NOT_FOUND');
    assert.is(await code(BridgeNetwork.create({ name: `${P}x`, subnet: '10.231.1.0/33' })), 'ENETNS_INVALID_SUBNET');
    assert.is(await code(BridgeNetwork.create({ name: `${P}x`, subnet: 'not-a-cidr' })), 'ENETNS_INVALID_SUBNET');
    assert.is(await code(BridgeNetwork.create({ name: 'a name with spaces', subnet: '10.231.1.0/24' })), 'ENETNS_INVALID_NAME');
    assert.is(await code(BridgeNetwork.create({ name: `${P}x`, subnet: '127.0.0.0/24' })), 'ENETNS_SUBNET_OVERLAP');
    assert.is(await code(BridgeNetwork.open(`${P}none`)), 'ENETNS_NETWORK_NOT_FOUND');
    const ns = await NetNS.create();
    try {
      assert.is(await code(ns.addAddress('lo', '10.0.0.1')), 'ENETNS_INVALID_ADDRESS');
      assert.is(await code(ns.up('nosuchlink')), 'ENETNS_LINK_NOT_FOUND');
      assert.is(await code(ns.createBridge('sixteen-chars-xx')), 'ENETNS_INVALID_NAME');
    } finally {
      ns.close();
    }
    ns.close();
    assert.is(await code(ns.links()), 'ENETNS_CLOSED');
  });

  test('links, addresses and routes inside anonymous namespaces; move by fd and pid', async () => {
    const a = await loopbackOnly();
    const b = await NetNS.create();
    try {
      assert.ok((await a.link('lo'))!.up);
      await a.createBridge('br0', { mtu: 1400 });
      await a.createVeth('va', 'vb', { mac: '02:00:00:00:aa:01' });
      await a.setLink('va', { master: 'br0', mtu: 1400, up: true });
      const va = (await a.link('va'))!;
      const br = (await a.link('br0'))!;
      assert.equal([va.master, va.mtu, va.mac, va.up, br.kind], [br.index, 1400, '02:00:00:00:aa:01', true, 'bridge']);
      await a.setLink('va', { master: null, name: 'vc' });
      assert.is((await a.link('vc'))!.master, null);
      await a.createMacvlan('mv0', 'vb');
      assert.is((await a.link('mv0'))!.kind, 'macvlan');
      await a.moveLink('vb', b);
      assert.is(await a.link('vb'), null);
      assert.ok(await b.link('vb'));
      await b.setLink('vb', { name: 'eth0', up: true });
      await b.addAddress('eth0', '10.231.250.2/24');
      await b.addAddress('eth0', 'fd00:231::2/64');
      const addrs = (await b.addresses('eth0')).map((x) => `${x.address}/${x.prefix}`);
      assert.ok(addrs.includes('10.231.250.2/24') && addrs.includes('fd00:231::2/64'), addrs.join());
      await b.addRoute({ gateway: '10.231.250.1' });
      await b.addRoute({ destination: '10.231.251.0/24', dev: 'eth0' });
      const routes = await b.routes();
      assert.ok(routes.some((r) => r.destination === null && r.gateway === '10.231.250.1'));
      assert.ok(routes.some((r) => r.destination === '10.231.251.0/24'));
      await b.deleteRoute({ gateway: '10.231.250.1' });
      assert.not.ok((await b.routes()).some((r) => r.destination === null && !r.v6));
      await b.deleteAddress('eth0', '10.231.250.2/24');
      assert.not.ok((await b.addresses('eth0')).some((x) => x.address === '10.231.250.2'));
      await a.deleteLink('vc');
      assert.is(await b.link('eth0'), null, 'the peer goes with its veth');
      // Moving by pid: into the namespace of a process (this one) and back.
      await a.createVeth('vp', 'vq');
      const host = await NetNS.host();
      await a.moveLink('vq', process.pid);
      const moved = await host.link('vq');
      assert.ok(moved, 'moved into the host namespace by pid');
      await host.moveLink('vq', a);
      assert.is(await host.link('vq'), null);
      host.close();
    } finally {
      a.close();
      b.close();
    }
  });

  test('bridged namespaces exchange TCP data, reach the gateway, and published ports forward from host loopback', async () => {
    const before = netnsSnapshot();
    const net = await BridgeNetwork.create({ name: `${P}n`, subnet: `10.231.${X}.0/24` });
    const nsA = await NetNS.create(`${P}-A`);
    const nsB = await NetNS.create(`${P}-B`);
    const children: ChildProcess[] = [];
    let gwServer: Server | undefined;
    const hostPort = 20000 + (process.pid % 20000);
    try {
      assert.is(net.gateway, `10.231.${X}.1`);
      assert.is(await code(BridgeNetwork.create({ name: `${P}o`, subnet: `10.231.${X}.128/25` })), 'ENETNS_SUBNET_OVERLAP');
      assert.is(await code(BridgeNetwork.create({ name: `${P}n`, subnet: '10.231.255.0/24' })), 'ENETNS_EXISTS');
      assert.is((await BridgeNetwork.open(`${P}n`)).subnet, `10.231.${X}.0/24`);
      const a = await net.attach(nsA, {
        ifname: 'eth0',
        ports: [
          { hostPort, containerPort: 8080 },
          { hostPort, containerPort: 5353, protocol: 'udp' },
        ],
      });
      const b = await net.attach(nsB, { ifname: 'eth0' });
      assert.is.not(a.address, b.address);
      assert.match(sh('ip', ['-n', `${P}-A`, 'addr', 'show', 'eth0']), `inet ${a.address}/24`);
      assert.match(sh('ip', ['-n', `${P}-A`, 'route']), `default via 10.231.${X}.1 dev eth0`);
      assert.match(sh('ip', ['link', 'show', 'master', `${P}n`]), a.hostIfname);
      assert.match(nftRuleset(), `table ip ctr-${P}n`);

      // A server in A, a client in B.
      const srv = await inNs(`${P}-A`, echoServer('0.0.0.0', 8080));
      children.push(srv.child);
      const cli = await inNs(`${P}-B`, client(a.address, 8080));
      children.push(cli.child);
      assert.match(cli.out(), 'ready echo:hi');

      // B reaches the gateway: a server on the host bound to the gateway address.
      gwServer = createServer((s) => s.on('data', (d) => s.end('gw:' + d)));
      await new Promise<void>((r) => gwServer!.listen(0, net.gateway, r));
      const gwPort = (gwServer.address() as { port: number }).port;
      const gw = await inNs(`${P}-B`, client(net.gateway, gwPort));
      children.push(gw.child);
      assert.match(gw.out(), 'ready gw:hi');

      // The published port, from the host's loopback and from another namespace.
      assert.is(await hostRequest('127.0.0.1', hostPort), 'echo:hi');
      const hair = await inNs(`${P}-B`, client(net.gateway, hostPort));
      children.push(hair.child);
      assert.match(hair.out(), 'ready echo:hi');

      // UDP: a datagram to the host's loopback comes back from the namespace.
      const udp = await inNs(
        `${P}-A`,
        `const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send('udp:'+m,r.port,r.address));s.bind(5353,()=>console.log('ready'))`,
      );
      children.push(udp.child);
      const reply = await new Promise<string>((resolve, reject) => {
        const s = createSocket('udp4');
        const t = setTimeout(() => (s.close(), reject(new Error('no udp reply'))), 5000);
        s.on('message', (m) => (clearTimeout(t), s.close(), resolve(String(m))));
        s.send('ping', hostPort, '127.0.0.1');
      });
      assert.is(reply, 'udp:ping');

      // Publishing the same host port again is refused.
      const nsC = await NetNS.create();
      assert.is(await code(net.attach(nsC, { ports: [{ hostPort, containerPort: 1 }] })), 'ENETNS_PORT_IN_USE');
      assert.is(await code(net.attach(nsC, { ports: [{ hostPort: 70000, containerPort: 1 }] })), 'ENETNS_INVALID_PORT');
      nsC.close();
      assert.is((await net.attachments()).length, 2);

      await net.detach(a);
      assert.not.match(nftRuleset(), `${hostPort} :`);
      assert.is(await nsA.link('eth0'), null);
      const after = await hostRequest('127.0.0.1', hostPort).then(() => 'connected', (e: NodeJS.ErrnoException) => e.code);
      assert.is(after, 'ECONNREFUSED');
    } finally {
      for (const c of children) c.kill('SIGKILL');
      gwServer?.close();
      await net.delete().catch(() => {});
      await nsA.delete().catch(() => {});
      await nsB.delete().catch(() => {});
    }
    // Nothing left: link, address, route, nft table, lease, namespace.
    const host = await NetNS.host();
    try {
      const links = await host.links();
      assert.not.ok(links.some((l) => l.name === `${P}n`), 'bridge gone');
      assert.not.ok((await host.addresses()).some((x) => x.address.startsWith(`10.231.${X}.`)), 'address gone');
      assert.not.ok((await host.routes()).some((r) => r.destination === `10.231.${X}.0/24`), 'route gone');
    } finally {
      host.close();
    }
    assert.not.match(nftRuleset(), `ctr-${P}n`);
    assert.not.ok(existsSync(`/run/ctr/netns/${P}n`));
    assert.not.ok(sh('ip', ['netns', 'list']).includes(`${P}-`));
    assert.ok(await eventually(() => leftovers(before).length === 0, 5000), leftovers(before).join('; '));
  });

  test('prune() frees the lease and ports of a namespace that died without detach; a full subnet reaps by itself', async () => {
    const before = netnsSnapshot();
    // A /30 holds the gateway and one address: a stale lease blocks it.
    const net = await BridgeNetwork.create({ name: `${P}r`, subnet: `10.230.${X}.0/30` });
    const hostPort = 40000 + (process.pid % 20000);
    try {
      const ns1 = await NetNS.create(`${P}-R1`);
      const a = await net.attach(ns1, { ports: [{ hostPort, containerPort: 80 }] });
      assert.match(nftRuleset(), `${hostPort} :`);
      assert.equal(await net.prune(), [], 'a live attachment is not stale');
      // The namespace goes away without a detach (its owner crashed): the
      // kernel removes the veth pair, the lease and the port stay.
      await ns1.delete();
      assert.ok(await eventually(() => !sh('ip', ['-o', 'link']).includes(a.hostIfname), 5000), 'veth gone with its namespace');
      assert.is((await net.attachments()).length, 1);
      const reaped = await net.prune();
      assert.equal(reaped.map((x) => [x.id, x.address]), [[a.id, a.address]]);
      assert.not.match(nftRuleset(), `${hostPort} :`);
      assert.is((await net.attachments()).length, 0);

      // Again, but now the next attach finds the subnet full and reaps itself.
      const ns2 = await NetNS.create(`${P}-R2`);
      const b = await net.attach(ns2);
      await ns2.delete();
      await eventually(() => !sh('ip', ['-o', 'link']).includes(b.hostIfname), 5000);
      const ns3 = await NetNS.create(`${P}-R3`);
      try {
        const c = await net.attach(ns3);
        assert.is(c.address, b.address);
        assert.match(sh('ip', ['-n', `${P}-R3`, 'addr', 'show', 'eth0']), `inet ${c.address}/30`);
        await net.detach(c);
      } finally {
        await ns3.delete().catch(() => {});
      }
    } finally {
      await net.delete().catch(() => {});
    }
    assert.not.ok(sh('ip', ['netns', 'list']).includes(`${P}-R`));
    assert.not.ok(existsSync(`/run/ctr/netns/${P}r`));
    assert.ok(await eventually(() => leftovers(before).length === 0, 5000), leftovers(before).join('; '));
  });
  test('an anonymous namespace has a path other tools use while it is open; close removes it; a killed owner\'s path is swept', async () => {
    const before = netnsSnapshot();
    const ns = await NetNS.create();
    const path = ns.path!;
    try {
      assert.ok(path, 'an anonymous namespace has a path');
      assert.ok(path.startsWith(join(BridgeNetwork.stateRoot, '.anon') + '/'), path);
      assert.is(statSync(path).ino, ns.inode, 'the path is the namespace');
      await ns.createVeth(`${P}q0`, `${P}q1`);
      // Another process enters the namespace by the path and sees its links.
      const seen = sh('nsenter', [`--net=${path}`, 'ip', '-o', 'link']);
      assert.match(seen, `${P}q0`);
      assert.not.match(sh('ip', ['-o', 'link']), `${P}q0`, 'not on the host');
      const again = await NetNS.open(path);
      assert.is(again.inode, ns.inode);
      again.close();
    } finally {
      ns.close();
    }
    assert.not.ok(existsSync(path), 'path removed at close');
    assert.is(ns.path, undefined);
    assert.not.match(readFileSync('/proc/self/mountinfo', 'utf8'), path);
    const r = spawnSync('nsenter', [`--net=${path}`, 'true']);
    assert.is.not(r.status, 0, 'nsenter by a closed path fails');

    // A process killed before close() leaves its path; the next anonymous create removes it.
    const dist = join(__dirname, '../dist/index.cjs');
    const child = spawn(process.execPath, ['-e', `require(${JSON.stringify(dist)}).NetNS.create().then((n)=>{console.log(n.path);setInterval(()=>{},1000)})`], { stdio: ['ignore', 'pipe', 'inherit'] });
    const leftPath = await new Promise<string>((res) => child.stdout!.on('data', (d: Buffer) => res(String(d).trim())));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));
    assert.ok(existsSync(leftPath), 'the killed owner left its path');
    const next = await NetNS.create();
    next.close();
    assert.not.ok(existsSync(leftPath), 'swept by the next create');
    assert.not.match(readFileSync('/proc/self/mountinfo', 'utf8'), leftPath);
    assert.ok(await eventually(() => leftovers(before).length === 0, 5000), leftovers(before).join('; '));
    const mine = readdirSync(join(BridgeNetwork.stateRoot, '.anon')).filter((f) => f.startsWith(`${process.pid}-`));
    assert.equal(mine, [], 'no path of this process left');
  });

  test('published ports are { hostPort, containerPort, protocol? }: old spellings and wrong shapes are coded errors naming the field', async () => {
    assert.equal(parsePorts([{ hostPort: 8080, containerPort: 80 }]), [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }]);
    assert.equal(parsePorts(undefined), []);
    const bad = (ports: unknown): NetnsError => {
      try {
        parsePorts(ports);
      } catch (e) {
        assert.instance(e, NetnsError);
        return e as NetnsError;
      }
      throw new Error(`accepted ${JSON.stringify(ports)}`);
    };
    let e = bad([{ host: 8080, container: 80 }]);
    assert.is(e.code, 'ENETNS_RENAMED_OPTION');
    assert.is(e.path, 'ports[0].host');
    assert.match(e.message, 'use hostPort');
    e = bad([{ hostPort: 8080, container: 80 }]);
    assert.equal([e.code, e.path], ['ENETNS_RENAMED_OPTION', 'ports[0].container']);
    assert.match(e.message, 'use containerPort');
    assert.is(bad([{ hostPort: 8080, containerPort: 80, hostIp: '127.0.0.1' }]).code, 'ENETNS_INVALID_PORT');
    assert.is(bad([{ hostPort: 8080, containerPort: 80, hostIp: '127.0.0.1' }]).path, 'ports[0].hostIp');
    assert.is(bad([{ hostPort: 8080, containerPort: 80, colour: 1 }]).path, 'ports[0].colour');
    assert.is(bad([{ hostPort: '8080', containerPort: 80 }]).path, 'ports[0].hostPort');
    assert.is(bad([{ hostPort: 8080 }]).path, 'ports[0].containerPort');
    assert.is(bad([{ hostPort: 8080, containerPort: 80 }, { hostPort: 0, containerPort: 80 }]).path, 'ports[1].hostPort');
    assert.is(bad([{ hostPort: 8080, containerPort: 80, protocol: 'sctp' }]).path, 'ports[0].protocol');
    assert.is(bad({ hostPort: 8080, containerPort: 80 }).path, 'ports');
    assert.is(bad([8080]).path, 'ports[0]');
    // Through attach: refused before anything is made (no napi InvalidArg).
    const net = await BridgeNetwork.create({ name: `${P}v`, subnet: `10.227.${X}.0/24` });
    const ns = await NetNS.create();
    try {
      const err = await net.attach(ns, { ports: [{ host: 8080, container: 80 } as never] }).catch((x: unknown) => x);
      assert.instance(err, NetnsError);
      assert.equal([(err as NetnsError).code, (err as NetnsError).path], ['ENETNS_RENAMED_OPTION', 'ports[0].host']);
      assert.equal(await net.attachments(), []);
      assert.is(await ns.link('eth0'), null);
    } finally {
      ns.close();
      await net.delete();
    }
  });

  test('two networks are isolated from each other (TCP to the other bridge\'s addresses is dropped) until connect(); inside a network traffic flows', async () => {
    const before = netnsSnapshot();
    const net1 = await BridgeNetwork.create({ name: `${P}i1`, subnet: `10.229.${X}.0/24` });
    const net2 = await BridgeNetwork.create({ name: `${P}i2`, subnet: `10.228.${X}.0/24` });
    const names = [`${P}-I1`, `${P}-I2`, `${P}-I3`];
    const [nsA, nsA2, nsB] = await Promise.all(names.map((n) => NetNS.create(n)));
    const children: ChildProcess[] = [];
    const run = async (ns: string, script: string) => {
      const r = await inNs(ns, script);
      children.push(r.child);
      return r.out();
    };
    try {
      const a = await net1.attach(nsA);
      await net1.attach(nsA2);
      const b = await net2.attach(nsB);
      await run(names[0], echoServer('0.0.0.0', 8080));
      await run(names[2], echoServer('0.0.0.0', 8080));
      // Same network: A2 reaches A.
      assert.match(await run(names[1], clientWithin(a.address, 8080, 5000)), 'ready echo:hi');
      // Across networks, both ways: dropped.
      assert.match(await run(names[0], clientWithin(b.address, 8080, 1500)), 'ready TIMEOUT');
      assert.match(await run(names[2], clientWithin(a.address, 8080, 1500)), 'ready TIMEOUT');
      // The rule lives in the networks' own tables.
      assert.match(sh('nft', ['list', 'chain', 'ip', `ctr-${P}i2`, 'forward']), `oifname "${P}i2" drop`);
      // Connected: the host routes between them (the drop was the rule, not a missing route).
      await net1.connect(net2);
      await net1.connect(`${P}i2`); // idempotent
      assert.match(await run(names[0], clientWithin(b.address, 8080, 5000)), 'ready echo:hi');
      assert.match(await run(names[2], clientWithin(a.address, 8080, 5000)), 'ready echo:hi');
      await net2.disconnect(net1);
      await net2.disconnect(net1); // idempotent
      assert.match(await run(names[0], clientWithin(b.address, 8080, 1500)), 'ready TIMEOUT');
      assert.is(await code(net1.connect(net1)), 'ENETNS_INVALID_OPTION');
    } finally {
      for (const c of children) c.kill('SIGKILL');
      await net1.delete().catch(() => {});
      await net2.delete().catch(() => {});
      for (const n of names) await NetNS.remove(n).catch(() => {});
    }
    assert.not.match(nftRuleset(), `ctr-${P}i`);
    assert.ok(await eventually(() => leftovers(before).length === 0, 5000), leftovers(before).join('; '));
  });
}

test.run();
