import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from '../config.ts';
import type { ClientSettings } from './api-client.ts';

/** OUTPOST_URL (default http://127.0.0.1:<port>) and the token: OUTPOST_API_TOKEN or `<varDir>/api.token`. */
export function resolveClientSettings(
  env: Record<string, string | undefined>,
  config: Config,
): ClientSettings {
  const url = env.OUTPOST_URL || `http://127.0.0.1:${config.httpPort}`;
  let token = config.apiToken;
  if (!token) {
    try {
      token = readFileSync(path.join(config.varDir, 'api.token'), 'utf8').trim() || undefined;
    } catch {
      token = undefined;
    }
  }
  return { url, token };
}
