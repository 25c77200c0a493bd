import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';

describe('loadConfig', () => {
  it('gives working defaults when nothing is set', () => {
    const config = loadConfig({}, '/srv/outpost');
    expect(config.varDir).toBe('/srv/outpost/var');
    expect(config.httpPort).toBe(8740);
    expect(config.redisUrl).toBeUndefined();
    expect(config.workerConcurrency).toBe(4);
  });

  it('names the variable and quotes the bad value', () => {
    expect(() => loadConfig({ OUTPOST_HTTP_PORT: '80a' })).toThrow(/OUTPOST_HTTP_PORT: .*"80a"/);
    expect(() => loadConfig({ OUTPOST_REDIS_URL: 'http://x' })).toThrow(/OUTPOST_REDIS_URL: .*"http:"/);
    expect(() => loadConfig({ OUTPOST_LOG_LEVEL: 'loud' })).toThrow(/OUTPOST_LOG_LEVEL: .*"loud"/);
  });

  it('never echoes a malformed secret', () => {
    const attempt = () => loadConfig({ OUTPOST_API_TOKEN: 'short secret!' });
    expect(attempt).toThrow(/OUTPOST_API_TOKEN/);
    expect(attempt).not.toThrow(/short secret/);
  });

  it('accepts a 32-byte master key as hex and refuses other sizes', () => {
    expect(loadConfig({ OUTPOST_MASTER_KEY: 'ab'.repeat(32) }).masterKey?.length).toBe(32);
    expect(() => loadConfig({ OUTPOST_MASTER_KEY: 'abcd' })).toThrow(/OUTPOST_MASTER_KEY: expected 32 bytes/);
  });
});
