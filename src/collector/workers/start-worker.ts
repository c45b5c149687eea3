/**
 * Starts a worker thread on one of the project's modules. From the TypeScript sources (run
 * through tsx) the worker registers tsx's loader before it imports the module, since Node 20 does
 * not carry the parent's loader into worker threads; from the compiled build it runs the
 * JavaScript module directly.
 */
import { createRequire } from 'node:module';
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function startModuleWorker(moduleUrl: URL, options: WorkerOptions = {}): Worker {
  if (!moduleUrl.pathname.endsWith('.ts')) return new Worker(moduleUrl, options);
  const tsxApi = createRequire(import.meta.url).resolve('tsx/esm/api');
  const bootstrap =
    `require(${JSON.stringify(tsxApi)}).register();\n` +
    `import(${JSON.stringify(moduleUrl.href)}).catch((err) => process.nextTick(() => { throw err; }));`;
  return new Worker(bootstrap, { ...options, eval: true });
}
