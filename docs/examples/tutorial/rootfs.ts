import { fileURLToPath } from 'node:url';

/** The busybox rootfs that `scripts/make-rootfs.sh` assembles from Debian's busybox-static. */
export const rootfs = process.env.CTR_ROOTFS_DIR ?? fileURLToPath(new URL('../../../.cache/rootfs/busybox', import.meta.url));
