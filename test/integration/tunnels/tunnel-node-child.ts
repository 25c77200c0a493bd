// A tunnel node in its own process, for the two-node lease test: config in TUNNEL_NODE_CONFIG (JSON),
// one JSON log line per event on stdout, SIGTERM stops it cleanly.
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { runTunnelNode, type WantedTunnels } from '../../../src/tunnels/run-tunnel-node.ts';
import type { TunnelLogger } from '../../../src/tunnels/tunnel-types.ts';

const config = JSON.parse(process.env.TUNNEL_NODE_CONFIG ?? '{}') as {
  redisUrl: string;
  keyPrefix: string;
  nodeId: string;
  keyFile: string;
  leaseTtlMs: number;
  wanted: WantedTunnels[];
};
const line = (level: string) => (obj: object, msg: string) =>
  process.stdout.write(`${JSON.stringify({ level, msg, ...obj, time: new Date().toISOString() })}\n`);
const logger: TunnelLogger = {
  debug: () => {},
  info: line('info'),
  warn: line('warn'),
  error: line('error'),
};
const redis = new Redis(config.redisUrl);
const node = runTunnelNode({
  redis,
  keyPrefix: config.keyPrefix,
  nodeId: config.nodeId,
  privateKey: readFileSync(config.keyFile),
  leaseTtlMs: config.leaseTtlMs,
  listWanted: () => Promise.resolve(config.wanted),
  logger,
});
process.once('SIGTERM', () => {
  void node.stop().finally(() => {
    redis.disconnect();
    process.exit(0);
  });
});
