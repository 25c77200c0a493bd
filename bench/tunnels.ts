// Bench 5, tunnels, on a lab proxy prepared as the ssh_proxy_node role would (GatewayPorts clientspecified):
//  - --connections concurrent TCP connections from a VPC VM to one remote forward held by the
//    TunnelKeeper (ensureRemoteForward), each echoing a message through it, all open at once; errors
//    counted.
//  - bulk throughput VM -> proxy listener -> tunnel -> a sink on this machine: the TunnelKeeper's remote
//    forward vs OpenSSH `ssh -N -R` on the same proxy and path, alternating, --rounds times each.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { TunnelKeeper } from '../src/tunnels/index.ts';
import { up, type Lab, type LabVm } from '../test/lab/lab.ts';
import {
  addCloudroot,
  makeKeypair,
  prepareProxySshd,
  tunnelProxyOf,
} from '../test/integration/tunnels/prepare-tunnel-lab.ts';
import { describeMachine, machineInfo } from './support/machine.ts';
import { printTable, readFlags, writeResult } from './support/report.ts';
import { round, spread, summarize } from './support/stats.ts';

const flags = readFlags({
  connections: 1000,
  mib: 256,
  rounds: 3,
  slot: Number(process.env.OUTPOST_LAB_SLOT ?? 0),
});
const machine = machineInfo();
console.log(`tunnels: lab slot ${flags.slot}; ${describeMachine(machine)}`);

const CONCURRENT_CLIENT = String.raw`
import asyncio, json, resource, sys, time
n, host, port = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
resource.setrlimit(resource.RLIMIT_NOFILE, (8192, 8192))
opened = asyncio.Event()
errors, ok, count = [], 0, 0
async def one(i):
    global ok, count
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 60)
        count += 1
        if count == n: opened.set()
        await asyncio.wait_for(opened.wait(), 60)
        msg = ('hello %05d\n' % i).encode()
        writer.write(msg)
        await writer.drain()
        got = await asyncio.wait_for(reader.readexactly(len(msg)), 60)
        if got != msg: raise Exception('echo mismatch')
        ok += 1
        writer.close()
    except Exception as e:
        errors.append(repr(e)[:200])
        count += 1
        if count == n: opened.set()
async def main():
    start = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(n)))
    print(json.dumps({'ok': ok, 'errors': len(errors), 'firstErrors': errors[:5], 'seconds': time.perf_counter() - start}))
asyncio.run(main())
`;

const BULK_CLIENT = String.raw`
import json, socket, sys, time
mib, host, port = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
chunk = b'\0' * (1 << 20)
start = time.perf_counter()
s = socket.create_connection((host, port), timeout=120)
for _ in range(mib): s.sendall(chunk)
s.shutdown(socket.SHUT_WR)
reply = b''
while not reply.endswith(b'\n'):
    data = s.recv(100)
    if not data: break
    reply += data
print(json.dumps({'seconds': time.perf_counter() - start, 'received': int(reply or b'0')}))
`;

/** A TCP echo server on loopback: the target of the concurrency test. */
async function startEcho(): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.pipe(socket);
  });
  server.maxConnections = 100_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: async () => {
      sockets.forEach((s) => s.destroy());
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A sink that counts bytes until the client half-closes, then answers the count. */
async function startSink(): Promise<{ port: number; close(): Promise<void> }> {
  const server = net.createServer((socket) => {
    let bytes = 0;
    socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
    socket.on('end', () => socket.end(`${bytes}\n`));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function runPython<T>(lab: Lab, vm: LabVm, script: string, args: (string | number)[]): Promise<T> {
  const result = await lab.exec(vm, `python3 - ${args.join(' ')}`, { input: script });
  if (result.exitCode !== 0) throw new Error(`python in ${vm.name} failed: ${result.stderr.slice(-2000)}`);
  return JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as T;
}

async function waitListening(lab: Lab, vm: LabVm, port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if ((await lab.exec(vm, `ss -Htln 'sport = :${port}'`)).stdout.trim() !== '') return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`nothing listens on ${vm.name}:${port}`);
}

const dir = await mkdtemp(path.join(os.tmpdir(), 'outpost-bench-tunnels-'));
const { privateKey, publicKey, keyFile } = await makeKeypair(dir);
const lab = await up({ slot: flags.slot, vpcs: 1, vmsPerVpc: 1, directVms: 0 });
const echo = await startEcho();
const sink = await startSink();
const keeper = new TunnelKeeper({ privateKey, healthCheckIntervalMs: 0 });
const results: Record<string, unknown> = {};
try {
  const proxyVm = lab.proxies()[0] as LabVm;
  const client = lab.targets()[0] as LabVm;
  await addCloudroot(lab, proxyVm, publicKey);
  await prepareProxySshd(lab, proxyVm);
  const proxy = tunnelProxyOf(proxyVm);
  const vpcAddress = proxyVm.vpcAddress as string;

  // Concurrency through one keeper remote forward.
  const echoForward = await keeper.ensureRemoteForward(proxy, {
    bindAddress: vpcAddress,
    bindPort: 19101,
    targetHost: '127.0.0.1',
    targetPort: echo.port,
  });
  const concurrent = await runPython<{ ok: number; errors: number; firstErrors: string[]; seconds: number }>(
    lab,
    client,
    CONCURRENT_CLIENT,
    [flags.connections, echoForward.bindAddress, echoForward.port],
  );
  results.concurrent = { connections: flags.connections, ...concurrent };
  printTable(`${flags.connections} concurrent connections through one TunnelKeeper remote forward`, [
    {
      connections: flags.connections,
      ok: concurrent.ok,
      errors: concurrent.errors,
      seconds: round(concurrent.seconds),
      firstError: concurrent.firstErrors[0] ?? '',
    },
  ]);

  // Bulk throughput: keeper forward vs OpenSSH -R, alternating.
  const keeperForward = await keeper.ensureRemoteForward(proxy, {
    bindAddress: vpcAddress,
    bindPort: 19102,
    targetHost: '127.0.0.1',
    targetPort: sink.port,
  });
  const knownHosts = path.join(dir, 'known_hosts');
  await writeFile(knownHosts, `${proxyVm.publicAddress ?? ''} ${proxyVm.hostKey}\n`);
  const opensshPort = 19103;
  const openssh = execa(
    'ssh',
    [
      '-N',
      '-F',
      '/dev/null',
      '-i',
      keyFile,
      '-o',
      'IdentitiesOnly=yes',
      '-o',
      'BatchMode=yes',
      '-o',
      `UserKnownHostsFile=${knownHosts}`,
      '-o',
      'StrictHostKeyChecking=yes',
      '-o',
      'ExitOnForwardFailure=yes',
      '-R',
      `${vpcAddress}:${opensshPort}:127.0.0.1:${sink.port}`,
      `cloudroot@${proxyVm.publicAddress ?? ''}`,
    ],
    { reject: false },
  );
  try {
    await waitListening(lab, proxyVm, opensshPort);
    const way = { keeper: [] as number[], openssh: [] as number[] };
    for (let r = 0; r < flags.rounds; r++) {
      for (const [name, port] of (r % 2 === 0
        ? [
            ['keeper', keeperForward.port],
            ['openssh', opensshPort],
          ]
        : [
            ['openssh', opensshPort],
            ['keeper', keeperForward.port],
          ]) as ['keeper' | 'openssh', number][]) {
        const bulk = await runPython<{ seconds: number; received: number }>(lab, client, BULK_CLIENT, [
          flags.mib,
          vpcAddress,
          port,
        ]);
        if (bulk.received !== flags.mib * 2 ** 20)
          throw new Error(`${name}: sink got ${bulk.received} bytes of ${flags.mib} MiB`);
        way[name].push(flags.mib / bulk.seconds);
        console.log(`  round ${r + 1} ${name}: ${round(flags.mib / bulk.seconds)} MiB/s`);
      }
    }
    const k = summarize(way.keeper);
    const o = summarize(way.openssh);
    results.bulk = {
      mib: flags.mib,
      keeperMiBps: way.keeper,
      opensshMiBps: way.openssh,
      ratioKeeperToOpenssh: k.p50 / o.p50,
    };
    printTable(
      `bulk ${flags.mib} MiB VM -> proxy -> this machine (MiB/s, ${flags.rounds} alternating rounds)`,
      [
        {
          way: 'TunnelKeeper (ssh2)',
          min: round(k.min),
          p50: round(k.p50),
          max: round(k.max),
          spread: round(spread(way.keeper)),
        },
        {
          way: 'OpenSSH ssh -R',
          min: round(o.min),
          p50: round(o.p50),
          max: round(o.max),
          spread: round(spread(way.openssh)),
        },
      ],
    );
    printTable('ratio', [{ keeperToOpensshP50: round(k.p50 / o.p50) }]);
  } finally {
    openssh.kill();
    await openssh;
  }
} finally {
  await keeper.close();
  await echo.close();
  await sink.close();
  await lab.down();
  await rm(dir, { recursive: true, force: true });
}
await writeResult('tunnels', machine, { flags, ...results });
