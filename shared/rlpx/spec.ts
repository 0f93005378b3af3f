// RLPx constants and the spec sections they come from: ethereum/devp2p rlpx.md, EIP-8
// (forward-compatible handshake) and EIP-706 (snappy). Links go to the section that defines each.
export const RLPX_MD = 'https://github.com/ethereum/devp2p/blob/master/rlpx.md';
export const SPEC = {
  ecies: `${RLPX_MD}#ecies-encryption`,
  handshake: `${RLPX_MD}#initial-handshake`,
  authAck: `${RLPX_MD}#initial-handshake`,
  eip8: 'https://eips.ethereum.org/EIPS/eip-8',
  secrets: `${RLPX_MD}#initial-handshake`,
  framing: `${RLPX_MD}#framing`,
  mac: `${RLPX_MD}#mac`,
  messages: `${RLPX_MD}#message-encoding`,
  capabilities: `${RLPX_MD}#capability-messaging`,
  hello: `${RLPX_MD}#hello-0x00`,
  disconnect: `${RLPX_MD}#disconnect-0x01`,
  ping: `${RLPX_MD}#ping-0x02`,
  pong: `${RLPX_MD}#pong-0x03`,
  snappy: 'https://eips.ethereum.org/EIPS/eip-706',
  snappyFormat: 'https://github.com/google/snappy/blob/main/format_description.txt',
} as const;

/** ECIES adds the sender's ephemeral key (65), the IV (16) and the HMAC tag (32). */
export const ECIES_OVERHEAD = 65 + 16 + 32;
/** Pre-EIP-8 sizes (rlpx.md, "auth" and "ack" before EIP-8): fixed, no size prefix. */
export const AUTH_V4_PLAIN = 194;
export const ACK_V4_PLAIN = 97;
export const AUTH_V4_SIZE = AUTH_V4_PLAIN + ECIES_OVERHEAD; // 307
export const ACK_V4_SIZE = ACK_V4_PLAIN + ECIES_OVERHEAD; // 210
/** The auth-vsn and ack-vsn we send. */
export const HANDSHAKE_VERSION = 4;

/** The p2p capability's message ids; sub-protocols start at 0x10. */
export const P2P_IDS = { hello: 0x00, disconnect: 0x01, ping: 0x02, pong: 0x03 } as const;
export const P2P_LENGTH = 0x10;
/** Hello's protocolVersion we speak: 5 turns on snappy after Hello (EIP-706). */
export const P2P_VERSION = 5;
export const SNAPPY_VERSION = 5;

/** Frame sizes are 3 bytes; a decompressed message is capped at 16 MiB (go-ethereum's maxUint24). */
export const MAX_FRAME_SIZE = 0xffffff;
export const MAX_UNCOMPRESSED = 16 * 1024 * 1024;

/** Disconnect reasons (rlpx.md, Disconnect (0x01)), every code named. */
export const DISCONNECT_REASONS: Record<number, string> = {
  0x00: 'disconnect requested',
  0x01: 'TCP sub-system error',
  0x02: 'breach of protocol (a malformed message, bad RLP, …)',
  0x03: 'useless peer',
  0x04: 'too many peers',
  0x05: 'already connected',
  0x06: 'incompatible P2P protocol version',
  0x07: 'null node identity received (automatically invalid)',
  0x08: 'client quitting',
  0x09: 'unexpected identity in handshake',
  0x0a: 'identity is the same as this node (connected to itself)',
  0x0b: 'ping timeout',
  0x10: 'some other reason specific to a subprotocol',
};

export const disconnectReasonText = (code: number): string => `0x${code.toString(16).padStart(2, '0')} (${DISCONNECT_REASONS[code] ?? 'unknown reason'})`;
