// Collects several slow readings, each within its own time budget. On a slow box (a Raspberry Pi,
// an emulated guest) one reading may take far longer than the others; the rest still arrive, and
// what did not is named rather than turning the whole report into a failure.

export interface Collected<T extends Record<string, unknown>> {
  values: Partial<T>;
  /** one line per reading that failed or did not finish in time: `name: why` */
  missing: string[];
}

export async function collectWithin<T extends Record<string, unknown>>(
  readings: { [K in keyof T]: () => Promise<T[K]> },
  budgetMs: number,
): Promise<Collected<T>> {
  const values: Partial<T> = {};
  const missing: string[] = [];
  await Promise.all(
    Object.entries(readings).map(async ([name, read]) => {
      let timer: NodeJS.Timeout | undefined;
      // (not unref'd: a reading that hangs on nothing the event loop waits for still gets its budget)
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), budgetMs);
      });
      try {
        const value = await Promise.race([(read as () => Promise<unknown>)(), late]);
        if (value === 'late') missing.push(`${name}: no answer within ${Math.round(budgetMs / 1000)} s`);
        else values[name as keyof T] = value as T[keyof T];
      } catch (error) {
        missing.push(`${name}: ${(error as Error).message ?? String(error)}`);
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  missing.sort();
  return { values, missing };
}
