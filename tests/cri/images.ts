// The two images of the CRI tier, as one OCI image layout tar for
// `ctr -n k8s.io images import`: the busybox rootfs (scripts/make-rootfs.sh,
// from Debian's busybox-static) as the containers' image, and the same
// layer with another config as the pod sandbox ("pause") image. No registry
// is reachable, so the layout (layer tar, configs, manifests, index) is
// written here, deterministic and cached like scripts/make-oci-image.mjs.
import { join, resolve } from 'node:path';
// @ts-expect-error plain ESM script without types
import { isCurrent, rootfsStamp, tarTree, writeImageLayout } from '../../scripts/make-oci-image.mjs';

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

/** Build (or reuse) the layout tar; returns its path. */
export function makeCriImages(rootfs = join(repo, '.cache/rootfs/busybox'), out = join(repo, '.cache/images/cri-images.tar')): string {
  const want = `${rootfsStamp(rootfs, FORMAT, 'cri images')} ${JSON.stringify(PAUSE_CMD)}`;
  if (isCurrent(out, want)) return out;
  const createdBy = 'ctr tests/cri/images.ts (busybox-static)';
  const images = [
    { name: BUSYBOX_IMAGE, cmd: ['sh'], createdBy },
    { name: PAUSE_IMAGE, cmd: PAUSE_CMD, createdBy },
  ];
  return writeImageLayout(out, tarTree(rootfs), images, want);
}
