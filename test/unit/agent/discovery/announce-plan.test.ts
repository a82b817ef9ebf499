import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { announcePlan, serviceTxt } from '../../../../agent/discovery/mdns-subsystem.ts';

test('announce only where the API listens', () => {
  assert.equal(announcePlan('0.0.0.0'), { announce: true });
  assert.equal(announcePlan('198.18.7.1'), { announce: true, restrictTo: ['198.18.7.1'] });
  for (const host of ['127.0.0.1', 'localhost', '::1']) {
    const plan = announcePlan(host);
    assert.is(plan.announce, false, host);
    if (!plan.announce) assert.match(plan.reason, /nothing on the LAN can reach/);
  }
});

test('the TXT record says where the page and API are', () => {
  const txt = serviceTxt('den');
  assert.is(txt.name, 'den');
  assert.is(txt.path, '/');
  assert.is(txt.api, '/api/v1');
  assert.match(txt.version!, /^\d+\.\d+\.\d+/);
});

test.run();
