// libp2p constants and the spec sections that define them (libp2p/specs: connections,
// noise, yamux, peer-ids, ping, identify; the Noise Protocol Framework, revision 34).
const SPECS = 'https://github.com/libp2p/specs/blob/master';
const NOISE = 'https://noiseprotocol.org/noise.html';
export const SPEC = {
  multistream: 'https://github.com/multiformats/multistream-select#protocol',
  connections: `${SPECS}/connections/README.md#protocol-negotiation`,
  noise: `${SPECS}/noise/README.md`,
  noiseWire: `${SPECS}/noise/README.md#wire-format`,
  noisePayload: `${SPECS}/noise/README.md#the-libp2p-handshake-payload`,
  noiseSignature: `${SPECS}/noise/README.md#libp2p-signed-handshake-payload`,
  noiseExtensions: `${SPECS}/noise/README.md#handshake-payload-extensions`,
  noiseXX: `${SPECS}/noise/README.md#xx`,
  earlyMuxer: `${SPECS}/connections/inlined-muxer-negotiation.md`,
  noiseSpec: NOISE,
  noiseTokens: `${NOISE}#handshake-patterns`,
  noiseSymmetric: `${NOISE}#the-symmetricstate-object`,
  noiseCipher: `${NOISE}#the-cipherstate-object`,
  noiseHandshakeState: `${NOISE}#the-handshakestate-object`,
  noiseName: `${NOISE}#protocol-names-and-modifiers`,
  noiseSplit: `${NOISE}#the-symmetricstate-object`,
  yamux: `${SPECS}/yamux/README.md`,
  yamuxHeader: `${SPECS}/yamux/README.md#framing`,
  yamuxFlags: `${SPECS}/yamux/README.md#flag-field`,
  yamuxStreams: `${SPECS}/yamux/README.md#streamid-field`,
  yamuxWindow: `${SPECS}/yamux/README.md#flow-control`,
  peerIds: `${SPECS}/peer-ids/peer-ids.md`,
  keys: `${SPECS}/peer-ids/peer-ids.md#keys`,
  secp256k1: `${SPECS}/peer-ids/peer-ids.md#secp256k1`,
  peerIdText: `${SPECS}/peer-ids/peer-ids.md#string-representation`,
  ping: `${SPECS}/ping/ping.md`,
  identify: `${SPECS}/identify/README.md`,
  protobuf: 'https://protobuf.dev/programming-guides/encoding/',
  varint: 'https://github.com/multiformats/unsigned-varint',
  multiaddr: 'https://github.com/multiformats/multiaddr',
} as const;

export const MULTISTREAM = '/multistream/1.0.0';
export const NOISE_PROTOCOL = '/noise';
export const YAMUX_PROTOCOL = '/yamux/1.0.0';
export const PING_PROTOCOL = '/ipfs/ping/1.0.0';
export const IDENTIFY_PROTOCOL = '/ipfs/id/1.0.0';

/** The Noise protocol name: exactly 32 bytes (HASHLEN), so it is the initial h itself. */
export const NOISE_NAME = 'Noise_XX_25519_ChaChaPoly_SHA256';
/** What the identity key signs, before the Noise static key (noise/README.md). */
export const STATIC_KEY_PREFIX = 'noise-libp2p-static-key:';
/** A Noise message and its 2-byte length prefix: at most 65535 bytes after the prefix. */
export const NOISE_MAX_MESSAGE = 65535;
export const NOISE_TAG = 16;

/** Multistream lines: a protocol id is short; go and js refuse lines over 1024 bytes. */
export const MAX_MULTISTREAM_LINE = 1024;
/** Ping payloads are 32 random bytes echoed back (ping.md). */
export const PING_SIZE = 32;
/** Yamux: initial receive window per stream (256 KiB), header size. */
export const YAMUX_INITIAL_WINDOW = 256 * 1024;
export const YAMUX_HEADER = 12;
/** An identify message we read: js-libp2p caps it at 8 KiB. */
export const MAX_IDENTIFY = 8192;
