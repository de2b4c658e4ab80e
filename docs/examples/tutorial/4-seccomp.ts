import { run } from '@ctr/ns';
import { Profile, dockerDefault, spawnOptions, syscallNames } from '@ctr/seccomp';
import { isEntry, type Log } from './log.js';

// (4) Seccomp. Docker's default profile is an allow list: count what it
// blocks, ask it about one call, then write a profile of our own whose rule
// looks at an argument.
export async function main(log: Log = console.log) {
  // Docker's default.json, resolved for Docker's default capabilities on this arch.
  const docker = Profile.fromDocker(dockerDefault());
  const allowed = new Set<string>();
  const conditional = new Set<string>();
  for (const rule of docker.json.syscalls ?? []) {
    if (rule.action !== 'SCMP_ACT_ALLOW') continue;
    for (const name of rule.names) (rule.args?.length ? conditional : allowed).add(name);
  }
  const all = syscallNames('x86_64');
  const blocked = all.filter((n) => !allowed.has(n) && !conditional.has(n));
  const onlySome = all.filter((n) => !allowed.has(n) && conditional.has(n));
  log(`docker default: of ${all.length} x86_64 system calls, ${blocked.length} always blocked, ${onlySome.length} allowed only for some arguments (${onlySome.join(', ')})`);
  const reboot = docker.evaluate({ syscall: 'reboot' });
  log(`evaluate(reboot) -> ${reboot.action} errno ${reboot.errno} (rule ${reboot.rule}: the default action)`);

  // Our own, an allow list too: every call but personality(2), and that one
  // only to query (0xffffffff) or to select plain PER_LINUX (0).
  const custom = Profile.fromOCI({
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: 1,
    syscalls: [
      { names: all.filter((n) => n !== 'personality'), action: 'SCMP_ACT_ALLOW' },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, op: 'SCMP_CMP_EQ' }] },
      { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0xffffffff, op: 'SCMP_CMP_EQ' }] },
    ],
  });
  const verdict = (persona: number) => custom.evaluate({ syscall: 'personality', args: [persona] });
  log(`evaluate(personality(0)) -> ${verdict(0).action}; evaluate(personality(8 = PER_LINUX32)) -> ${verdict(8).action} errno ${verdict(8).errno}`);

  // And for real: setarch calls personality(2), then execs uname.
  const program = await custom.compile();
  const allowedRun = await run('setarch', ['x86_64', 'uname', '-m'], spawnOptions(program));
  const refusedRun = await run('setarch', ['i686', 'uname', '-m'], spawnOptions(program));
  log(`$ setarch x86_64 uname -m  -> exit ${allowedRun.exitCode}: ${allowedRun.stdout.trim()}`);
  log(`$ setarch i686 uname -m    -> exit ${refusedRun.exitCode}: ${refusedRun.stderr.trim()}`);
  return { total: all.length, blocked, onlySome, reboot, verdicts: { linux: verdict(0), linux32: verdict(8) }, allowedRun, refusedRun };
}

if (isEntry(import.meta.url)) await main();
