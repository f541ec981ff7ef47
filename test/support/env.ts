// A complete Environment value for pure tests, with overrides.
import { envName, type Environment } from '../../src/domain/index.js';

export function makeEnv(name: string, partial: Partial<Environment> = {}): Environment {
  return {
    name: (name === 'devops' ? name : envName(name)) as Environment['name'],
    provider: 'k3d',
    subnet: '10.101.0.0/16',
    nodePort: 30080,
    pfPort: 19000,
    httpPort: 18090,
    httpsPort: 18443,
    serverIp: null,
    status: 'ready',
    registerPortainer: true,
    haproxyRoute: true,
    servers: 1,
    agents: 0,
    nodeCpus: null,
    nodeMemoryMib: null,
    requestedBy: null,
    sourceUrl: null,
    expiresAt: null,
    pinned: false,
    labels: {},
    site: 'local',
    source: null,
    deployed: null,
    createdAt: new Date('2026-01-01T00:00:00Z'),
    updatedAt: new Date('2026-01-01T00:00:00Z'),
    ...partial,
  };
}
