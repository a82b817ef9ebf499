import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { lxcState, observeNodes, parseLxcInfo, parseLxcLsFancy } from '../../../../../agent/nodes/lxc/parse-ls.ts';
import { fixture } from '../../../../fixtures/lxc/golden.ts';

test('lxc-ls --fancy: running nodes with pids, stopped ones without', async () => {
  const rows = parseLxcLsFancy(await fixture('lxc-ls-fancy.txt'));
  assert.equal(rows, [
    { name: 'stf503cbb', state: 'running', pid: 9503 },
    { name: 'stf503cdeb', state: 'running', pid: 9568 },
    { name: 'stf503cidle', state: 'stopped', pid: null },
  ]);
});

test('lxc-ls --fancy of an empty lxcpath is an empty list', async () => {
  assert.equal(parseLxcLsFancy(await fixture('lxc-ls-fancy-empty.txt')), []);
});

test('an unexpected lxc-ls header is an error, not an empty list', () => {
  assert.throws(() => parseLxcLsFancy('SOMETHING ELSE\nx y\n'), /unexpected lxc-ls header/);
});

test('lxc-info: state and pid', async () => {
  assert.equal(parseLxcInfo(await fixture('lxc-info-running.txt')), { state: 'running', pid: 9503 });
  assert.equal(parseLxcInfo(await fixture('lxc-info-stopped.txt')), { state: 'stopped', pid: null });
  assert.equal(parseLxcInfo('garbage'), null);
});

test('unknown LXC states map to unknown', () => {
  assert.equal(lxcState('FROZEN'), 'frozen');
  assert.equal(lxcState('WEIRD'), 'unknown');
});

test('a node directory with a partial marker, or without config, is partial; hidden dirs are ignored', async () => {
  const rows = parseLxcLsFancy(await fixture('lxc-ls-fancy.txt'));
  const nodes = observeNodes(rows, [
    { name: 'stf503cbb', hasConfig: true, hasPartialMarker: false },
    { name: 'stf503cdeb', hasConfig: true, hasPartialMarker: true },
    { name: 'half', hasConfig: false, hasPartialMarker: true },
    { name: 'bare', hasConfig: false, hasPartialMarker: false },
    { name: '.debian.building', hasConfig: false, hasPartialMarker: false },
  ]);
  assert.equal(nodes, [
    { name: 'bare', state: 'stopped', pid: null, partial: true },
    { name: 'half', state: 'stopped', pid: null, partial: true },
    { name: 'stf503cbb', state: 'running', pid: 9503, partial: false },
    { name: 'stf503cdeb', state: 'running', pid: 9568, partial: true },
    { name: 'stf503cidle', state: 'stopped', pid: null, partial: false },
  ]);
});

test.run();
