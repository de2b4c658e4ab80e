#!/usr/bin/env node
// Write the busybox rootfs (.cache/rootfs/busybox, from scripts/make-rootfs.sh)
// as an OCI image layout tar that `ctr images import` and `podman load` both
// accept: one uncompressed layer tar + image config + manifest + index, every
// blob named by its sha256. No registry is reachable, so this is how the
// engines get an image. Deterministic (fixed mtimes, sorted entries, owner
// root) and cached: rewritten only when the rootfs stamp changes.
//
// usage: node scripts/make-oci-image.mjs [rootfs] [out.tar]
// Prints the path of the archive. Image name: localhost/ctrtest-busybox:latest.
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const IMAGE_NAME = 'localhost/ctrtest-busybox:latest';
const FORMAT = 'ctr-oci-image v1';

/** One ustar header block (512 bytes) for `name`. */
export function header(name, { mode, size = 0, type, linkname = '' }) {
  const h = Buffer.alloc(512);
  let prefix = '';
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', 154);
    prefix = name.slice(0, cut);
    name = name.slice(cut + 1);
  }
  if (Buffer.byteLength(name) > 100 || Buffer.byteLength(prefix) > 155 || Buffer.byteLength(linkname) > 100) {
    throw new Error(`make-oci-image: path too long for ustar: ${prefix}/${name} -> ${linkname}`);
  }
  const oct = (n, len) => n.toString(8).padStart(len - 1, '0') + '\0';
  h.write(name, 0, 100);
  h.write(oct(mode & 0o7777, 8), 100);
  h.write(oct(0, 8), 108); // uid
  h.write(oct(0, 8), 116); // gid
  h.write(oct(size, 12), 124);
  h.write(oct(0, 12), 136); // mtime: fixed, so the digest is stable
  h.write('        ', 148); // checksum placeholder
  h.write(type, 156);
  h.write(linkname, 157, 100);
  h.write('ustar\0', 257);
  h.write('00', 263);
  h.write('root', 265);
  h.write('root', 297);
  h.write(prefix, 345, 155);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return h;
}

export const pad = (n) => Buffer.alloc((512 - (n % 512)) % 512);

/** A tar of `root`'s tree (dirs, regular files, symlinks), paths relative. */
export function tarTree(root) {
  const parts = [];
  const walk = (rel) => {
    const abs = rel ? join(root, rel) : root;
    for (const name of readdirSync(abs).sort()) {
      if (!rel && name.startsWith('.ctr-')) continue; // our stamps are not image content
      const r = rel ? `${rel}/${name}` : name;
      const st = lstatSync(join(root, r));
      if (st.isDirectory()) {
        parts.push(header(`${r}/`, { mode: st.mode, type: '5' }));
        walk(r);
      } else if (st.isSymbolicLink()) {
        parts.push(header(r, { mode: 0o777, type: '2', linkname: readlinkSync(join(root, r)) }));
      } else if (st.isFile()) {
        const data = readFileSync(join(root, r));
        parts.push(header(r, { mode: st.mode, size: data.length, type: '0' }), data, pad(data.length));
      }
      // sockets, fifos and devices are not part of the busybox rootfs
    }
  };
  walk('');
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

const sha = (b) => createHash('sha256').update(b).digest('hex');
const json = (v) => Buffer.from(JSON.stringify(v));

/**
 * The stamp text of the layout made from `rootfs` (its own stamp, after
 * `format`), or an error naming `who` when the rootfs is not built.
 */
export function rootfsStamp(rootfs, format, who) {
  const stampFile = join(rootfs, '.ctr-rootfs-stamp');
  if (!existsSync(stampFile)) throw new Error(`${who}: ${rootfs} is not built (run bash scripts/make-rootfs.sh)`);
  return `${format} ${readFileSync(stampFile, 'utf8').trim()}`;
}

/** Whether `out` was written from the inputs `stamp` names. */
export const isCurrent = (out, stamp) => existsSync(out) && existsSync(`${out}.stamp`) && readFileSync(`${out}.stamp`, 'utf8') === stamp;

/**
 * Write an OCI image layout tar at `out` (whole: renamed into place, then
 * `stamp` into `out.stamp`): one `layer` shared by every image of `images`
 * (`{ name, cmd, createdBy }`), each with its own config and manifest, all
 * named in the index. Deterministic: the same inputs give the same bytes.
 */
export function writeImageLayout(out, layer, images, stamp) {
  const layerDigest = `sha256:${sha(layer)}`;
  const blobs = [layer];
  const manifests = images.map(({ name, cmd, createdBy }) => {
    const config = json({
      created: '1970-01-01T00:00:00Z',
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: cmd, WorkingDir: '/' },
      rootfs: { type: 'layers', diff_ids: [layerDigest] },
      history: [{ created: '1970-01-01T00:00:00Z', created_by: createdBy }],
    });
    const manifest = json({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha(config)}`, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layer.length }],
    });
    blobs.push(config, manifest);
    return {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: `sha256:${sha(manifest)}`,
      size: manifest.length,
      platform: { architecture: 'amd64', os: 'linux' },
      annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': name },
    };
  });
  const index = json({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests });
  const files = [
    ['oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}')],
    ['index.json', index],
    ['blobs/', null],
    ['blobs/sha256/', null],
    ...blobs.map((b) => [`blobs/sha256/${sha(b)}`, b]),
  ];
  const parts = [];
  for (const [name, data] of files) {
    if (data === null) parts.push(header(name, { mode: 0o755, type: '5' }));
    else parts.push(header(name, { mode: 0o644, size: data.length, type: '0' }), data, pad(data.length));
  }
  parts.push(Buffer.alloc(1024));
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.tmp.${process.pid}`;
  writeFileSync(tmp, Buffer.concat(parts));
  renameSync(tmp, out);
  writeFileSync(`${out}.stamp`, stamp);
  return out;
}

/** Build the OCI layout tar of `rootfs` at `out` unless it is current. */
export function makeOciImage(rootfs = join(repo, '.cache/rootfs/busybox'), out = join(repo, '.cache/images/busybox-oci.tar')) {
  const want = rootfsStamp(rootfs, FORMAT, 'make-oci-image');
  if (isCurrent(out, want)) return out;
  const image = { name: IMAGE_NAME, cmd: ['sh'], createdBy: 'ctr scripts/make-oci-image.mjs (busybox-static)' };
  return writeImageLayout(out, tarTree(rootfs), [image], want);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.stdout.write(`${makeOciImage(process.argv[2] && resolve(process.argv[2]), process.argv[3] && resolve(process.argv[3]))}\n`);
}
