// One way for a test to say "this must fail, with that kind of error": it resolves to the error, so
// the test can go on to look at its code and message, and fails the test when the promise resolves.
import * as assert from 'uvu/assert';

type ErrorClass<E extends Error> = abstract new (...args: any[]) => E;

/** Awaits `promise` (or calls `action` and awaits what it returns) and returns the error it failed with. */
export async function rejectsWith<E extends Error>(promise: Promise<unknown> | (() => unknown), type: ErrorClass<E>): Promise<E> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    assert.instance(error, type, `expected a ${type.name}, got: ${String(error)}`);
    return error as E;
  }
  throw new assert.Assertion({
    message: `expected a ${type.name}`,
    operator: 'rejects',
    expects: type.name,
    actual: 'resolved',
    generated: false,
  });
}
