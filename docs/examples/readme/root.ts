import { spawn } from '@ctr/ns';

// `unshare --fork --pid --net --mount-proc sh`, from code
const child = spawn('sh', ['-c', 'ps; ip link'], {
  namespaces: ['pid', 'net', 'mnt'],
  mountProc: true,
  stdio: 'inherit',
});
const { exitCode } = await child.exited;
console.log('exit', exitCode);
