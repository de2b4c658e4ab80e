// In a scratch app that installed @ctr/runtime alone from the registry:
// a real container from CommonJS.
const { run } = require('@ctr/runtime');

run({ rootfs: process.env.CTR_ROOTFS, args: ['sh', '-c', 'echo $((6 * 7)) from $(hostname)'], hostname: 'rel-cjs' })
  .then((r) => {
    if (r.exitCode !== 0 || r.stdout !== '42 from rel-cjs\n') throw new Error(`container said ${JSON.stringify(r)}`);
    console.log(JSON.stringify({ check: 'runtime-cjs', stdout: r.stdout }));
  })
  .catch((e) => {
    console.error(e);
    process.exit(1);
  });
