// Constants of discv5 v5.1 (ethereum/devp2p discv5/discv5-wire.md) and links to its sections.
import { utf8 } from '../bytes.ts';

export const PROTOCOL_ID = utf8('discv5');
export const VERSION = 0x0001;
export const MASKING_IV_SIZE = 16;
export const STATIC_HEADER_SIZE = 23; // protocol-id 6 · version 2 · flag 1 · nonce 12 · authdata-size 2
export const NONCE_SIZE = 12;
export const ID_NONCE_SIZE = 16;
export const MIN_PACKET_SIZE = 63;
export const MAX_PACKET_SIZE = 1280;
export const TAG_SIZE = 16; // AES-GCM tag appended to every message
export const SIG_SIZE_V4 = 64;
export const EPH_KEY_SIZE_V4 = 33;
export const MESSAGE_AUTHDATA_SIZE = 32;
export const WHOAREYOU_AUTHDATA_SIZE = 24;
export const HANDSHAKE_AUTHDATA_HEAD_SIZE = 34;
export const MAX_REQUEST_ID_SIZE = 8;

export const FLAG_MESSAGE = 0;
export const FLAG_WHOAREYOU = 1;
export const FLAG_HANDSHAKE = 2;
export type Flag = typeof FLAG_MESSAGE | typeof FLAG_WHOAREYOU | typeof FLAG_HANDSHAKE;
/** The page's one name for each kind (the spec calls flag 0 an "ordinary message packet"). */
export const FLAG_NAMES: Record<Flag, string> = { 0: 'message', 1: 'WHOAREYOU', 2: 'handshake' };

export const KDF_INFO_TEXT = utf8('discovery v5 key agreement');
export const ID_SIGNATURE_TEXT = utf8('discovery v5 identity proof');

const WIRE = 'https://github.com/ethereum/devp2p/blob/master/discv5/discv5-wire.md';
const THEORY = 'https://github.com/ethereum/devp2p/blob/master/discv5/discv5-theory.md';
export const SPEC = {
  header: `${WIRE}#protocol-header`,
  ordinary: `${WIRE}#ordinary-message-packet-flag--0`,
  whoareyou: `${WIRE}#whoareyou-packet-flag--1`,
  handshake: `${WIRE}#handshake-message-packet-flag--2`,
  messages: `${WIRE}#protocol-messages`,
  ping: `${WIRE}#ping-request-0x01`,
  pong: `${WIRE}#pong-response-0x02`,
  findnode: `${WIRE}#findnode-request-0x03`,
  nodes: `${WIRE}#nodes-response-0x04`,
  talkreq: `${WIRE}#talkreq-request-0x05`,
  talkresp: `${WIRE}#talkresp-response-0x06`,
  step1: `${THEORY}#step-1-node-a-sends-message-packet`,
  step2: `${THEORY}#step-2-node-b-responds-with-challenge`,
  step3: `${THEORY}#step-3-node-a-processes-the-challenge`,
  step4: `${THEORY}#step-4-node-b-receives-handshake-message`,
  step5: `${THEORY}#step-5-node-a-receives-response-message`,
  crypto: `${THEORY}#identity-specific-cryptography-in-the-handshake`,
  sessionCache: `${THEORY}#session-cache`,
  table: `${THEORY}#node-table`,
  lookup: `${THEORY}#lookup`,
} as const;
