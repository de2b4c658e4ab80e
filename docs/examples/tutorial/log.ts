/** Where a tutorial step prints: the console by default, a test's buffer or the demo's formatter otherwise. */
export type Log = (line: string) => void;

/** Run `main` when the file is executed directly (`npx tsx docs/examples/tutorial/1-namespaces.ts`). */
export function isEntry(url: string): boolean {
  return process.argv[1] !== undefined && new URL(url).pathname === process.argv[1];
}

/** A name nobody else on this host uses: every object a step creates is named with it. */
export const tag = `tut${process.pid % 100000}`;
