import { setSpawnMode, spawnMode, spawnerPid } from '@ctr/runtime';

setSpawnMode('fork'); // each process a fork of Node, as before (or CTR_SPAWN_MODE=fork)
spawnMode(); // 'spawner' | 'fork'
spawnerPid(); // the (oldest) spawner's pid once started, else undefined
