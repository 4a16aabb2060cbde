//! The Merkle trie of a block's state, and the proofs that light clients check against the
//! state root in the block's header.
//!
//! A state is small on a local chain (thousands of keys), so a block's trie is built whole: every
//! node's value encoded bottom-up with smoldot's `trie_node` codec, in the runtime's trie
//! version (V1 hashes values of 33 bytes or more out of their node and the proof carries them
//! beside it). [`Tries`] keeps the last few built, since a light client reads one block in many
//! small requests.

use crate::runtime::Storage;
use smoldot::trie::trie_structure::{Entry, NodeAccess, NodeIndex, TrieStructure};
use smoldot::trie::{self, Nibble, TrieEntryVersion, trie_node};
use std::collections::{BTreeSet, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// How many blocks' tries [`Tries`] keeps.
const TRIES_KEPT: usize = 8;

/// The tries of the last blocks that proofs were asked at. Building one hashes the whole state
/// (the runtime's code included); smoldot-light reads a block one key per request, and an audit
/// asks for hundreds of keys at the same two blocks.
#[derive(Default)]
pub struct Tries {
    kept: Mutex<VecDeque<([u8; 32], SharedTrie)>>,
}

/// A block's trie, shared by the requests that prove from it.
type SharedTrie = Arc<Mutex<StateTrie>>;

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Tries {
    /// The proof of `keys` in the state of block `block` (hash), building its trie if it is not
    /// kept. `state` must be that block's state.
    pub fn read_proof<'k>(
        &self,
        block: [u8; 32],
        state: &Storage,
        version: TrieEntryVersion,
        keys: impl IntoIterator<Item = &'k [u8]>,
    ) -> Vec<Vec<u8>> {
        self.with_trie(block, state, version, |trie| trie.read_proof(keys))
    }

    /// `f` on the trie of block `block` (hash), built if it is not kept. `state` must be that
    /// block's state.
    pub fn with_trie<R>(
        &self,
        block: [u8; 32],
        state: &Storage,
        version: TrieEntryVersion,
        f: impl FnOnce(&mut StateTrie) -> R,
    ) -> R {
        let kept = lock(&self.kept)
            .iter()
            .find(|(hash, _)| *hash == block)
            .map(|(_, trie)| Arc::clone(trie));
        // Built outside the list's lock: two requests at a new block may both build it.
        let trie = kept.unwrap_or_else(|| {
            let trie = Arc::new(Mutex::new(StateTrie::new(state, version)));
            let mut kept = lock(&self.kept);
            if kept.len() >= TRIES_KEPT {
                kept.pop_front();
            }
            kept.push_back((block, Arc::clone(&trie)));
            trie
        });
        f(&mut lock(&trie))
    }
}

#[derive(Default)]
struct Node {
    /// The storage value, for a node that has one.
    value: Option<Vec<u8>>,
    /// The node value (the encoded node), once computed.
    encoded: Vec<u8>,
    /// Its Merkle value: the node value if under 32 bytes (inlined in the parent), else its hash.
    merkle: Vec<u8>,
}

pub struct StateTrie {
    structure: TrieStructure<Node>,
    version: TrieEntryVersion,
}

impl StateTrie {
    pub fn new(state: &Storage, version: TrieEntryVersion) -> Self {
        let mut structure = TrieStructure::<Node>::new();
        for (key, value) in state {
            let nibbles = trie::bytes_to_nibbles(key.iter().copied());
            let node = Node {
                value: Some(value.to_vec()),
                ..Node::default()
            };
            match structure.node(nibbles) {
                Entry::Vacant(vacant) => {
                    vacant.insert_storage_value().insert(node, Node::default());
                }
                // Keys of a map are distinct: a node can only exist as the branch that the
                // insertion of a longer key created before.
                Entry::Occupied(NodeAccess::Branch(mut branch)) => {
                    *branch.user_data() = node;
                    branch.insert_storage_value();
                }
                Entry::Occupied(NodeAccess::Storage(_)) => {}
            }
        }
        // Pre-order reversed: every child before its parent.
        let order: Vec<NodeIndex> = structure.iter_ordered().collect();
        for index in order.into_iter().rev() {
            let Some(mut node) = structure.node_by_index(index) else {
                continue;
            };
            let children: [Option<Vec<u8>>; 16] = std::array::from_fn(|n| {
                let nibble = Nibble::try_from(n as u8).ok()?;
                node.child_user_data(nibble)
                    .map(|child| child.merkle.clone())
            });
            let partial_key: Vec<Nibble> = node.partial_key().collect();
            let is_root = node.is_root_node();
            let data = node.user_data();
            let hashed;
            let storage_value = match &data.value {
                None => trie_node::StorageValue::None,
                Some(value) if hashed_out(version, value) => {
                    hashed = blake2_256(value);
                    trie_node::StorageValue::Hashed(&hashed)
                }
                Some(value) => trie_node::StorageValue::Unhashed(value),
            };
            let decoded = trie_node::Decoded {
                partial_key: partial_key.iter().copied(),
                children: children.each_ref().map(|c| c.as_deref()),
                storage_value,
            };
            // Only an invalid partial key length (beyond what a 64 KiB key makes) fails here.
            let encoded = trie_node::encode_to_vec(decoded).unwrap_or_default();
            let merkle = if carried(is_root, &encoded) {
                blake2_256(&encoded).to_vec()
            } else {
                encoded.clone()
            };
            data.encoded = encoded;
            data.merkle = merkle;
        }
        Self { structure, version }
    }

    /// The state root: the hash of the root node (an empty trie's is the hash of a zero byte).
    pub fn root(&mut self) -> [u8; 32] {
        match self.structure.root_node() {
            Some(mut root) => {
                let merkle = &root.user_data().merkle;
                merkle.as_slice().try_into().unwrap_or([0; 32])
            }
            None => blake2_256(&[0]),
        }
    }

    /// The Merkle value of the node at `key` or, if none is there, of the first node below it
    /// (the node whose key is the shortest that starts with `key`); `None` if no node does.
    pub fn closest_descendant_merkle_value(&mut self, key: &[Nibble]) -> Option<Vec<u8>> {
        let mut current = self.structure.root_node()?.node_index();
        let mut consumed = 0;
        loop {
            let mut node = self.structure.node_by_index(current)?;
            let partial_key: Vec<Nibble> = node.partial_key().collect();
            let rest = key.get(consumed..).unwrap_or_default();
            if partial_key.starts_with(rest) {
                // `key` ends inside (or at the end of) this node's partial key.
                return Some(node.user_data().merkle.clone());
            }
            if !rest.starts_with(&partial_key) {
                return None;
            }
            let nibble = *rest.get(partial_key.len())?;
            current = node.child(nibble)?.node_index();
            consumed += partial_key.len() + 1;
        }
    }

    /// The proof of each key's value or absence: the node values on the path from the root to
    /// where the key is or would be (inlined nodes travel inside their parent), and the values
    /// hashed out of their node. Sorted and without duplicates.
    pub fn read_proof<'k>(&mut self, keys: impl IntoIterator<Item = &'k [u8]>) -> Vec<Vec<u8>> {
        let mut entries = BTreeSet::new();
        for key in keys {
            let target: Vec<Nibble> = trie::bytes_to_nibbles(key.iter().copied()).collect();
            let Some(mut current) = self.structure.root_node().map(|n| n.node_index()) else {
                continue;
            };
            let mut consumed = 0;
            while let Some(mut node) = self.structure.node_by_index(current) {
                let partial_key: Vec<Nibble> = node.partial_key().collect();
                let is_root = node.is_root_node();
                let rest = target.get(consumed..).unwrap_or_default();
                let on_path = rest.starts_with(&partial_key);
                let next = if on_path {
                    rest.get(partial_key.len())
                        .and_then(|&nibble| node.child(nibble))
                        .map(|child| child.node_index())
                } else {
                    None
                };
                let at_key = on_path && rest.len() == partial_key.len();
                add_node(
                    &mut entries,
                    node.user_data(),
                    is_root,
                    at_key,
                    self.version,
                );
                match next {
                    Some(child) => {
                        consumed += partial_key.len() + 1;
                        current = child;
                    }
                    None => {
                        // The key ends at or above this node without a value of its own: add
                        // the node's children too. smoldot-light, resuming from a saved
                        // database, asks for the key of the branch above `:code` cut to whole
                        // bytes (`[3, a, 6]` is asked as `0x3a`) and then walks one node past
                        // that branch to read `:code`'s Merkle value; without the children it
                        // rejects the proof and downloads the whole runtime again.
                        if partial_key.starts_with(rest) && !at_key {
                            let children: Vec<NodeIndex> = (0..16u8)
                                .filter_map(|n| Nibble::try_from(n).ok())
                                .filter_map(|n| node.child(n).map(|c| c.node_index()))
                                .collect();
                            for child in children {
                                if let Some(mut child) = self.structure.node_by_index(child) {
                                    add_node(
                                        &mut entries,
                                        child.user_data(),
                                        false,
                                        false,
                                        self.version,
                                    );
                                }
                            }
                        }
                        break;
                    }
                }
            }
        }
        entries.into_iter().collect()
    }

    /// Every node (and hashed-out value) of the trie: the proof of any call on this state.
    pub fn whole_proof(&mut self) -> Vec<Vec<u8>> {
        let indices: Vec<NodeIndex> = self.structure.iter_unordered().collect();
        let mut entries = BTreeSet::new();
        for index in indices {
            let Some(mut node) = self.structure.node_by_index(index) else {
                continue;
            };
            let is_root = node.is_root_node();
            add_node(&mut entries, node.user_data(), is_root, true, self.version);
        }
        entries.into_iter().collect()
    }
}

/// A value that V1 keeps out of its node (the node holds its hash).
fn hashed_out(version: TrieEntryVersion, value: &[u8]) -> bool {
    version == TrieEntryVersion::V1 && value.len() >= 33
}

/// A node value that a proof carries itself: the root, and nodes of 32 bytes or more (shorter
/// ones are inlined in their parent).
fn carried(is_root: bool, encoded: &[u8]) -> bool {
    is_root || encoded.len() >= 32
}

/// Adds a node to a proof, and its value beside it when the value is hashed out of the node and
/// `with_value` (the proof is about that node's own key).
fn add_node(
    entries: &mut BTreeSet<Vec<u8>>,
    node: &Node,
    is_root: bool,
    with_value: bool,
    version: TrieEntryVersion,
) {
    if carried(is_root, &node.encoded) {
        entries.insert(node.encoded.clone());
    }
    if let Some(value) = &node.value
        && with_value
        && hashed_out(version, value)
    {
        entries.insert(value.clone());
    }
}

fn blake2_256(data: &[u8]) -> [u8; 32] {
    taoscope_light_client::hashing::blake2_256(data)
}

/// A proof's entries as one SCALE `Vec<Vec<u8>>` (the form of the light-client protocol and of
/// smoldot's proof decoder).
pub fn encode_proof(entries: &[Vec<u8>]) -> Vec<u8> {
    use parity_scale_codec::Encode;
    entries.encode()
}
