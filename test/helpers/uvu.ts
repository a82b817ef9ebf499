// uvu's suite and test, with before hooks that say why they failed. uvu runs a suite's before hooks
// inside a try whose finally returns, so an exception there vanishes: the file reports "0 / N" and
// no reason. Test files with before hooks import suite/test from here instead of 'uvu'.
import { suite as uvuSuite, test as uvuTest } from 'uvu';

type Suite<T> = ReturnType<typeof uvuSuite<T>>;

function reporting<T>(t: Suite<T>, name: string): Suite<T> {
  const register = t.before;
  const wrapped = ((hook: (context: T) => unknown) =>
    register(async (context) => {
      try {
        await hook(context);
      } catch (error) {
        process.stderr.write(`\n  before hook${name ? ` of "${name}"` : ''} failed: ${(error as Error)?.stack ?? String(error)}\n`);
        // uvu sets the exit code from the failures it saw (none here) when it ends: fail after that
        process.once('exit', () => {
          process.exitCode = 1;
        });
        throw error;
      }
    })) as Suite<T>['before'];
  wrapped.each = register.each;
  t.before = wrapped;
  return t;
}

export function suite<T = Record<string, unknown>>(name = '', state?: T): Suite<T> {
  return reporting(uvuSuite<T>(name, state), name);
}

export const test = reporting(uvuTest, '');
