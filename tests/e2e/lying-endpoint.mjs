// A JSON-RPC endpoint on loopback that forwards to an honest node and lies in one way: what a
// compromised or malicious public endpoint could answer. The verified-RPC transport must reject
// every lie with its reason and take the answer from an honest endpoint instead.
import { generateKeyPairSync, sign } from 'node:crypto';
import { blake2b } from '@noble/hashes/blake2.js';
import { WebSocket, WebSocketServer } from 'ws';

const hex = (bytes) => `0x${Buffer.from(bytes).toString('hex')}`;
const unhex = (text) => Buffer.from(text.slice(2), 'hex');

// SCALE compact integer, for the numbers met here (< 2^30).
function compact(n) {
  if (n < 64) return Buffer.from([n << 2]);
  if (n < 1 << 14) {
    const two = Buffer.alloc(2);
    two.writeUInt16LE((n << 2) | 1);
    return two;
  }
  const four = Buffer.alloc(4);
  four.writeUInt32LE(((n << 2) | 2) >>> 0);
  return four;
}

const u32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32LE(n); return b; };
const u64 = (n) => { const b = Buffer.alloc(8); b.writeBigUInt64LE(BigInt(n)); return b; };

/** The block hash of a header in `chain_getHeader`'s JSON form: blake2b-256 of its SCALE bytes. */
function headerHash(header) {
  const logs = header.digest.logs.map(unhex);
  const scale = Buffer.concat([
    unhex(header.parentHash), compact(Number(BigInt(header.number))), unhex(header.stateRoot),
    unhex(header.extrinsicsRoot), compact(logs.length), ...logs,
  ]);
  return Buffer.from(blake2b(scale, { dkLen: 32 }));
}

/** A `FinalityProof` of `(hash, number)` whose justification the stranger signs for `setId`. */
function strangersFinalityProof(hash, number, setId) {
  const round = u64(number);
  const payload = Buffer.concat([Buffer.from([1]), hash, u32(number), round, u64(setId)]);
  const signature = sign(null, payload, stranger.privateKey);
  const justification = Buffer.concat([
    round, hash, u32(number),
    compact(1), hash, u32(number), signature, strangerPublic,
    compact(0),
  ]);
  return hex(Buffer.concat([hash, compact(justification.length), justification, compact(0)]));
}

/**
 * The forged chain of a forced authority change on top of the honest header `parent` (with hash
 * `parentHash`): a child carrying `ForcedChange(→ the stranger, delay 0)`, and its child. Returns
 * both headers by hash, the head's hash, and the stranger's finality proof of the head for the
 * set after the honest one.
 */
function forgeForcedChange(parent, parentHash) {
  // ConsensusLog::ForcedChange(median 0, ScheduledChange { [(stranger, 1)], delay 0 })
  const log = Buffer.concat([Buffer.from([2]), u32(0), compact(1), strangerPublic, u64(1), u32(0)]);
  const item = Buffer.concat([Buffer.from([4]), Buffer.from('FRNK'), compact(log.length), log]);
  const child = (of, ofHash, logs) => ({
    parentHash: hex(ofHash), number: `0x${(Number(BigInt(of.number)) + 1).toString(16)}`,
    stateRoot: of.stateRoot, extrinsicsRoot: of.extrinsicsRoot, digest: { logs },
  });
  const first = child(parent, parentHash, [hex(item)]);
  const firstHash = headerHash(first);
  const second = child(first, firstHash, []);
  const secondHash = headerHash(second);
  return {
    headers: new Map([[hex(firstHash), first], [hex(secondHash), second]]),
    head: hex(secondHash),
    proof: strangersFinalityProof(secondHash, Number(BigInt(second.number)), 1),
  };
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

// How each lie rewrites an honest `result` of `method` (`ask` puts questions of its own to the
// honest node; `forged` is what the connection forged so far; `params` are the request's and
// `options` the lie's own).
const LIES = {
  // The first uid's value of one stored vector changed in every read proof that holds it:
  // `options.key` names the entry (an audit's `Incentive[netuid]`).
  'changed-stored-value': async (method, result, { ask, params, options }) => {
    if (method !== 'state_getReadProof' || !params[0].includes(options.key)) return result;
    const value = unhex(await ask('state_getStorage', [options.key, params[1]]));
    const prefix = [1, 2, 4][value[0] & 3] ?? 1; // the vector's compact length
    const nodes = result.proof.map(unhex);
    const node = nodes.find((n) => n.indexOf(value) >= 0);
    if (!node) return result;
    node[node.indexOf(value) + prefix] ^= 1;
    return { ...result, proof: nodes.map(hex) };
  },
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
  // The forged chain of a forced authority change: the finalized head is a forged header after
  // the honest one, with a forced change to the stranger, justified by the stranger.
  'forced-change': async (method, result, { ask, forged }) => {
    if (method !== 'chain_getFinalizedHead') return result;
    Object.assign(forged, forgeForcedChange(await ask('chain_getHeader', [result]), unhex(result)));
    return forged.head;
  },
};

// Questions a lie answers itself, without the honest node: `undefined` when it does not.
const OWN_ANSWERS = {
  'forced-change': (method, params, { forged }) => {
    if (method === 'chain_getHeader') return forged.headers?.get(params[0]);
    if (method === 'grandpa_proveFinality') return forged.proof;
    return undefined;
  },
};

/**
 * Starts a lying endpoint in front of `upstream`; resolves to its `ws://` URL, a `close`, and
 * how many answers it changed (`told()`).
 */
export async function lyingEndpoint(upstream, lie, options = {}) {
  let told = 0;
  const rewrite = LIES[lie];
  if (!rewrite) throw new Error(`no lie called ${lie}`);
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 256 << 20 });
  server.on('connection', (client) => {
    const node = new WebSocket(upstream, { maxPayload: 256 << 20 });
    const asked = new Map();
    const waiting = [];
    const own = new Map(); // the proxy's own questions, by id
    const forged = {};
    const toNode = (text) => (node.readyState === WebSocket.OPEN ? node.send(text) : waiting.push(text));
    let next = 0;
    const ask = (method, params) => new Promise((resolve, reject) => {
      const id = `lie-${next++}`;
      own.set(id, { resolve, reject });
      toNode(JSON.stringify({ jsonrpc: '2.0', id, method, params }));
    });
    node.on('open', () => waiting.splice(0).forEach((text) => node.send(text)));
    node.on('message', async (data) => {
      const message = JSON.parse(data.toString());
      if (own.has(message.id)) {
        const { resolve, reject } = own.get(message.id);
        own.delete(message.id);
        return 'result' in message ? resolve(message.result) : reject(new Error(JSON.stringify(message.error)));
      }
      const request = asked.get(message.id);
      if (request && 'result' in message) {
        asked.delete(message.id);
        const honest = JSON.stringify(message.result);
        message.result = await rewrite(request.method, message.result, { ask, forged, params: request.params, options });
        if (JSON.stringify(message.result) !== honest) told += 1;
      }
      client.send(JSON.stringify(message));
    });
    node.on('close', () => client.close());
    node.on('error', () => client.close());
    client.on('message', (data) => {
      const text = data.toString();
      const request = JSON.parse(text);
      const answer = OWN_ANSWERS[lie]?.(request.method, request.params, { forged });
      if (answer !== undefined) {
        client.send(JSON.stringify({ jsonrpc: '2.0', id: request.id, result: answer }));
        return;
      }
      asked.set(request.id, request);
      toNode(text);
    });
    client.on('close', () => node.close());
  });
  await new Promise((resolve) => server.on('listening', resolve));
  return {
    url: `ws://127.0.0.1:${server.address().port}`,
    told: () => told,
    // The page keeps asking every endpoint: its connections are cut, or closing would wait on them.
    close: () => new Promise((resolve) => {
      for (const client of server.clients) client.terminate();
      server.close(resolve);
    }),
  };
}
