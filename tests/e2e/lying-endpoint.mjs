// A JSON-RPC endpoint on loopback that forwards to an honest node and lies in one way: what a
// compromised or malicious public endpoint could answer. The verified-RPC transport must reject
// every lie with its reason and take the answer from an honest endpoint instead.
import { generateKeyPairSync, sign } from 'node:crypto';
import { WebSocket, WebSocketServer } from 'ws';

const hex = (bytes) => `0x${Buffer.from(bytes).toString('hex')}`;
const unhex = (text) => Buffer.from(text.slice(2), 'hex');

// SCALE compact length, for the lengths met here (< 2^14).
function compact(n) {
  if (n < 64) return Buffer.from([n << 2]);
  const two = Buffer.alloc(2);
  two.writeUInt16LE((n << 2) | 1);
  return two;
}

function readCompact(bytes, at) {
  const mode = bytes[at] & 3;
  if (mode === 0) return [bytes[at] >> 2, at + 1];
  if (mode === 1) return [bytes.readUInt16LE(at) >> 2, at + 2];
  return [bytes.readUInt32LE(at) >>> 2, at + 4];
}

// An ed25519 key that is no GRANDPA authority of any chain.
const stranger = generateKeyPairSync('ed25519');
const strangerPublic = Buffer.from(stranger.publicKey.export({ format: 'jwk' }).x, 'base64url');

// A `FinalityProof { block, justification, unknown_headers }` whose justification is re-signed
// by the stranger, for the same block, round and set 0.
function resignedFinalityProof(proofHex) {
  const proof = unhex(proofHex);
  const hash = proof.subarray(0, 32);
  const [, start] = readCompact(proof, 32);
  const justification = proof.subarray(start);
  const round = justification.subarray(0, 8);
  const number = justification.subarray(40, 44);
  const setId = Buffer.alloc(8);
  const payload = Buffer.concat([Buffer.from([1]), hash, number, round, setId]);
  const signature = sign(null, payload, stranger.privateKey);
  const forged = Buffer.concat([
    round, hash, number,
    compact(1), hash, number, signature, strangerPublic,
    compact(0),
  ]);
  return hex(Buffer.concat([hash, compact(forged.length), forged, compact(0)]));
}

// How each lie rewrites an honest `result` of `method`.
const LIES = {
  // A byte of the largest node of a read proof (a storage value) changed.
  'changed-value': (method, result) => {
    if (method !== 'state_getReadProof') return result;
    const nodes = result.proof.map(unhex);
    const largest = nodes.reduce((best, node, i) => (node.length > nodes[best].length ? i : best), 0);
    nodes[largest][nodes[largest].length - 1] ^= 1;
    return { ...result, proof: nodes.map(hex) };
  },
  // Headers with another state root: they hash to another block than the one asked for.
  'bad-header': (method, result) =>
    method === 'chain_getHeader' && result ? { ...result, stateRoot: hex(Buffer.alloc(32, 1)) } : result,
  // Finality proofs signed by a key outside the authority set.
  'wrong-key': (method, result) =>
    method === 'grandpa_proveFinality' && typeof result === 'string' ? resignedFinalityProof(result) : result,
};

/** Starts a lying endpoint in front of `upstream`; resolves to its `ws://` URL and a `close`. */
export async function lyingEndpoint(upstream, lie) {
  const rewrite = LIES[lie];
  if (!rewrite) throw new Error(`no lie called ${lie}`);
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 256 << 20 });
  server.on('connection', (client) => {
    const node = new WebSocket(upstream, { maxPayload: 256 << 20 });
    const asked = new Map();
    const waiting = [];
    node.on('open', () => waiting.splice(0).forEach((text) => node.send(text)));
    node.on('message', (data) => {
      const message = JSON.parse(data.toString());
      const request = asked.get(message.id);
      if (request && 'result' in message) {
        asked.delete(message.id);
        message.result = rewrite(request.method, message.result);
      }
      client.send(JSON.stringify(message));
    });
    node.on('close', () => client.close());
    node.on('error', () => client.close());
    client.on('message', (data) => {
      const text = data.toString();
      const request = JSON.parse(text);
      asked.set(request.id, request);
      if (node.readyState === WebSocket.OPEN) node.send(text);
      else waiting.push(text);
    });
    client.on('close', () => node.close());
  });
  await new Promise((resolve) => server.on('listening', resolve));
  return {
    url: `ws://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
