// How a benchmark that makes things (namespaces, agents, pools) runs: its tear-down follows main
// whether main succeeded, failed or was interrupted (Ctrl-C: exit 130), so nothing it made stays
// behind; a failure is one line on stderr saying why, and exit code 1.
export async function runBench(name: string, main: () => Promise<void>, tearDown: () => Promise<void>): Promise<never> {
  process.once('SIGINT', () => {
    void tearDown().finally(() => process.exit(130));
  });
  let exitCode = 0;
  try {
    await main();
  } catch (error) {
    process.stderr.write(`${name} failed: ${(error as Error).stack ?? String(error)}\n`);
    exitCode = 1;
  } finally {
    await tearDown();
  }
  process.exit(exitCode);
}
