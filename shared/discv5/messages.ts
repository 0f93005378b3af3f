// discv5 messages (discv5-wire.md "Protocol Messages"): message-pt = message-type ‖ rlp(message-data).
import { concat, printableOrHex, shortHex, toHex } from '../bytes.ts';
import { rlpStructure, type Field, type Layer } from '../dissect.ts';
import { attempt, fail, type Result } from '../errors.ts';
import { bytesToIp, ipToBytes } from '../ip.ts';
import { asBigint, asBytes, asList, decodeRlpPrefix, encodeListHeader, encodeRlp, rlpUint, type RlpItem } from '../rlp.ts';
import { enrFields } from '../enr/index.ts';
import type { RandomSource } from '../random.ts';
import { MAX_REQUEST_ID_SIZE, SPEC } from './spec.ts';

export type Message =
  | { type: 'PING'; requestId: Uint8Array; enrSeq: bigint }
  | { type: 'PONG'; requestId: Uint8Array; enrSeq: bigint; recipientIp: string; recipientPort: number }
  | { type: 'FINDNODE'; requestId: Uint8Array; distances: number[] }
  | { type: 'NODES'; requestId: Uint8Array; total: number; records: Uint8Array[] }
  | { type: 'TALKREQ'; requestId: Uint8Array; protocol: Uint8Array; request: Uint8Array }
  | { type: 'TALKRESP'; requestId: Uint8Array; response: Uint8Array };
export type MessageType = Message['type'];

export const MESSAGE_CODES: Record<MessageType, number> = { PING: 1, PONG: 2, FINDNODE: 3, NODES: 4, TALKREQ: 5, TALKRESP: 6 };
const TYPES_BY_CODE: Record<number, MessageType> = { 1: 'PING', 2: 'PONG', 3: 'FINDNODE', 4: 'NODES', 5: 'TALKREQ', 6: 'TALKRESP' };
const SPEC_BY_TYPE: Record<MessageType, string> = {
  PING: SPEC.ping, PONG: SPEC.pong, FINDNODE: SPEC.findnode, NODES: SPEC.nodes, TALKREQ: SPEC.talkreq, TALKRESP: SPEC.talkresp,
};
/** Size of the request-ids we make (the spec allows up to 8 bytes). */
const REQUEST_ID_SIZE = 8;

/**
 * A request-id from injected randomness: never a leading zero byte (request-ids travel as RLP
 * strings), and not one `taken` says is in use (a few draws, then the caller sees the clash).
 */
export function randomRequestId(random: RandomSource, taken: (hex: string) => boolean = () => false): Uint8Array {
  let id = random(REQUEST_ID_SIZE);
  for (let draws = 1; draws < 16 && (id[0] === 0 || taken(toHex(id))); draws++) id = random(REQUEST_ID_SIZE);
  if (id[0] === 0) id[0] = 1;
  return id;
}

export const isRequest = (t: MessageType): boolean => t === 'PING' || t === 'FINDNODE' || t === 'TALKREQ';
/** The response type that answers a request type. */
export const RESPONSE_TO: Partial<Record<MessageType, MessageType>> = { PING: 'PONG', FINDNODE: 'NODES', TALKREQ: 'TALKRESP' };

export function encodeMessage(m: Message): Uint8Array {
  let data;
  switch (m.type) {
    case 'PING':
      data = [m.requestId, rlpUint(m.enrSeq)];
      break;
    case 'PONG': {
      const ip = ipToBytes(m.recipientIp);
      if (!ip) throw new Error(`PONG recipient-ip is not an IP: ${m.recipientIp}`);
      data = [m.requestId, rlpUint(m.enrSeq), ip, rlpUint(m.recipientPort)];
      break;
    }
    case 'FINDNODE':
      data = [m.requestId, m.distances.map((d) => rlpUint(d))];
      break;
    case 'NODES':
      // Records are already RLP: splice them in as list items verbatim.
      return withType(m, encodeNodes(m.requestId, m.total, m.records));
    case 'TALKREQ':
      data = [m.requestId, m.protocol, m.request];
      break;
    case 'TALKRESP':
      data = [m.requestId, m.response];
      break;
  }
  const out = encodeRlp(data, 1);
  out[0] = MESSAGE_CODES[m.type];
  return out;
}

function withType(m: Message, rlp: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + rlp.length);
  out[0] = MESSAGE_CODES[m.type];
  out.set(rlp, 1);
  return out;
}

function encodeNodes(requestId: Uint8Array, total: number, records: Uint8Array[]): Uint8Array {
  const recordsLength = records.reduce((n, r) => n + r.length, 0);
  const payload = concat(encodeRlp(requestId), encodeRlp(rlpUint(total)), encodeListHeader(recordsLength), ...records);
  return concat(encodeListHeader(payload.length), payload);
}

/** Size in bytes of a NODES message-pt carrying these records (to split under 1280). */
export const nodesMessageSize = (requestId: Uint8Array, total: number, records: Uint8Array[]): number =>
  1 + encodeNodes(requestId, total, records).length;

export function decodeMessage(pt: Uint8Array): Result<Message> {
  return attempt(() => parseMessage(pt).message);
}

interface Parsed {
  message: Message;
  root: RlpItem;
}

function parseMessage(pt: Uint8Array): Parsed {
  if (pt.length < 2) fail('truncated', 'message-pt', 'a message is message-type ‖ message-data; too short');
  const type = TYPES_BY_CODE[pt[0]];
  if (!type) fail('bad-value', 'message-type', `0x${pt[0].toString(16).padStart(2, '0')} is not a known message type`);
  const root = decodeRlpPrefix(pt, 1, 'message-data');
  if (root.offset + root.length !== pt.length) fail('trailing-bytes', 'message-data', `${pt.length - root.offset - root.length} bytes after message-data`);
  const items = asList(root, 'message-data');
  const need = (n: number) => {
    if (items.length < n) fail('truncated', 'message-data', `${type} has ${n} elements, found ${items.length}`);
  };
  need(2);
  const requestId = asBytes(items[0], 'request-id');
  if (requestId.length > MAX_REQUEST_ID_SIZE) fail('too-large', 'request-id', `${requestId.length} bytes; at most ${MAX_REQUEST_ID_SIZE}`);
  switch (type) {
    case 'PING':
      return { root, message: { type, requestId, enrSeq: asBigint(items[1], 'enr-seq') } };
    case 'PONG': {
      need(4);
      const ipBytes = asBytes(items[2], 'recipient-ip');
      const recipientIp = bytesToIp(ipBytes);
      if (!recipientIp) fail('bad-length', 'recipient-ip', `${ipBytes.length} bytes; must be 4 or 16`);
      const recipientPort = Number(asBigint(items[3], 'recipient-port', 2));
      return { root, message: { type, requestId, enrSeq: asBigint(items[1], 'enr-seq'), recipientIp, recipientPort } };
    }
    case 'FINDNODE': {
      const list = asList(items[1], 'distances');
      const distances = list.map((d) => {
        const n = Number(asBigint(d, 'distance', 2));
        if (n > 256) fail('bad-value', 'distance', `${n}; log-distances run from 0 to 256`);
        return n;
      });
      return { root, message: { type, requestId, distances } };
    }
    case 'NODES': {
      need(3);
      const total = Number(asBigint(items[1], 'total', 1));
      const records = asList(items[2], 'ENRs').map((r) => pt.subarray(r.offset, r.offset + r.length));
      return { root, message: { type, requestId, total, records } };
    }
    case 'TALKREQ':
      need(3);
      return { root, message: { type, requestId, protocol: asBytes(items[1], 'protocol'), request: asBytes(items[2], 'request') } };
    case 'TALKRESP':
      return { root, message: { type, requestId, response: asBytes(items[1], 'response') } };
  }
}

/** One line: "PING req=0x01 enr-seq=2". */
export function summarizeMessage(m: Message): string {
  const req = `req=0x${toHex(m.requestId)}`;
  switch (m.type) {
    case 'PING':
      return `PING ${req} enr-seq=${m.enrSeq}`;
    case 'PONG':
      return `PONG ${req} enr-seq=${m.enrSeq} you are ${m.recipientIp}:${m.recipientPort}`;
    case 'FINDNODE':
      return `FINDNODE ${req} distances=[${m.distances.join(', ')}]`;
    case 'NODES':
      return `NODES ${req} total=${m.total} records=${m.records.length}`;
    case 'TALKREQ':
      return `TALKREQ ${req} protocol="${printableOrHex(m.protocol)}" ${m.request.length} bytes`;
    case 'TALKRESP':
      return `TALKRESP ${req} ${m.response.length} bytes`;
  }
}


/**
 * The two message layers of a decrypted message-pt: its generic RLP structure, and the same
 * bytes as named message fields. Returns what it could read, and the error if parsing stopped.
 */
export function dissectMessage(pt: Uint8Array): { layers: Layer[]; message?: Message; error?: string } {
  const typeField: Field = {
    name: 'message-type',
    offset: 0,
    length: 1,
    value: `0x${(pt[0] ?? 0).toString(16).padStart(2, '0')} (${TYPES_BY_CODE[pt[0]] ?? 'unknown'})`,
    meaning: 'Which message this is; the RLP list after it holds its fields.',
    spec: SPEC.messages,
  };
  let parsed: Parsed;
  try {
    parsed = parseMessage(pt);
  } catch (e) {
    const error = e instanceof Error ? ('reason' in e ? String((e as { reason: string }).reason) : e.message) : String(e);
    const fallback: Layer = { name: 'message (plaintext)', bytes: pt, fields: pt.length > 0 ? [typeField, ...(pt.length > 1 ? [{ name: 'message-data', offset: 1, length: pt.length - 1, value: 'undecodable', meaning: 'Bytes that do not form a valid message.' }] : [])] : [] };
    return { layers: [fallback], error };
  }
  const { message, root } = parsed;
  const structure: Layer = {
    name: 'message (RLP)',
    bytes: pt,
    fields: [typeField, rlpStructure(root, 'message-data')],
    note: 'The decrypted message-pt: one type byte, then RLP. Each RLP prefix says what follows and how long it is.',
  };
  const items = (root as { items: RlpItem[] }).items;
  const spec = SPEC_BY_TYPE[message.type];
  const at = (i: number, name: string, value: string, meaning: string, extra: Partial<Field> = {}): Field => ({
    name, offset: items[i].offset, length: items[i].length, value, meaning, spec, ...extra,
  });
  const listHeader: Field = { name: 'rlp list prefix', offset: root.offset, length: root.headerLength, value: `list of ${root.length - root.headerLength} bytes`, meaning: 'Starts the RLP list of message-data.', spec };
  const fields: Field[] = [typeField, listHeader, at(0, 'request-id', `0x${toHex(message.requestId)}`, 'Chosen by the requester; the response mirrors it so the two can be matched.')];
  switch (message.type) {
    case 'PING':
      fields.push(at(1, 'enr-seq', String(message.enrSeq), "The sender's current ENR sequence number: if ours is older, ask for the new record."));
      break;
    case 'PONG':
      fields.push(
        at(1, 'enr-seq', String(message.enrSeq), "The responder's current ENR sequence number."),
        at(2, 'recipient-ip', message.recipientIp, 'The IP address the PING came from, as the responder saw it: how the world sees us.'),
        at(3, 'recipient-port', String(message.recipientPort), 'The UDP port the PING came from, as the responder saw it.'),
      );
      for (let i = 4; i < items.length; i++) fields.push(at(i, `extra[${i}]`, 'ignored', 'An element newer versions may add; ignored.'));
      break;
    case 'FINDNODE': {
      const list = items[1] as { items: RlpItem[]; offset: number; headerLength: number; length: number };
      fields.push({
        ...at(1, 'distances', `[${message.distances.join(', ')}]`, 'Log2 distances from the responder whose nodes we want; 0 asks for its own record.'),
        children: [
          { name: 'rlp list prefix', offset: list.offset, length: list.headerLength, value: `${message.distances.length} distances`, meaning: 'Starts the list of distances.', spec },
          ...list.items.map((d, i) => ({ name: `distance[${i}]`, offset: d.offset, length: d.length, value: String(message.distances[i]), meaning: 'Log2 of the XOR distance between the responder and the nodes wanted.', spec })),
        ],
      });
      break;
    }
    case 'NODES': {
      const list = items[2] as { items: RlpItem[]; offset: number; headerLength: number; length: number };
      fields.push(at(1, 'total', String(message.total), 'How many NODES messages answer this request in all (records are split to fit 1280-byte packets).'));
      fields.push({
        ...at(2, 'ENRs', `${message.records.length} record${message.records.length === 1 ? '' : 's'}`, 'Node records (EIP-778) at the asked distances.'),
        children: [
          { name: 'rlp list prefix', offset: list.offset, length: list.headerLength, value: `${list.length - list.headerLength} bytes of records`, meaning: 'Starts the list of records.', spec },
          ...list.items.map((r, i) => recordField(pt, r, i)),
        ],
      });
      break;
    }
    case 'TALKREQ':
      fields.push(
        at(1, 'protocol', `"${printableOrHex(message.protocol)}"`, 'Names the application protocol the request is for.'),
        at(2, 'request', `${message.request.length} bytes${message.request.length ? `: 0x${shortHex(message.request, 24)}` : ''}`, 'Opaque request for that protocol.'),
      );
      break;
    case 'TALKRESP':
      fields.push(at(1, 'response', message.response.length ? `${message.response.length} bytes: 0x${toHex(message.response.subarray(0, 24))}` : 'empty (protocol unknown to the responder)', 'The answer; empty when the responder does not speak the protocol.'));
      break;
  }
  // Elements after the known ones are allowed (forward compatibility): list them.
  const known = { PING: 2, PONG: 4, FINDNODE: 2, NODES: 3, TALKREQ: 3, TALKRESP: 2 }[message.type];
  if (message.type !== 'PONG') for (let i = known; i < items.length; i++) fields.push(at(i, `extra[${i}]`, 'ignored', 'An element newer versions may add; ignored.'));
  const semantic: Layer = { name: 'message fields', bytes: pt, fields };
  return { layers: [structure, semantic], message };
}

function recordField(pt: Uint8Array, r: RlpItem, i: number): Field {
  const raw = pt.subarray(r.offset, r.offset + r.length);
  const children = enrFields(raw, r.offset);
  return { name: `ENR[${i}]`, offset: r.offset, length: r.length, value: `${r.length} bytes`, meaning: 'A signed node record.', spec: SPEC.nodes, ...(children.length ? { children } : {}) };
}

