// What every `… listen` command starts with: the node's key (--key, or a fresh one) and its UDP
// socket; bad input (a key that is no secp256k1 key, an address that cannot be bound) is a UsageError.
import { parseHex } from '../../shared/bytes.ts';
import { isValidPrivateKey, randomPrivateKey } from '../../shared/crypto/secp256k1.ts';
import { secureRandom } from '../../shared/random.ts';
import type { DatagramSocket } from '../../shared/transport.ts';
import { nodeDatagramTransport } from '../node-transport.ts';
import { UsageError } from './usage.ts';

export async function listenKeyAndSocket(ip: string, port: number, keyHex: string | undefined): Promise<{ privateKey: Uint8Array; socket: DatagramSocket }> {
  let privateKey: Uint8Array;
  if (keyHex !== undefined) {
    const k = parseHex(keyHex);
    if (!k || !isValidPrivateKey(k)) throw new UsageError('bad --key: 64 hex digits of a valid secp256k1 private key');
    privateKey = k;
  } else privateKey = randomPrivateKey(secureRandom);
  const socket = await nodeDatagramTransport.openDatagram({ ip, port }).catch((e: Error) => {
    throw new UsageError(`cannot listen on ${ip}:${port}: ${e.message}`);
  });
  return { privateKey, socket };
}
