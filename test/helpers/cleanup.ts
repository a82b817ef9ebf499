// Every resource a test makes is registered here and removed at the end of the test file, even
// when an assertion fails or the process is interrupted: undo actions run newest first.
type Undo = () => unknown | Promise<unknown>;

const undos: { label: string; undo: Undo }[] = [];
let installed = false;

export function onCleanup(label: string, undo: Undo): void {
  undos.push({ label, undo });
  if (!installed) {
    installed = true;
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => void cleanupAll().finally(() => process.exit(130)));
    }
    process.once('beforeExit', () => void cleanupAll());
    // A throw outside any test (a timer, a stream callback) ends the process before uvu's after
    // hooks: undo first, then fail with the error, so a crash leaves no mount, loop device or daemon.
    process.once('uncaughtException', (error) => {
      process.stderr.write(`uncaught: ${error.stack ?? error.message}\n`);
      void cleanupAll().finally(() => process.exit(1));
    });
  }
}

export async function cleanupAll(): Promise<void> {
  while (undos.length) {
    const { label, undo } = undos.pop()!;
    try {
      await undo();
    } catch (error) {
      process.stderr.write(`cleanup of ${label} failed: ${(error as Error).message}\n`);
    }
  }
}
