/**
 * A real ClickHouse server for tests and benchmarks: Debian's `clickhouse-server` started by hand
 * on loopback, with a generated config.xml / users.xml in a fresh temporary directory (data,
 * logs, tmp), on random free ports. It can be stopped and started again on the same ports and
 * data (to test outages), and is always killed and removed by dispose().
 *
 * Users: `default` without password (loopback only) plus any users given, with passwords.
 * With `tls: true` it also serves HTTPS with a self-signed certificate for 127.0.0.1 made by
 * openssl (the certificate file doubles as the CA file a client trusts).
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const BINARY_CANDIDATES = ['/usr/sbin/clickhouse-server', '/usr/bin/clickhouse-server', '/usr/bin/clickhouse'];

/** The server binary, or undefined when ClickHouse is not installed. */
export function clickHouseServerBinary(): string | undefined {
  return BINARY_CANDIDATES.find((p) => existsSync(p));
}

export interface ClickHouseTestUser {
  readonly name: string;
  readonly password: string;
}

export interface ClickHouseTestServer {
  readonly httpPort: number;
  readonly tcpPort: number;
  /** http://127.0.0.1:<httpPort> */
  readonly url: string;
  /** https://127.0.0.1:<port> when started with tls. */
  readonly httpsUrl?: string;
  /** PEM of the server's self-signed certificate (trust it as the CA) when started with tls. */
  readonly caFile?: string;
  readonly dir: string;
  /** Stops the process (SIGTERM, then SIGKILL after 10 s); the data directory stays. */
  stop(): Promise<void>;
  /** Starts it again on the same ports and data; resolves once it answers /ping. */
  start(): Promise<void>;
  /** Runs one statement over HTTP as `default`; returns the response text. */
  query(sql: string): Promise<string>;
  /** Stops the server and removes its directory. */
  dispose(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function xmlText(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function tlsXml(dir: string, httpsPort: number): string {
  return `  <https_port>${httpsPort}</https_port>
  <openSSL><server>
    <certificateFile>${dir}/server.crt</certificateFile>
    <privateKeyFile>${dir}/server.key</privateKeyFile>
    <verificationMode>none</verificationMode>
    <cacheSessions>true</cacheSessions>
    <disableProtocols>sslv2,sslv3</disableProtocols>
    <preferServerCiphers>true</preferServerCiphers>
  </server></openSSL>
`;
}

function configXml(dir: string, httpPort: number, tcpPort: number, tls: string): string {
  return `<?xml version="1.0"?>
<yandex>
  <logger>
    <level>warning</level>
    <log>${dir}/log/server.log</log>
    <errorlog>${dir}/log/error.log</errorlog>
    <size>10M</size>
    <count>1</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>${httpPort}</http_port>
  <tcp_port>${tcpPort}</tcp_port>
  <path>${dir}/data/</path>
  <tmp_path>${dir}/tmp/</tmp_path>
  <user_files_path>${dir}/user_files/</user_files_path>
  <format_schema_path>${dir}/format_schemas/</format_schema_path>
  <users_config>${dir}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <max_concurrent_queries>50</max_concurrent_queries>
  <keep_alive_timeout>3</keep_alive_timeout>
${tls}</yandex>
`;
}

function usersXml(users: readonly ClickHouseTestUser[]): string {
  const user = (name: string, password: string): string =>
    `    <${name}><password>${xmlText(password)}</password><networks><ip>127.0.0.1</ip><ip>::1</ip></networks>` +
    `<profile>default</profile><quota>default</quota></${name}>`;
  return `<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
  <users>
${[user('default', ''), ...users.map((u) => user(u.name, u.password))].join('\n')}
  </users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>
`;
}

async function waitForPing(url: string, child: ChildProcess, timeoutMs: number, dir: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) break;
    try {
      const res = await fetch(`${url}/ping`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const errors = await readFile(join(dir, 'log', 'error.log'), 'utf8').catch(() => '');
  throw new Error(`clickhouse-server did not start (exit ${String(child.exitCode)}): ${errors.slice(-2000)}`);
}

export async function startClickHouseServer(
  options: { users?: readonly ClickHouseTestUser[]; tls?: boolean } = {},
): Promise<ClickHouseTestServer> {
  const binary = clickHouseServerBinary();
  if (binary === undefined) throw new Error('clickhouse-server is not installed (Debian package clickhouse-server)');
  for (const u of options.users ?? []) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(u.name)) throw new Error(`bad user name ${u.name}`);
  }
  const dir = await mkdtemp(join(tmpdir(), 'flowvis-ch-'));
  const [httpPort, tcpPort] = [await freePort(), await freePort()];
  let tls = '';
  let httpsUrl: string | undefined;
  let caFile: string | undefined;
  if (options.tls === true) {
    const httpsPort = await freePort();
    execFileSync('openssl', [
      'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1',
      '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'server.key'), '-out', join(dir, 'server.crt'),
    ], { stdio: 'ignore' });
    tls = tlsXml(dir, httpsPort);
    httpsUrl = `https://127.0.0.1:${httpsPort}`;
    caFile = join(dir, 'server.crt');
  }
  await writeFile(join(dir, 'config.xml'), configXml(dir, httpPort, tcpPort, tls));
  await writeFile(join(dir, 'users.xml'), usersXml(options.users ?? []));
  const url = `http://127.0.0.1:${httpPort}`;
  let child: ChildProcess | undefined;

  const start = async (): Promise<void> => {
    if (child !== undefined) return;
    const proc = spawn(binary, [`--config-file=${join(dir, 'config.xml')}`], { cwd: dir, stdio: 'ignore' });
    child = proc;
    proc.once('exit', () => {
      if (child === proc) child = undefined;
    });
    await waitForPing(url, proc, 30_000, dir);
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    if (proc === undefined) return;
    const exited = new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) resolve();
      else proc.once('exit', () => resolve());
    });
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    child = undefined;
  };

  const query = async (sql: string): Promise<string> => {
    const res = await fetch(`${url}/`, { method: 'POST', body: sql });
    const text = await res.text();
    if (!res.ok) throw new Error(`ClickHouse query failed (${res.status}): ${text}`);
    return text;
  };

  const dispose = async (): Promise<void> => {
    await stop();
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await start();
  } catch (err) {
    await dispose();
    throw err;
  }
  return { httpPort, tcpPort, url, httpsUrl, caFile, dir, stop, start, query, dispose };
}
