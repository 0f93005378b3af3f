// Real @chainsafe/discv5 nodes inside the test process, on loopback, for the interop tests and
// the benchmark. Each node binds its own UDP socket (random port unless one is asked for) through
// the lab's transport, so a node can be restarted on the same port with the same key.
import { Discv5 } from '@chainsafe/discv5';
import { ENR, SignableENR } from '@chainsafe/enr';
import { privateKeyFromRaw } from '@libp2p/crypto/keys';
import { bindUdp } from '../../bridge/node-transport.ts';
import { LabTransport } from '../../bridge/lab.ts';
import { toHex } from '../../shared/bytes.ts';
import { randomPrivateKey } from '../../shared/crypto/secp256k1.ts';
import { contactFromEnr, type NodeContact } from '../../shared/discv5/engine.ts';
import { encodeEnrText, parseEnrText, type Enr } from '../../shared/enr/index.ts';
import { secureRandom } from '../../shared/random.ts';

type CreateOptions = Parameters<typeof Discv5.create>[0];
type Config = NonNullable<CreateOptions['config']>;

export interface ChainsafeNode {
  readonly discv5: Discv5;
  /** Raw 32-byte secp256k1 key (restart the node with it to keep the node id). */
  readonly key: Uint8Array;
  readonly port: number;
  readonly nodeId: string;
  /** Its record as our side sees it, and as a contact to send to. */
  readonly enr: Enr;
  readonly contact: NodeContact;
  readonly transport: LabTransport;
  stop(): Promise<void>;
}

export interface ChainsafeOptions {
  key?: Uint8Array;
  port?: number;
  config?: Config;
}

/** Quick timeouts and a fixed address: a test peer, not a long-lived node. */
export const TEST_CONFIG: Config = { enrUpdate: false, requestTimeout: 1000, requestRetries: 1, lookupTimeout: 10_000 };

export async function startChainsafeNode(options: ChainsafeOptions = {}): Promise<ChainsafeNode> {
  const key = options.key ?? randomPrivateKey(secureRandom);
  // Two copies of @libp2p/interface are installed; the key object is the same either way.
  const privateKey = privateKeyFromRaw(key) as unknown as CreateOptions['privateKey'];
  const signable = SignableENR.createFromPrivateKey(privateKey);
  const socket = await bindUdp('127.0.0.1', options.port ?? 0);
  const port = socket.address().port;
  signable.ip = '127.0.0.1';
  signable.udp = port;
  const transport = new LabTransport(socket, signable.nodeId);
  const discv5 = Discv5.create({
    enr: signable,
    privateKey,
    bindAddrs: { ip4: transport.bindAddrs[0] },
    transport,
    config: { ...TEST_CONFIG, ...options.config },
  });
  await discv5.start();
  const enr = ours(signable.encodeTxt());
  let stopped: Promise<void> | undefined;
  return {
    discv5,
    key,
    port,
    nodeId: signable.nodeId,
    enr,
    contact: contactFromEnr(enr)!,
    transport,
    stop: () => (stopped ??= discv5.stop()),
  };
}

/** Starts `count` nodes one after another (stops the started ones if one fails). */
export async function startChainsafeNodes(count: number, options: Omit<ChainsafeOptions, 'key' | 'port'> = {}): Promise<ChainsafeNode[]> {
  const nodes: ChainsafeNode[] = [];
  try {
    for (let i = 0; i < count; i++) nodes.push(await startChainsafeNode(options));
  } catch (e) {
    await stopAll(nodes);
    throw e;
  }
  return nodes;
}

export async function stopAll(nodes: (ChainsafeNode | undefined)[]): Promise<void> {
  await Promise.allSettled(nodes.map((n) => n?.stop()));
}

/** Our parsed form of a record (throws: test input is expected to be valid). */
export function ours(text: string): Enr {
  const r = parseEnrText(text);
  if (!r.ok) throw new Error(`bad ENR from chainsafe: ${r.error.reason}`);
  return r.value;
}

/** chainsafe's form of one of our records. */
export const theirs = (enr: Enr): ENR => ENR.decodeTxt(encodeEnrText(enr));

/** chainsafe's session with `nodeId` (any address), if it has one. */
export function chainsafeSession(node: ChainsafeNode, nodeId: Uint8Array): { keys: { encryptionKey: Uint8Array; decryptionKey: Uint8Array } } | undefined {
  const sessions = (node.discv5.sessionService as unknown as { sessions: Map<string, { keys: { encryptionKey: Uint8Array; decryptionKey: Uint8Array } }> }).sessions;
  const prefix = `${toHex(nodeId)}:`;
  for (const [k, v] of sessions.entries()) if (k.startsWith(prefix)) return v;
  return undefined;
}
