// The playground end to end: `npm start` (bridge + lab of real chainsafe discv5 nodes, in its
// own process), headless Chromium on the printed URL, and the page's own buttons. Screenshots
// go to test-results/ (looked at by a person, not compared).
import { readFile } from 'node:fs/promises';
import dgram from 'node:dgram';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createEnr, encodeEnrText, nodeIdOf, parseEnrText } from '../../shared/enr/index.ts';
import { publicKeyOf, randomPrivateKey } from '../../shared/crypto/secp256k1.ts';
import { secureRandom } from '../../shared/random.ts';
import { SPEC_VECTORS } from '../../shared/discv5/spec-vectors.ts';
import { encodeAuthdata, encodeHeader, encodePacket } from '../../shared/discv5/packet.ts';
import { FLAG_WHOAREYOU } from '../../shared/discv5/spec.ts';
import { fromHex, toHex } from '../../shared/bytes.ts';
import { nodeDatagramTransport } from '../../bridge/node-transport.ts';
import { Discv5Driver } from '../../shared/discv5/driver.ts';
import { Discv5Node } from '../../shared/discv5/node.ts';
import { artifact, launchChromium, startApp, type RunningApp } from './harness.ts';
import { attr, contains, enabled, shown, textOf, visible } from './waits.ts';

const VIEWPORT = { width: 1280, height: 800 };
const COLD = [
  { kind: 'random', message: 'PING', direction: 'out' },
  { kind: 'WHOAREYOU', message: '', direction: 'in' },
  { kind: 'handshake', message: 'PING', direction: 'out' },
  { kind: 'ordinary', message: 'PONG', direction: 'in' },
];

let app: RunningApp;
let browser: Browser;
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

async function openPage(url = app.url): Promise<Page> {
  const context = await browser.newContext({ viewport: VIEWPORT, acceptDownloads: true });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(url);
  await page.waitForSelector('[data-testid=bridge-status][data-state=open]', { timeout: 20_000 });
  await page.waitForSelector('[data-testid=local-endpoint]');
  return page;
}

async function timeline(page: Page): Promise<{ kind: string; message: string; direction: string }[]> {
  return shown(page).evaluateAll((rows) =>
    rows.map((r) => ({ kind: r.getAttribute('data-kind') ?? '', message: r.getAttribute('data-message') ?? '', direction: r.getAttribute('data-direction') ?? '' })),
  );
}

async function fieldValue(page: Page, name: string): Promise<string> {
  return (await page.locator(`.tree [data-field="${name}"] .fvalue`).first().innerText()).trim();
}

/** A stranger on loopback: the bridge lets a page hear only sources it may send to, so it is --allow-ed. */
const STRANGER_IP = '127.0.0.9';
/** A node of the test's own (not a lab peer): loopback targets need --allow since the bridge was hardened. */
const OWN_NODE_IP = '127.0.0.8';

beforeAll(async () => {
  app = await startApp(['--allow', STRANGER_IP, '--allow', OWN_NODE_IP]);
  browser = await launchChromium();
}, 240_000);

// Each test has its own browser node; closing its page closes its tunnel and bridge socket.
afterEach(async () => {
  for (const c of contexts.splice(0)) await c.close().catch(() => {});
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

describe('the playground against npm start', () => {
  it('prints a URL with a token and lists the lab', () => {
    expect(app.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]{16,}$/);
    expect(app.lab.length).toBeGreaterThanOrEqual(16);
  });

  it('Ping: random packet → WHOAREYOU → handshake → PONG, the PONG decrypted, the key schedule filled', async () => {
    const page = await openPage();
    // The first lab node is preselected.
    await expect.poll(() => page.getByRole('radio', { name: new RegExp(app.lab[0].name) }).isChecked()).toBe(true);
    await page.getByRole('button', { name: 'Ping', exact: true }).click();
    await page.waitForSelector('[data-action=ping][data-ok=true]', { timeout: 20_000 });
    expect(await timeline(page)).toEqual(COLD);

    // The PONG, decrypted: enr-seq is the lab node's, recipient-ip/port is our bridge socket.
    await shown(page).nth(3).click();
    await page.getByRole('tab', { name: 'message fields' }).click();
    const labSeq = parseEnrText(app.lab[0].enr);
    expect(labSeq.ok).toBe(true);
    expect(await fieldValue(page, 'enr-seq')).toBe(String(labSeq.ok && labSeq.value.seq));
    const local = (await page.getByTestId('local-endpoint').innerText()).trim();
    expect(`${await fieldValue(page, 'recipient-ip')}:${await fieldValue(page, 'recipient-port')}`).toBe(local);
    await page.locator('.tree [data-field="recipient-port"]').hover();
    await page.screenshot({ path: artifact('e2e-1-pong-fields.png') });

    // Hex ↔ tree: clicking the first byte of the message selects message-type.
    await page.locator('.hexview [data-i="0"]').first().click();
    await expect.poll(() => page.locator('.tree .field.sel').getAttribute('data-field')).toBe('message-type');

    // The key schedule of the session: every step, both keys, the per-message AES-GCM inputs.
    await page.getByRole('tab', { name: 'Key schedule' }).click();
    await page.locator('[data-testid=key-schedule] [data-step]').first().waitFor(); // the tab loads on first use
    const steps = await page.locator('[data-testid=key-schedule] [data-step]').evaluateAll((els) => els.map((e) => e.getAttribute('data-step')));
    expect(steps).toEqual(['unmask', 'ephemeral-key', 'ecdh', 'hkdf', 'id-sign']);
    const keys = await page.getByTestId('session-keys').locator('code').allInnerTexts();
    expect(keys).toHaveLength(2);
    for (const k of keys) expect(k).toMatch(/^[0-9a-f]{32}$/);
    expect(keys[0]).not.toBe(keys[1]);
    await expect.poll(() => page.locator('.msgs .msg').count()).toBeGreaterThanOrEqual(3); // random PING, handshake PING, PONG
    expect(await page.locator('[data-testid=key-schedule] .secret-badge').count()).toBeGreaterThan(3);
    await page.screenshot({ path: artifact('e2e-2-key-schedule.png') });

    // Drop session: the next Ping handshakes again.
    await page.getByRole('button', { name: 'Drop session' }).click();
    await page.getByRole('button', { name: 'Ping', exact: true }).click();
    await expect.poll(async () => (await timeline(page)).length, { timeout: 20_000 }).toBe(8);
    expect((await timeline(page)).slice(4)).toEqual(COLD);
  }, 60_000);

  it('Lookup fills the routing table bucket by bucket', async () => {
    const page = await openPage();
    await page.getByRole('button', { name: 'Lookup' }).click();
    await page.waitForSelector('[data-testid=lookup-progress][data-done=true]', { timeout: 55_000 });
    const buckets = page.locator('[data-testid=routing-table] .bucket');
    expect(await buckets.count()).toBeGreaterThan(0);
    const nodes = await page.locator('[data-testid=routing-table] .node').count();
    expect(nodes).toBeGreaterThanOrEqual(12); // most of the 16 lab nodes
    const findnodes = await page.locator('.timeline [data-message=FINDNODE][data-direction=out]').count();
    expect(findnodes).toBeGreaterThanOrEqual(10);
    await page.screenshot({ path: artifact('e2e-9-lookup.png') });
  }, 60_000);

  it('Find nodes (chosen distances) and Talk request', async () => {
    const page = await openPage();
    await page.getByLabel('distances').fill('0');
    await page.getByRole('button', { name: 'Find nodes' }).click();
    await page.waitForSelector('[data-action=findnode][data-ok=true]', { timeout: 20_000 });
    await contains(page.getByTestId('action-result'), 'NODES');
    // Distance 0 asks for the node's own record: the NODES message carries it, decoded down to its keys.
    await page.locator('.timeline [data-message=NODES]').first().click();
    await page.getByRole('tab', { name: 'message fields' }).click();
    expect(await fieldValue(page, 'ENRs')).toBe('1 record');
    await page.locator('.tree [data-field="ENRs"]').click();
    await page.locator('.tree [data-field="ENR[0]"]').click();
    await page.locator('.tree [data-field="enr"]').click();
    await visible(page.locator('.tree [data-field="secp256k1"]'));
    await page.screenshot({ path: artifact('e2e-2b-nodes.png') });
    // The lab answers TALKREQ "echo" with the request, any other protocol with an empty TALKRESP.
    await page.getByLabel('protocol').fill('echo');
    await page.getByLabel('hex').fill('c0ffee');
    await page.getByRole('button', { name: 'Talk request' }).click();
    await page.waitForSelector('[data-action=talkreq][data-ok=true]', { timeout: 20_000 });
    await contains(page.getByTestId('action-result'), 'TALKRESP');
    await page.locator('.timeline [data-message=TALKRESP]').last().click();
    expect(await fieldValue(page, 'response')).toContain('0xc0ffee');
    await page.getByLabel('protocol').fill('no-such-protocol');
    await page.getByRole('button', { name: 'Talk request' }).click();
    await expect.poll(() => page.locator('.timeline [data-message=TALKRESP]').count(), { timeout: 20_000 }).toBe(2);
    await page.locator('.timeline [data-message=TALKRESP]').last().click();
    expect(await fieldValue(page, 'response')).toContain('empty');
    // In the session already: no handshake this time, TALKREQ goes as an ordinary message.
    const rows = await timeline(page);
    expect(rows.slice(-2)).toEqual([
      { kind: 'ordinary', message: 'TALKREQ', direction: 'out' },
      { kind: 'ordinary', message: 'TALKRESP', direction: 'in' },
    ]);
  }, 60_000);

  it('Step advances exactly one packet per press (→), the clock paused while held', async () => {
    const page = await openPage();
    await page.getByRole('button', { name: 'Step', exact: true }).click();
    await page.getByTestId('stepper').waitFor();
    await page.getByRole('button', { name: 'Ping', exact: true }).click();
    await page.waitForSelector('.timeline [data-held=true]');
    expect(await shown(page).count()).toBe(0);
    const next = page.getByRole('button', { name: 'Next →' });
    for (let i = 1; i <= 4; i++) {
      // Something is held (a packet to send, or an arrival not read yet): the node's clock stands still.
      await enabled(next, 10_000);
      await contains(page.getByTestId('stepper'), 'Clock paused');
      await page.keyboard.press('ArrowRight');
      await expect.poll(() => shown(page).count()).toBe(i);
      await page.waitForTimeout(300);
      expect(await shown(page).count()).toBe(i); // exactly one, not more
      if (i === 2) {
        await contains(page.getByTestId('stepper'), 'Received WHOAREYOU');
        await page.screenshot({ path: artifact('e2e-3-step-whoareyou.png') });
      }
    }
    expect(await timeline(page)).toEqual(COLD);
    await contains(page.getByTestId('stepper'), 'Received PONG');
    await page.waitForSelector('[data-action=ping][data-ok=true]');
    await page.screenshot({ path: artifact('e2e-4-step-pong.png') });
    // Space plays: the held packets of a new exchange go by themselves.
    await page.getByRole('button', { name: 'Drop session' }).click();
    await page.getByRole('button', { name: 'Ping', exact: true }).click();
    await page.waitForSelector('.timeline [data-held=true]');
    await page.keyboard.press('Space');
    await expect.poll(async () => (await timeline(page)).length, { timeout: 20_000 }).toBe(8);
  }, 60_000);

  it('Replay reproduces the spec’s packets offline, byte for byte', async () => {
    // No tunnel for this page: it carries a wrong token, so the bridge refuses the WebSocket (403).
    const context = await browser.newContext({ viewport: VIEWPORT });
    contexts.push(context);
    const page = await context.newPage();
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(app.url.replace(/token=[^&#]+/, 'token=wrong-token-000000000000'));
    await page.waitForSelector('[data-testid=bridge-status][data-state=closed]', { timeout: 15_000 });
    await page.getByRole('button', { name: 'Replay' }).click();
    await contains(page.getByTestId('replay-verdict'), 'every vector packet equals');
    expect((await timeline(page)).map((r) => r.kind)).toEqual(['random', 'WHOAREYOU', 'handshake', 'ordinary']);
    // The handshake as displayed, byte for byte, is the spec's "ping-handshake-enr" packet.
    await page.locator('.timeline [data-seq="3"]').click();
    await contains(page.getByTestId('vector-check'), 'ping-handshake-enr');
    const shownHex = (await page.locator('.hexview [data-i]').allInnerTexts()).join('');
    expect(shownHex).toBe(SPEC_VECTORS.pingHandshakeEnr);
    await page.screenshot({ path: artifact('e2e-5-replay.png') });
    await attr(page.getByTestId('bridge-status'), 'data-state', 'closed');
  }, 60_000);

  it('a lab node pings the browser node cold and gets its PONG (the browser is the recipient)', async () => {
    const page = await openPage();
    const peer = app.lab[4];
    await page.getByRole('radio', { name: new RegExp(peer.name) }).check();
    await page.getByRole('button', { name: `Ask ${peer.name} to ping you` }).click();
    await page.waitForSelector('[data-action=inbound][data-ok=true]', { timeout: 40_000 });
    await expect.poll(async () => (await timeline(page)).length).toBe(4);
    expect(await timeline(page)).toEqual([
      { kind: 'ordinary', message: '', direction: 'in' }, // its PING, unreadable: no session yet
      { kind: 'WHOAREYOU', message: '', direction: 'out' },
      { kind: 'handshake', message: 'PING', direction: 'in' },
      { kind: 'ordinary', message: 'PONG', direction: 'out' },
    ]);
    await contains(page.locator('.timeline .note.ok'), 'you are the recipient');
    await page.getByRole('tab', { name: 'Key schedule' }).click();
    await page.locator('[data-testid=key-schedule] [data-step]').first().waitFor(); // the tab loads on first use
    const steps = await page.locator('[data-testid=key-schedule] [data-step]').evaluateAll((els) => els.map((e) => e.getAttribute('data-step')));
    expect(steps).toEqual(['id-verify', 'ecdh', 'hkdf', 'aes-gcm-open']);
    await page.screenshot({ path: artifact('e2e-6-inbound.png') });
  }, 60_000);

  it('invalid ENR, distance and key: an inline explanation, nothing sent', async () => {
    const page = await openPage();
    await page.getByRole('radio', { name: /Another node/ }).check();
    const good = app.lab[1].enr;
    // One character of the signature changed: the record no longer verifies.
    const bad = good.slice(0, 10) + (good[10] === 'A' ? 'B' : 'A') + good.slice(11);
    await page.getByTestId('custom-target').fill(bad);
    await visible(page.getByTestId('target-error'));
    await page.getByRole('button', { name: 'Ping', exact: true }).click();
    await page.getByTestId('custom-target').fill('enode://not-a-key@127.0.0.1:30303');
    await contains(page.getByTestId('target-error'), /enode|key|hex/i);
    await page.getByRole('button', { name: 'Ping', exact: true }).click();
    await page.screenshot({ path: artifact('e2e-7-invalid-enr.png') });
    await page.getByTestId('custom-target').fill(good);
    await contains(page.getByTestId('target-decoded'), 'signature valid');
    await page.getByLabel('distances').fill('256, 300');
    await page.getByRole('button', { name: 'Find nodes' }).click();
    await visible(page.getByRole('alert').filter({ hasText: '300' }));
    await page.getByRole('button', { name: /^Key/ }).click();
    await page.getByRole('button', { name: 'Paste a key' }).click();
    await page.getByLabel('Private key (64 hex digits)').fill('12345');
    await page.getByRole('button', { name: 'Use this key' }).click();
    await visible(page.getByRole('alert').filter({ hasText: '64 hex digits' }));
    await page.waitForTimeout(500);
    expect(await shown(page).count()).toBe(0);
    // A valid pasted key becomes a new node: its id is keccak256 of the key's public key.
    const key = randomPrivateKey(secureRandom);
    await page.getByLabel('Private key (64 hex digits)').fill(toHex(key));
    await page.getByRole('button', { name: 'Use this key' }).click();
    await attr(page.getByTestId('local-node-id'), 'title', toHex(nodeIdOf(publicKeyOf(key))));
    await page.getByRole('button', { name: 'Show key' }).click();
    expect(await page.getByTestId('private-key').innerText()).toBe(toHex(key));
  }, 60_000);

  it('a peer that never answers ends in a visible timeout, after retransmits', async () => {
    const page = await openPage();
    // A real record for a loopback port where nothing listens (bound, then released), on an
    // address the bridge was told to --allow (a refused one fails at once, see lessons.test.ts).
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, STRANGER_IP, () => r()));
    const port = sock.address().port;
    await new Promise<void>((r) => sock.close(() => r()));
    const silent = encodeEnrText(createEnr({ privateKey: randomPrivateKey(secureRandom), ip: STRANGER_IP, udp: port }));
    await page.getByRole('radio', { name: /Another node/ }).check();
    await page.getByTestId('custom-target').fill(silent);
    await page.getByRole('button', { name: 'Ping', exact: true }).click();
    await page.waitForSelector('[data-action=ping][data-ok=false]', { timeout: 30_000 });
    await contains(page.locator('.timeline .note.error'), 'timed out');
    expect(await page.locator('.timeline .retransmit').count()).toBe(2);
    await contains(page.getByTestId('action-result'), 'timeout');
    await page.screenshot({ path: artifact('e2e-8-timeout.png') });
  }, 60_000);

  it('garbage and unsolicited packets from a peer are listed as rejected, and break nothing', async () => {
    const page = await openPage();
    const [ip, port] = (await page.getByTestId('local-endpoint').innerText()).trim().split(':');
    const nodeId = (await page.getByTestId('local-node-id').getAttribute('title'))!;
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, STRANGER_IP, () => r()));
    try {
      const send = (b: Uint8Array) => new Promise<void>((r) => sock.send(b, Number(port), ip, () => r()));
      await send(secureRandom(20)); // shorter than any discv5 packet
      await send(secureRandom(200)); // unmasks to garbage: not "discv5"
      // A well-formed WHOAREYOU for our node id, answering a request we never sent.
      const header = encodeHeader(FLAG_WHOAREYOU, secureRandom(12), encodeAuthdata({ flag: FLAG_WHOAREYOU, idNonce: secureRandom(16), enrSeq: 0n }));
      await send(encodePacket(fromHex(nodeId), secureRandom(16), header, new Uint8Array(0)));
      await expect.poll(() => page.locator('.timeline .row.rejected').count()).toBe(3);
      await page.locator('.timeline .row.rejected[data-kind=WHOAREYOU]').click();
      await contains(page.locator('.inspector .error'), 'answers no pending request');
      await page.screenshot({ path: artifact('e2e-12-rejected.png') });
      // The node goes on as if nothing happened.
      await page.getByRole('button', { name: 'Ping', exact: true }).click();
      await page.waitForSelector('[data-action=ping][data-ok=true]', { timeout: 20_000 });
    } finally {
      await new Promise<void>((r) => sock.close(() => r()));
    }
  }, 60_000);

  it('export, import and deep link: a session inspected offline', async () => {
    const page = await openPage(`${app.url}#packet=4`);
    await page.getByRole('button', { name: 'Ping', exact: true }).click();
    await page.waitForSelector('[data-action=ping][data-ok=true]', { timeout: 20_000 });
    // The deep link selected packet 4 (the PONG) as soon as it existed.
    await attr(page.locator('.timeline [data-seq="4"]'), 'aria-selected', 'true');
    await page.getByTestId('files-menu').click();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export' }).click()]);
    const file = await download.path();
    const doc = JSON.parse(await readFile(file, 'utf8'));
    expect(doc.format).toBe('handshake-lab/session');
    expect(doc.packets).toHaveLength(4);
    expect(doc.packets[3].dissection.layers.map((l: { name: string }) => l.name)).toContain('message fields');
    expect(doc.trace.length).toBeGreaterThan(4);

    const other = await openPage(`${app.url}#imported=2`);
    // Opened where the session does not exist yet, the link says why.
    await contains(other.getByTestId('link-error'), 'press Import');
    await other.locator('input[type=file]').setInputFiles(file);
    await attr(other.getByRole('button', { name: 'Imported' }), 'aria-pressed', 'true');
    expect(await timeline(other)).toEqual(COLD);
    await attr(other.locator('.timeline [data-seq="2"]'), 'aria-selected', 'true');
    await other.screenshot({ path: artifact('e2e-10-imported.png') });
    // A broken file is refused with a reason.
    await other.locator('input[type=file]').setInputFiles({ name: 'bad.json', mimeType: 'application/json', buffer: Buffer.from('{"format":"nope"}') });
    await visible(other.getByRole('alert').filter({ hasText: 'Import failed' }));
  }, 60_000);

  it('Conformance: the 7 scenarios against a pasted ENR (our own node) pass, their packets on the tester lifeline', async () => {
    // A node of ours on loopback, as `discv5 listen` runs it, pasted as the peer.
    const socket = await nodeDatagramTransport.openDatagram({ ip: OWN_NODE_IP, port: 0 });
    const key = randomPrivateKey(secureRandom);
    const listener = new Discv5Driver(new Discv5Node({ privateKey: key, enr: createEnr({ privateKey: key, ip: OWN_NODE_IP, udp: socket.local.port }) }), socket);
    try {
      const page = await openPage();
      await page.getByRole('radio', { name: /Another node/ }).check();
      await page.getByTestId('custom-target').fill(encodeEnrText(listener.node.enr));
      await page.getByTestId('conformance-tab').click();
      // Before a run: the seven checks, each saying what it tests.
      await expect.poll(() => page.getByTestId('scenario').count()).toBe(7);
      expect(await page.locator('[data-testid=scenario][data-status=waiting]').count()).toBe(7);
      await page.getByTestId('conformance-run').click();
      await visible(page.getByTestId('conformance-summary'), 60_000);
      await contains(page.getByTestId('conformance-summary'), '7 passed');
      const statuses = await page.getByTestId('scenario').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-name')}=${e.getAttribute('data-status')}`));
      expect(statuses).toEqual(['Ping', 'PingLargeRequestID', 'PingMultiIP', 'HandshakeResend', 'TalkRequest', 'FindnodeZeroDistance', 'FindnodeResults'].map((n) => `${n}=pass`));
      // PingMultiIP ran from a second tunnel socket on 127.0.0.2 (the bridge bound it).
      await contains(page.locator('[data-name=PingMultiIP] [data-testid=scenario-reason]'), '127.0.0.2');
      // HandshakeResend's packets, on the timeline like any others: the same challenge twice.
      const resend = await page.locator('.timeline [data-tester=HandshakeResend]').evaluateAll((rows) => rows.map((r) => `${r.getAttribute('data-direction')} ${r.getAttribute('data-kind')}`));
      expect(resend).toEqual(['out random', 'in WHOAREYOU', 'out random', 'in WHOAREYOU', 'out handshake', 'in ordinary']);
      await page.locator('.timeline [data-tester=HandshakeResend][data-kind=WHOAREYOU]').last().click();
      await page.getByRole('tab', { name: 'Packet bytes' }).click();
      await contains(page.locator('.right'), 'tester');
      expect(await page.locator('.timeline [data-tester]').count()).toBeGreaterThan(40);
      await page.screenshot({ path: artifact('e2e-conformance.png') });
      // "packets ↗" selects a scenario's first packet.
      await page.getByTestId('conformance-tab').click();
      await page.locator('[data-name=FindnodeResults] button', { hasText: 'packets' }).click();
      await expect.poll(() => page.locator('.timeline [data-tester=FindnodeResults][aria-selected=true]').count()).toBe(1);
    } finally {
      listener.close();
    }
  }, 90_000);

  it('Bitcoin: version/verack with a lab bcoin node, every message on the timeline and in the inspector', async () => {
    const page = await openPage();
    await page.getByTestId('protocol-bitcoin').check();
    await contains(page.locator('.brand'), 'Bitcoin');
    // Nothing recorded yet: the pcapng export says so instead of downloading an empty file.
    await page.getByTestId('files-menu').click();
    await page.getByTestId('export-pcap').click();
    await contains(page.getByTestId('export-error'), 'no packets yet');
    await page.getByTestId('btc-handshake').click();
    await page.waitForSelector('[data-testid=btc-result] [data-action=handshake][data-ok=true]', { timeout: 20_000 });
    await contains(page.getByTestId('btc-result'), /SUCCESS: version and verack both ways with \/bcoin:v1\.0\.2\/ speaking protocol 70015/);
    const btc = page.locator('.timeline [data-protocol=bitcoin]');
    const rows = await btc.evaluateAll((els) => els.map((e) => `${e.getAttribute('data-direction')}:${e.getAttribute('data-kind')}`));
    // bcoin speaks 70015: no wtxidrelay/sendaddrv2; both versions, both veracks.
    expect(rows.slice(0, 4).sort()).toEqual(['in:verack', 'in:version', 'out:verack', 'out:version']);
    expect(rows[0]).toBe('out:version');
    await btc.filter({ has: page.locator('text=version') }).nth(1).click();
    await contains(page.locator('.right'), 'btc-01 → you');
    await contains(page.locator('.right'), 'magic');
    await page.getByRole('tab', { name: 'version payload' }).or(page.getByText('version payload')).first().click();
    await contains(page.locator('.right'), '"/bcoin:v1.0.2/"');
    await page.getByRole('tab', { name: 'Key schedule' }).click();
    await contains(page.getByTestId('no-key-schedule'), 'not encrypted');
    await page.screenshot({ path: artifact('e2e-13-bitcoin.png') });
  }, 60_000);

  it('Bitcoin in Step mode: each message held, sent and read one press at a time', async () => {
    const page = await openPage();
    await page.getByTestId('protocol-bitcoin').check();
    await page.getByRole('button', { name: 'Step', exact: true }).click();
    await page.getByTestId('btc-handshake').click();
    await page.waitForSelector('.timeline [data-protocol=bitcoin][data-held=true]');
    const done = page.locator('.timeline [data-protocol=bitcoin]:not([data-held])');
    expect(await done.count()).toBe(0);
    await contains(page.getByTestId('stepper'), 'About to send: your version');
    await page.keyboard.press('ArrowRight');
    await expect.poll(() => done.count()).toBe(1);
    // bcoin's version arrives as bytes on the stream, held unread until the next press.
    await contains(page.getByTestId('stepper'), 'arrived on the TCP connection');
    await page.screenshot({ path: artifact('e2e-14-bitcoin-step.png') });
    for (let i = 0; i < 12 && !(await page.locator('[data-testid=btc-result] [data-ok]').count()); i++) {
      await page.keyboard.press('ArrowRight');
      await page.waitForTimeout(250);
    }
    await page.waitForSelector('[data-testid=btc-result] [data-action=handshake][data-ok=true]', { timeout: 10_000 });
    // The engine is done once its verack is written; in Step mode that verack may still wait for a press.
    for (let i = 0; i < 12 && (await page.locator('.timeline [data-held=true]').count()); i++) {
      await page.keyboard.press('ArrowRight');
      await page.waitForTimeout(250);
    }
    expect(await done.count()).toBeGreaterThanOrEqual(4);
  }, 60_000);

  it('Bitcoin, the recipient role: a lab node dials your listener on the bridge; pcapng export reads back', async () => {
    const page = await openPage();
    await page.getByTestId('protocol-bitcoin').check();
    await page.getByTestId('btc-inbound').click();
    await page.waitForSelector('[data-testid=btc-result] [data-action=connect-in][data-ok=true]', { timeout: 30_000 });
    await contains(page.getByTestId('btc-result'), /dialled your listener 127\.0\.0\.1:\d+ and completed version\/verack/);
    await contains(page.locator('.timeline'), 'btc-01 → you');
    await contains(page.locator('.timeline'), 'SUCCESS: version and verack both ways');
    const inbound = await page.locator('.timeline [data-protocol=bitcoin]').evaluateAll((els) => els.map((e) => `${e.getAttribute('data-direction')}:${e.getAttribute('data-kind')}`));
    // It dialled, so it spoke first.
    expect(inbound[0]).toBe('in:version');
    await page.getByTestId('files-menu').click();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-pcap').click()]);
    const file = await readFile((await download.path())!);
    expect(file.readUInt32LE(0)).toBe(0x0a0d0d0a); // a pcapng Section Header Block
    await page.screenshot({ path: artifact('e2e-15-bitcoin-inbound.png') });
  }, 60_000);

  it('no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});

describe('the bridge going away and coming back', () => {
  it('shows the bridge down, reconnects when it is back, and pings again', async () => {
    const token = 'e2e-restart-token-0123456789';
    const first = await startApp(['--token', token, '--lab-size', '2']);
    const port = new URL(first.url).port;
    const context = await browser.newContext({ viewport: VIEWPORT });
    contexts.push(context);
    const page = await context.newPage();
    let second: RunningApp | undefined;
    try {
      await page.goto(first.url);
      await page.waitForSelector('[data-testid=bridge-status][data-state=open]', { timeout: 20_000 });
      await first.close();
      await page.waitForSelector('[data-testid=bridge-status][data-state=closed]', { timeout: 10_000 });
      await contains(page.getByTestId('bridge-status'), 'retrying');
      await page.getByRole('button', { name: 'Ping', exact: true }).click();
      await contains(page.getByTestId('action-result'), 'not connected');
      await page.screenshot({ path: artifact('e2e-11-bridge-down.png') });
      second = await startApp(['--token', token, '--lab-size', '2', '--port', port]);
      await page.waitForSelector('[data-testid=bridge-status][data-state=open]', { timeout: 20_000 });
      // The lab restarted with new nodes: the page reloads the list, and a Ping works.
      await expect.poll(() => page.getByRole('radio', { name: /lab-01/ }).isChecked(), { timeout: 10_000 }).toBe(true);
      await page.getByRole('button', { name: 'Ping', exact: true }).click();
      await page.waitForSelector('[data-action=ping][data-ok=true]', { timeout: 20_000 });
    } finally {
      await first.close();
      await second?.close();
    }
  }, 120_000);
});
