// Log text helpers. Pure.

// The last `lines` lines of a text (without a trailing empty line).
export function tailLines(text: string, lines: number): string {
  if (lines <= 0 || !text) return '';
  const all = text.replace(/\n$/, '').split('\n');
  return all.slice(-lines).join('\n');
}

// C0 controls but tab and newline, DEL, and C1 controls (0x9b is a CSI on some terminals).
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/**
 * A node's log bytes as text fit to show: UTF-8 (invalid bytes become U+FFFD) without control
 * characters, so what a node writes cannot drive the terminal of whoever reads its log (escape
 * sequences) nor blow up the answer (a run of NULs would be six bytes each in JSON).
 */
export function printableLog(data: Buffer): string {
  return data.toString('utf8').replace(CONTROL, '');
}
