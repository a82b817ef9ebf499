// Debian's Chromium as the browser tests and the page benchmark launch it (through playwright-core),
// with the flags that keep it from reaching anything on its own: no background networking,
// component updates, sync or QUIC.
export const CHROMIUM = '/usr/bin/chromium';

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-sync',
  '--disable-quic',
  '--disable-dev-shm-usage',
];
