//! The runtime of a chain state, executed by smoldot's executor (the wasmi interpreter).
//!
//! A call runs against a storage map; it may read any key and walk keys in order, and its writes
//! are returned, not applied. The runtime was built with benchmarks and imports host functions
//! nobody calls: those imports are allowed to stay unresolved.

use smoldot::executor::{self, host, runtime_call, storage_diff};
use smoldot::trie::{self, TrieEntryVersion};
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Bound;

/// Storage: key → value, the main trie only.
pub type Storage = BTreeMap<Vec<u8>, Vec<u8>>;

/// A call's storage writes: key → new value, `None` for a deletion.
pub type Writes = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

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

impl Runtime {
    /// Loads the runtime of `storage` (its `:code` and `:heappages`).
    pub fn of(storage: &Storage) -> Result<Self, RuntimeError> {
        let code = storage
            .get(b":code".as_slice())
            .ok_or(RuntimeError::NoCode)?;
        let heap_pages = executor::storage_heap_pages_to_value(
            storage.get(b":heappages".as_slice()).map(Vec::as_slice),
        )
        .map_err(|e| RuntimeError::Load(e.to_string()))?;
        let prototype = host::HostVmPrototype::new(host::Config {
            module: code,
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

    /// Calls `function` with `parameter` against `storage`; returns the output and the writes
    /// (`None`: deleted).
    pub fn call(
        &mut self,
        storage: &Storage,
        function: &str,
        parameter: &[u8],
    ) -> Result<(Vec<u8>, Writes), RuntimeError> {
        let prototype = self.prototype.take().ok_or_else(|| RuntimeError::Call {
            function: function.into(),
            why: "the runtime was lost by an earlier failure".into(),
        })?;
        let state_version = self
            .version()
            .map_or(TrieEntryVersion::V0, |v| v.state_version);
        let fail = |why: String| RuntimeError::Call {
            function: function.into(),
            why,
        };
        let mut call = match runtime_call::run(runtime_call::Config {
            virtual_machine: prototype,
            function_to_call: function,
            parameter: std::iter::once(parameter),
            storage_main_trie_changes: storage_diff::TrieDiff::empty(),
            storage_proof_size_behavior:
                runtime_call::StorageProofSizeBehavior::proof_recording_disabled(),
            max_log_level: 0,
            calculate_trie_changes: false,
        }) {
            Ok(call) => call,
            Err((error, prototype)) => {
                self.prototype = Some(prototype);
                return Err(fail(error.to_string()));
            }
        };
        loop {
            call = match call {
                runtime_call::RuntimeCall::Finished(Ok(success)) => {
                    let writes = success
                        .storage_changes
                        .storage_changes_iter_unordered()
                        .filter(|(child, _, _)| child.is_none())
                        .map(|(_, key, value)| (key.to_vec(), value.map(<[u8]>::to_vec)))
                        .collect();
                    let output = success.virtual_machine.value().as_ref().to_vec();
                    self.prototype = Some(success.virtual_machine.into_prototype());
                    return Ok((output, writes));
                }
                runtime_call::RuntimeCall::Finished(Err(error)) => {
                    self.prototype = Some(error.prototype);
                    return Err(fail(error.detail.to_string()));
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
                    get.inject_value(value.map(|v| (std::iter::once(v), state_version)))
                }
                runtime_call::RuntimeCall::NextKey(next) => {
                    if next.branch_nodes() || next.child_trie().is_some() {
                        self.prototype =
                            Some(runtime_call::RuntimeCall::NextKey(next).into_prototype());
                        return Err(RuntimeError::Unsupported {
                            function: function.into(),
                            what: "trie branch nodes",
                        });
                    }
                    let key: Vec<trie::Nibble> = next.key().collect();
                    let prefix: Vec<trie::Nibble> = next.prefix().collect();
                    let found = next_key(storage, &key, next.or_equal(), &prefix);
                    next.inject_key(found.map(|k| trie::bytes_to_nibbles(k.into_iter())))
                }
                runtime_call::RuntimeCall::ClosestDescendantMerkleValue(req) => {
                    req.resume_unknown()
                }
                runtime_call::RuntimeCall::SignatureVerification(sig) => sig.verify_and_resume(),
                runtime_call::RuntimeCall::LogEmit(log) => log.resume(),
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

/// The first key of `storage` after (or at, with `or_equal`) the nibble path `key` that starts
/// with the nibble path `prefix`. Storage keys are whole bytes, so nibble paths compare as the
/// byte strings they pad to.
fn next_key(
    storage: &Storage,
    key: &[trie::Nibble],
    or_equal: bool,
    prefix: &[trie::Nibble],
) -> Option<Vec<u8>> {
    let start = trie::nibbles_to_bytes_suffix_extend(key.iter().copied()).collect::<Vec<u8>>();
    // An odd nibble path sorts before every byte key it is a prefix of: start at the padded key,
    // inclusive, unless the path was whole bytes and must be excluded.
    let exact = key.len().is_multiple_of(2);
    let lower = if exact && !or_equal {
        Bound::Excluded(start)
    } else {
        Bound::Included(start)
    };
    storage
        .range((lower, Bound::Unbounded))
        .map(|(k, _)| k)
        .find(|k| {
            !(exact
                && !or_equal
                && trie::bytes_to_nibbles(k.iter().copied()).eq(key.iter().copied()))
        })
        .filter(|k| {
            let nibbles: Vec<trie::Nibble> = trie::bytes_to_nibbles(k.iter().copied()).collect();
            nibbles.starts_with(prefix)
        })
        .cloned()
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
            .map(|k| (k, vec![]))
            .collect();
        let next =
            |key: &[Nibble], or_equal, prefix: &[Nibble]| next_key(&storage, key, or_equal, prefix);
        assert_eq!(next(&[], true, &[]), Some(vec![0x01]));
        assert_eq!(next(&nibbles(&[0x01]), true, &[]), Some(vec![0x01]));
        assert_eq!(next(&nibbles(&[0x01]), false, &[]), Some(vec![0x01, 0x02]));
        // An odd path: the first key under it.
        let one = nibbles(&[0x10]);
        assert_eq!(next(&one[..1], false, &[]), Some(vec![0x12, 0x34]));
        // A prefix that nothing after the start has.
        assert_eq!(
            next(&nibbles(&[0x02]), false, &one[..1]),
            Some(vec![0x12, 0x34])
        );
        assert_eq!(next(&nibbles(&[0x02]), false, &nibbles(&[0x02])), None);
        assert_eq!(next(&nibbles(&[0x12, 0x34]), false, &[]), None);
    }
}
