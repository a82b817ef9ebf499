// What a caller without the token may not see. Reads are open to the LAN (the page, monitors),
// but a node's env values are its secrets (API keys, passwords), and some events announce things
// only an admin should act on (a pairing window: whoever hears of it first may take a session).

/** Shown instead of an env value to a caller without the token; the names stay visible. */
export const HIDDEN_VALUE = '(hidden)';

interface WithEnv {
  spec: { env: Record<string, string> };
}

/** A copy of a node's view with its env values hidden, saying so in `redacted`. */
export function withoutSecrets<T extends WithEnv>(view: T): T & { redacted: string[] } {
  const env = Object.fromEntries(Object.keys(view.spec.env).map((key) => [key, HIDDEN_VALUE]));
  return { ...view, spec: { ...view.spec, env }, redacted: ['spec.env'] };
}

/** Event families only token holders receive on /events. */
const ADMIN_ONLY_EVENT_PREFIXES = ['pairing.'];

export function isAdminOnlyEvent(type: string): boolean {
  return ADMIN_ONLY_EVENT_PREFIXES.some((prefix) => type.startsWith(prefix));
}
