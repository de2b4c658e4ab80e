// The two images of the CRI tier, as one OCI image layout tar for
// `ctr -n k8s.io images import`: the busybox rootfs (scripts/make-rootfs.sh,
// from Debian's busybox-static) as the containers' image, and the same
// layer with another config as the pod sandbox ("pause") image. No registry
// is reachable, so the layout (layer tar, configs, manifests, index) is
// written here, deterministic and cached like scripts/make-oci-image.mjs.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
// @ts-expect-error plain ESM script without types
import { header, pad, tarTree } from '../../scripts/make-oci-image.mjs';

const repo = resolve(new URL('../..', import.meta.url).pathname);
/** The containers' image (the name the manifests in docs/examples/kubernetes use). */
export const BUSYBOX_IMAGE = 'localhost/ctrtest-busybox:latest';
/** The pod sandbox image (`sandbox_image` in the containerd config). */
export const PAUSE_IMAGE = 'localhost/ctrtest-pause:latest';
const FORMAT = 'ctr-cri-images v1';

/**
 * What the sandbox container runs: it only holds the pod's namespaces. It
 * exits on TERM or INT (as pid 1 it would otherwise ignore them).
 */
const PAUSE_CMD = ['sh', '-c', 'trap "exit 0" TERM INT; while :; do sleep 3600 & wait $!; done'];

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

/** Build (or reuse) the layout tar; returns its path. */
export function makeCriImages(rootfs = join(repo, '.cache/rootfs/busybox'), out = join(repo, '.cache/images/cri-images.tar')): string {
  const stampFile = join(rootfs, '.ctr-rootfs-stamp');
  if (!existsSync(stampFile)) throw new Error(`cri images: ${rootfs} is not built (run bash scripts/make-rootfs.sh)`);
  const want = `${FORMAT} ${readFileSync(stampFile, 'utf8').trim()} ${JSON.stringify(PAUSE_CMD)}`;
  if (existsSync(out) && existsSync(`${out}.stamp`) && readFileSync(`${out}.stamp`, 'utf8') === want) return out;

  const layer: Buffer = tarTree(rootfs);
  const layerDigest = `sha256:${sha(layer)}`;
  const blobs: Buffer[] = [layer];
  const manifests = [
    { name: BUSYBOX_IMAGE, cmd: ['sh'] },
    { name: PAUSE_IMAGE, cmd: PAUSE_CMD },
  ].map(({ name, cmd }) => {
    const config = json({
      created: '1970-01-01T00:00:00Z',
      architecture: 'amd64',
      os: 'linux',
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: cmd, WorkingDir: '/' },
      rootfs: { type: 'layers', diff_ids: [layerDigest] },
      history: [{ created: '1970-01-01T00:00:00Z', created_by: 'ctr tests/cri/images.ts (busybox-static)' }],
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
  const files: [string, Buffer | null][] = [
    ['oci-layout', Buffer.from('{"imageLayoutVersion":"1.0.0"}')],
    ['index.json', index],
    ['blobs/', null],
    ['blobs/sha256/', null],
    ...blobs.map((b): [string, Buffer] => [`blobs/sha256/${sha(b)}`, b]),
  ];
  const parts: Buffer[] = [];
  for (const [name, data] of files) {
    if (data === null) parts.push(header(name, { mode: 0o755, type: '5' }));
    else parts.push(header(name, { mode: 0o644, size: data.length, type: '0' }), data, pad(data.length));
  }
  parts.push(Buffer.alloc(1024));
  mkdirSync(dirname(out), { recursive: true });
  const tmp = `${out}.tmp.${process.pid}`;
  writeFileSync(tmp, Buffer.concat(parts));
  renameSync(tmp, out);
  writeFileSync(`${out}.stamp`, want);
  return out;
}
