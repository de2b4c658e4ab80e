import { hostInfo } from '@ctr/runtime';
hostInfo(); // { ociVersion: '1.2.0', namespaces: [...], cgroupMode: 'hybrid' }
