import { pino } from 'pino';
import { createServices, type Role, type Services } from '../../src/app/create-services.ts';
import { loadConfig, type Config } from '../../src/config.ts';
import { ApiClient } from '../../src/cli/api-client.ts';

export const IN_PROCESS_TOKEN = 'in-process-token-0123456789abcdef';

/** The whole service in the test process: port 0, no embedded influxd unless `env` asks for one. */
export async function startInProcess(options: {
  varDir: string;
  roles: Role[];
  env?: Record<string, string>;
  masterKey?: Buffer;
  /** Where playbooks are found and `inventories/` is written. Default: the repository. */
  rootDir?: string;
}): Promise<{ services: Services; config: Config; client: ApiClient }> {
  const config: Config = {
    ...loadConfig(
      {
        OUTPOST_VAR_DIR: options.varDir,
        OUTPOST_HTTP_PORT: '0',
        OUTPOST_API_TOKEN: IN_PROCESS_TOKEN,
        // Port 9 on loopback refuses at once: deploys cannot verify, nothing waits.
        OUTPOST_INFLUX_URL: 'http://127.0.0.1:9',
        OUTPOST_ALLOW_LOCAL_RUNS: '1',
        ...options.env,
      },
      options.rootDir,
    ),
    ...(options.masterKey ? { masterKey: options.masterKey } : {}),
  };
  const services = createServices(config, { roles: options.roles, logger: pino({ level: 'error' }) });
  await services.start();
  return { services, config, client: new ApiClient({ url: services.url ?? '', token: IN_PROCESS_TOKEN }) };
}
