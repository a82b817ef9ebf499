// Runs a command in the QEMU guest through the QEMU guest agent (virtio-serial), for image-test:
//   node qga.ts SOCKET PROGRAM [ARGS...]   prints the command's stdout/stderr, exits with its code
// Protocol: https://www.qemu.org/docs/master/interop/qemu-ga-ref.html (guest-sync, guest-exec,
// guest-exec-status; output is base64).
import { createConnection } from 'node:net';

const [socketPath, program, ...args] = process.argv.slice(2);
if (!socketPath || !program) {
  process.stderr.write('usage: qga.ts SOCKET PROGRAM [ARGS...]\n');
  process.exit(2);
}

const socket = createConnection(socketPath);
let buffer = '';
const waiting: ((value: Record<string, unknown>) => void)[] = [];
socket.setEncoding('utf8');
socket.on('data', (chunk: string) => {
  buffer += chunk;
  let nl: number;
  while ((nl = buffer.indexOf('\n')) >= 0) {
    const line = buffer.slice(0, nl).replace(/^\xff/, '').trim();
    buffer = buffer.slice(nl + 1);
    if (!line) continue;
    try {
      waiting.shift()?.(JSON.parse(line) as Record<string, unknown>);
    } catch {
      /* a partial line from before the sync */
    }
  }
});

function call(execute: string, argumentsValue?: unknown): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    waiting.push((reply) => (reply.error ? reject(new Error(JSON.stringify(reply.error))) : resolve(reply)));
    socket.write(`${JSON.stringify({ execute, ...(argumentsValue ? { arguments: argumentsValue } : {}) })}\n`);
  });
}

const timer = setTimeout(
  () => {
    process.stderr.write('qga: no answer from the guest agent\n');
    process.exit(124);
  },
  Number(process.env.QGA_TIMEOUT_MS ?? 120_000),
);
await new Promise<void>((resolve, reject) => {
  socket.once('connect', resolve);
  socket.once('error', reject);
});
const id = Math.floor(Math.random() * 1e9);
const sync = await call('guest-sync', { id });
if (sync.return !== id) throw new Error(`guest-sync answered ${JSON.stringify(sync)}`);
const started = await call('guest-exec', { path: program, arg: args, 'capture-output': true });
const pid = (started.return as { pid: number }).pid;
for (;;) {
  const status = (await call('guest-exec-status', { pid })).return as {
    exited: boolean;
    exitcode?: number;
    signal?: number;
    'out-data'?: string;
    'err-data'?: string;
  };
  if (status.exited) {
    if (status['out-data']) process.stdout.write(Buffer.from(status['out-data'], 'base64'));
    if (status['err-data']) process.stderr.write(Buffer.from(status['err-data'], 'base64'));
    clearTimeout(timer);
    socket.end();
    process.exit(status.exitcode ?? 128 + (status.signal ?? 0));
  }
  await new Promise((r) => setTimeout(r, 100));
}
