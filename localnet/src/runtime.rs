//! The runtime of a chain state, executed by smoldot's executor (the wasmi interpreter).
//!
//! A call runs against a storage map; it may read any key and walk keys in order, and its writes
//! are returned, not applied. The runtime was built with benchmarks and imports host functions
//! nobody calls: those imports are allowed to stay unresolved.

use crate::proof::StateTrie;
use smoldot::executor::{self, host, runtime_call, storage_diff};
use smoldot::trie::{self, TrieEntryVersion, branch_search};
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Bound;
use std::sync::Arc;
use taoscope_light_client::hex::to_hex;

/// Storage: key → value, the main trie only. Values are shared, so that keeping the state of
/// every recent block costs only what each block changed (the runtime's `:code` alone is 280 KiB).
pub type Storage = BTreeMap<Vec<u8>, Arc<[u8]>>;

/// A call's storage writes: key → new value, `None` for a deletion.
pub type Writes = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// The changes of a block's earlier calls, seen by the next call on top of the parent state.
pub type Overlay = storage_diff::TrieDiff;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuntimeError {
    /// No `:code` in the state.
    NoCode,
    /// The wasm blob does not load (corrupt, or imports the host cannot give).
    Load(String),
    /// The call trapped or returned an error.
    Call { function: String, why: String },
    /// The call asked for something this host does not provide yet.
    Unsupported {
        function: String,
        what: &'static str,
    },
}

impl fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuntimeError::NoCode => write!(f, "the state has no runtime (:code)"),
            RuntimeError::Load(why) => write!(f, "the runtime does not load: {why}"),
            RuntimeError::Call { function, why } => write!(f, "{function} failed: {why}"),
            RuntimeError::Unsupported { function, what } => {
                write!(
                    f,
                    "{function} needs {what}, which this node does not provide yet"
                )
            }
        }
    }
}

impl std::error::Error for RuntimeError {}

/// What `Core_version` says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    pub spec_name: String,
    pub spec_version: u32,
    pub transaction_version: Option<u32>,
    pub state_version: TrieEntryVersion,
}

/// A loaded runtime, reusable across calls.
pub struct Runtime {
    prototype: Option<host::HostVmPrototype>,
}

/// A copy shares the compiled code and starts a fresh instance: what a JSON-RPC call runs on
/// while the author keeps the original.
impl Clone for Runtime {
    fn clone(&self) -> Self {
        Runtime {
            prototype: self.prototype.clone(),
        }
    }
}

impl Runtime {
    /// Loads the runtime of `storage` (its `:code` and `:heappages`).
    pub fn of(storage: &Storage) -> Result<Self, RuntimeError> {
        let code = storage
            .get(b":code".as_slice())
            .ok_or(RuntimeError::NoCode)?;
        let heap_pages = executor::storage_heap_pages_to_value(
            storage.get(b":heappages".as_slice()).map(|v| &v[..]),
        )
        .map_err(|e| RuntimeError::Load(e.to_string()))?;
        let prototype = host::HostVmPrototype::new(host::Config {
            module: &code[..],
            heap_pages,
            exec_hint: executor::vm::ExecHint::ValidateAndExecuteOnce,
            allow_unresolved_imports: true,
        })
        .map_err(|e| RuntimeError::Load(e.to_string()))?;
        Ok(Self {
            prototype: Some(prototype),
        })
    }

    pub fn version(&self) -> Option<Version> {
        let version = self.prototype.as_ref()?.runtime_version().decode();
        Some(Version {
            spec_name: version.spec_name.to_string(),
            spec_version: version.spec_version,
            transaction_version: version.transaction_version,
            state_version: version.state_version.unwrap_or(TrieEntryVersion::V0),
        })
    }

    /// `Core_version` as `state_getRuntimeVersion` shows it.
    pub fn version_json(&self) -> Option<serde_json::Value> {
        let version = self.prototype.as_ref()?.runtime_version().decode();
        let apis: Vec<serde_json::Value> = version
            .apis
            .map(|api| serde_json::json!([to_hex(&api.name_hash), api.version]))
            .collect();
        Some(serde_json::json!({
            "specName": version.spec_name,
            "implName": version.impl_name,
            "authoringVersion": version.authoring_version,
            "specVersion": version.spec_version,
            "implVersion": version.impl_version,
            "apis": apis,
            "transactionVersion": version.transaction_version,
            "stateVersion": version.state_version.map(|v| v as u8),
        }))
    }

    /// The trie version the runtime writes state with.
    pub fn state_version(&self) -> TrieEntryVersion {
        self.version()
            .map_or(TrieEntryVersion::V0, |v| v.state_version)
    }

    /// Calls `function` with `parameter` against `storage`; returns the output and the writes
    /// (`None`: deleted).
    pub fn call(
        &mut self,
        storage: &Storage,
        function: &str,
        parameter: &[u8],
    ) -> Result<(Vec<u8>, Writes), RuntimeError> {
        let (output, diff) = self.call_on(storage, None, Overlay::empty(), function, parameter)?;
        let writes = diff
            .diff_into_iter_unordered()
            .map(|(key, value, ())| (key, value))
            .collect();
        Ok((output, writes))
    }

    /// Calls `function` against `storage` with `overlay` (the changes of earlier calls in the
    /// same block) on top; returns the output and the overlay with this call's changes added.
    ///
    /// Calls of one block must share their parent's state and pass the overlay along, not apply
    /// each call's writes to a copy of the state: the state root calculation learns the trie's
    /// branch nodes from the base state, and a base key that a later call deletes (the
    /// `:extrinsic_index` of the block's last extrinsic, for one) would leave a branch node
    /// behind that is no longer there.
    ///
    /// `trie`, the Merkle trie of `storage` when the caller has it, answers the state root
    /// calculation's questions about unchanged subtrees; without it the calculation walks every
    /// key (1 800 requests on a fresh localnet state, most of a block's time).
    pub fn call_on(
        &mut self,
        storage: &Storage,
        mut trie: Option<&mut StateTrie>,
        overlay: Overlay,
        function: &str,
        parameter: &[u8],
    ) -> Result<(Vec<u8>, Overlay), RuntimeError> {
        // Read before the runtime is lent to the call: a value's trie version is part of the
        // state root, and every value this node stores was written by this runtime.
        let state_version = self.state_version();
        let prototype = self.prototype.take().ok_or_else(|| RuntimeError::Call {
            function: function.into(),
            why: "the runtime was lost by an earlier failure".into(),
        })?;
        let fail = |why: String| RuntimeError::Call {
            function: function.into(),
            why,
        };
        let mut call = match runtime_call::run(runtime_call::Config {
            virtual_machine: prototype,
            function_to_call: function,
            parameter: std::iter::once(parameter),
            storage_main_trie_changes: overlay,
            storage_proof_size_behavior:
                runtime_call::StorageProofSizeBehavior::proof_recording_disabled(),
            // Errors only: a runtime's panic message arrives as an error log before the trap.
            max_log_level: 1,
            calculate_trie_changes: false,
        }) {
            Ok(call) => call,
            Err((error, prototype)) => {
                self.prototype = Some(prototype);
                return Err(fail(error.to_string()));
            }
        };
        let mut logged: Vec<String> = Vec::new();
        loop {
            call = match call {
                runtime_call::RuntimeCall::Finished(Ok(success)) => {
                    let output = success.virtual_machine.value().as_ref().to_vec();
                    self.prototype = Some(success.virtual_machine.into_prototype());
                    return Ok((output, success.storage_changes.into_main_trie_diff()));
                }
                runtime_call::RuntimeCall::Finished(Err(error)) => {
                    self.prototype = Some(error.prototype);
                    let mut why = error.detail.to_string();
                    if !logged.is_empty() {
                        why = format!("{why} ({})", logged.join("; "));
                    }
                    return Err(fail(why));
                }
                runtime_call::RuntimeCall::StorageGet(get) => {
                    if get.child_trie().is_some() {
                        self.prototype =
                            Some(runtime_call::RuntimeCall::StorageGet(get).into_prototype());
                        return Err(RuntimeError::Unsupported {
                            function: function.into(),
                            what: "child tries",
                        });
                    }
                    let value = storage.get(get.key().as_ref());
                    get.inject_value(value.map(|v| (std::iter::once(&v[..]), state_version)))
                }
                runtime_call::RuntimeCall::NextKey(next) => {
                    if next.child_trie().is_some() {
                        self.prototype =
                            Some(runtime_call::RuntimeCall::NextKey(next).into_prototype());
                        return Err(RuntimeError::Unsupported {
                            function: function.into(),
                            what: "child tries",
                        });
                    }
                    let found = next_key(
                        storage,
                        next.key(),
                        next.or_equal(),
                        next.prefix(),
                        next.branch_nodes(),
                    );
                    next.inject_key(found.map(Vec::into_iter))
                }
                runtime_call::RuntimeCall::ClosestDescendantMerkleValue(req) => {
                    match trie.as_deref_mut() {
                        Some(trie) if req.child_trie().is_none() => {
                            let key: Vec<trie::Nibble> = req.key().collect();
                            match trie.closest_descendant_merkle_value(&key) {
                                Some(merkle) => req.inject_merkle_value(Some(&merkle)),
                                None => req.resume_unknown(),
                            }
                        }
                        _ => req.resume_unknown(),
                    }
                }
                runtime_call::RuntimeCall::SignatureVerification(sig) => sig.verify_and_resume(),
                runtime_call::RuntimeCall::LogEmit(log) => {
                    match log.info() {
                        host::LogEmitInfo::Log { message, .. } => logged.push(message.to_string()),
                        host::LogEmitInfo::Utf8(text) => logged.push(text.to_string()),
                        _ => {}
                    }
                    log.resume()
                }
                runtime_call::RuntimeCall::OffchainStorageSet(set) => set.resume(),
                runtime_call::RuntimeCall::Offchain(ctx) => {
                    self.prototype =
                        Some(runtime_call::RuntimeCall::Offchain(ctx).into_prototype());
                    return Err(RuntimeError::Unsupported {
                        function: function.into(),
                        what: "an offchain worker context",
                    });
                }
            };
        }
    }
}

/// The trie node after (or at, with `or_equal`) the nibble path `key`, under `prefix`: a key
/// with a value, or, with `branch_nodes`, also a branch node (a path where keys diverge), which
/// the state root calculation walks. Only keys with values are stored; smoldot's branch search
/// infers the branch nodes from them.
fn next_key(
    storage: &Storage,
    key: impl Iterator<Item = trie::Nibble>,
    or_equal: bool,
    prefix: impl Iterator<Item = trie::Nibble>,
    branch_nodes: bool,
) -> Option<Vec<trie::Nibble>> {
    let mut search = branch_search::BranchSearch::NextKey(branch_search::start_branch_search(
        branch_search::Config {
            key_before: key,
            or_equal,
            prefix,
            no_branch_search: !branch_nodes,
        },
    ));
    loop {
        match search {
            branch_search::BranchSearch::Found {
                branch_trie_node_key,
            } => return branch_trie_node_key.map(Iterator::collect),
            branch_search::BranchSearch::NextKey(next) => {
                let start: Vec<u8> = next.key_before().collect();
                let prefix: Vec<u8> = next.prefix().collect();
                let lower = if next.or_equal() {
                    Bound::Included(start)
                } else {
                    Bound::Excluded(start)
                };
                let found = storage
                    .range::<Vec<u8>, _>((lower, Bound::Unbounded))
                    .next()
                    .map(|(k, _)| k)
                    .filter(|k| k.starts_with(&prefix));
                search = next.inject(found.map(|k| k.iter().copied()));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Storage, next_key};
    use smoldot::trie::{self, Nibble};

    fn nibbles(bytes: &[u8]) -> Vec<Nibble> {
        trie::bytes_to_nibbles(bytes.iter().copied()).collect()
    }

    #[test]
    fn next_key_walks_byte_keys_in_nibble_order() {
        let storage: Storage = [vec![0x01], vec![0x01, 0x02], vec![0x02], vec![0x12, 0x34]]
            .into_iter()
            .map(|k| (k, Vec::new().into()))
            .collect();
        let next = |key: &[Nibble], or_equal, prefix: &[Nibble]| {
            next_key(
                &storage,
                key.iter().copied(),
                or_equal,
                prefix.iter().copied(),
                false,
            )
        };
        assert_eq!(next(&[], true, &[]), Some(nibbles(&[0x01])));
        assert_eq!(next(&nibbles(&[0x01]), true, &[]), Some(nibbles(&[0x01])));
        assert_eq!(
            next(&nibbles(&[0x01]), false, &[]),
            Some(nibbles(&[0x01, 0x02]))
        );
        // An odd path: the first key under it.
        let one = nibbles(&[0x10]);
        assert_eq!(next(&one[..1], false, &[]), Some(nibbles(&[0x12, 0x34])));
        // A prefix that nothing after the start has.
        assert_eq!(
            next(&nibbles(&[0x02]), false, &one[..1]),
            Some(nibbles(&[0x12, 0x34]))
        );
        assert_eq!(next(&nibbles(&[0x02]), false, &nibbles(&[0x02])), None);
        assert_eq!(next(&nibbles(&[0x12, 0x34]), false, &[]), None);
    }

    #[test]
    fn branch_nodes_are_found_between_keys() {
        // 0x1234 and 0x1256 diverge after the nibbles 1,2: a branch node at path [1, 2].
        let storage: Storage = [vec![0x12, 0x34], vec![0x12, 0x56]]
            .into_iter()
            .map(|k| (k, Vec::new().into()))
            .collect();
        let first = next_key(&storage, std::iter::empty(), true, std::iter::empty(), true);
        assert_eq!(
            first,
            Some(vec![
                Nibble::try_from(1).unwrap(),
                Nibble::try_from(2).unwrap()
            ])
        );
        let first_value = next_key(
            &storage,
            std::iter::empty(),
            true,
            std::iter::empty(),
            false,
        );
        assert_eq!(first_value, Some(nibbles(&[0x12, 0x34])));
    }
}

#[cfg(test)]
mod branch_tests {
    use super::{Storage, next_key};
    use smoldot::trie::{
        self, Nibble,
        trie_structure::{Entry, TrieStructure},
    };

    /// `next_key` with branch nodes agrees with smoldot's trie structure on every node of a
    /// real-looking key set, from every start, with and without prefixes.
    #[test]
    fn next_key_agrees_with_the_trie_structure() {
        let keys: Vec<Vec<u8>> = vec![
            vec![0x26, 0xaa, 0x39, 0x4e, 0xea, 0x56, 0x30, 0xe0, 0x7c, 0x48],
            vec![0x26, 0xaa, 0x39, 0x4e, 0xea, 0x56, 0x30, 0xe0, 0x7c, 0x49],
            vec![0x26, 0xaa, 0x39, 0x4f],
            vec![0x26, 0xab],
            vec![0x3a, 0x63, 0x6f, 0x64, 0x65],
            vec![0x3a, 0x68],
            vec![0x3a],
            vec![0x5f, 0x3e],
            vec![0x5f, 0x3e, 0x49],
            vec![0x5f, 0x3e, 0x49, 0x07],
        ];
        let storage: Storage = keys
            .iter()
            .map(|k| (k.clone(), Vec::new().into()))
            .collect();
        let mut structure = TrieStructure::<()>::new();
        for key in &keys {
            let nibbles: Vec<Nibble> = trie::bytes_to_nibbles(key.iter().copied()).collect();
            match structure.node(nibbles.into_iter()) {
                Entry::Vacant(v) => {
                    v.insert_storage_value().insert((), ());
                }
                Entry::Occupied(_) => unreachable!(),
            }
        }
        let nodes: Vec<Vec<Nibble>> = structure
            .iter_ordered()
            .map(|i| structure.node_full_key_by_index(i).unwrap().collect())
            .collect();
        let mut starts: Vec<Vec<Nibble>> = nodes.clone();
        for node in &nodes {
            for cut in 0..node.len() {
                starts.push(node[..cut].to_vec());
            }
        }
        for start in &starts {
            for prefix_len in 0..=start.len().min(3) {
                let prefix = &start[..prefix_len];
                for or_equal in [false, true] {
                    let expected = nodes
                        .iter()
                        .find(|n| if or_equal { *n >= start } else { *n > start })
                        .filter(|n| n.starts_with(prefix))
                        .cloned();
                    let got = next_key(
                        &storage,
                        start.iter().copied(),
                        or_equal,
                        prefix.iter().copied(),
                        true,
                    );
                    assert_eq!(
                        got, expected,
                        "start {start:?} prefix {prefix:?} {or_equal}"
                    );
                }
            }
        }
    }
}
