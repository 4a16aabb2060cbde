//! The runtime in force, from its proven code: its version, and calls into it.
//!
//! An endpoint's `state_getRuntimeVersion` and `state_getMetadata` are its word; the runtime's
//! `:code` read through a proof is the chain's. We compile that code with smoldot's executor
//! (wasmi: deterministic, and already in the light client's bundle) and ask it: its version
//! (from the code's `runtime_version` section or `Core_version`), and runtime calls such as
//! `Metadata_metadata`, which decoding then follows. A call that reads storage stops and names
//! the key; the caller proves the value against the same state root and resumes it.
//!
//! The code is hostile until proven otherwise, and even proven code is run with a fuel limit
//! ([`super::fuel`]): a call that never returns is stopped and reported, never left to freeze the
//! worker.

use super::fuel;
use crate::hashing::blake2_256;
use crate::runtime_spec::RuntimeSpec;
use smoldot::executor::{self, host, runtime_call};
use smoldot::trie::TrieEntryVersion;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RuntimeError {
    /// The proven `:code` is missing or cannot be compiled.
    Code(String),
    /// A call failed inside the runtime, or needs what a read-only call cannot have.
    Call { function: String, why: String },
}

impl fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuntimeError::Code(why) => write!(f, "the chain's runtime code: {why}"),
            RuntimeError::Call { function, why } => write!(f, "runtime call {function}: {why}"),
        }
    }
}

impl std::error::Error for RuntimeError {}

/// A compiled runtime (the proven `:code` of some finalized block).
pub struct Runtime {
    /// `None` only while a [`Call`] holds it.
    prototype: Option<host::HostVmPrototype>,
    spec: RuntimeSpec,
    /// blake2-256 of the `:code` it was compiled from: what caches of what it says are keyed by.
    code_hash: [u8; 32],
    fuel: u64,
}

impl Runtime {
    /// Compiles `code` (the value of `:code`) with `heap_pages` (the value of `:heappages`),
    /// each call limited to [`fuel::CALL_FUEL`].
    pub fn new(code: &[u8], heap_pages: Option<&[u8]>) -> Result<Self, RuntimeError> {
        Self::with_fuel(code, heap_pages, fuel::CALL_FUEL)
    }

    /// [`Runtime::new`] with each call limited to `fuel` instructions.
    pub fn with_fuel(
        code: &[u8],
        heap_pages: Option<&[u8]>,
        fuel: u64,
    ) -> Result<Self, RuntimeError> {
        let heap_pages = executor::storage_heap_pages_to_value(heap_pages)
            .map_err(|e| RuntimeError::Code(format!(":heappages: {e}")))?;
        let module = fuel::instrument(code, fuel).map_err(|e| RuntimeError::Code(e.to_string()))?;
        let prototype = host::HostVmPrototype::new(host::Config {
            module: &module,
            heap_pages,
            exec_hint: executor::vm::ExecHint::ValidateAndExecuteOnce,
            // Runtimes built with benchmarks import host functions no call here reaches.
            allow_unresolved_imports: true,
        })
        .map_err(|e| RuntimeError::Code(e.to_string()))?;
        let version = prototype.runtime_version().decode();
        let spec = RuntimeSpec {
            spec_name: version.spec_name.to_string(),
            spec_version: version.spec_version,
            transaction_version: version.transaction_version.unwrap_or(0),
        };
        Ok(Runtime {
            prototype: Some(prototype),
            spec,
            code_hash: blake2_256(code),
            fuel,
        })
    }

    pub fn spec(&self) -> &RuntimeSpec {
        &self.spec
    }

    pub fn code_hash(&self) -> &[u8; 32] {
        &self.code_hash
    }

    /// Starts `function(parameter)`; drive it with [`Call::step`] and hand the runtime back
    /// with [`Runtime::finish`].
    pub fn call(&mut self, function: &str, parameter: &[u8]) -> Result<Call, RuntimeError> {
        let failed = |why: String| RuntimeError::Call {
            function: function.to_string(),
            why,
        };
        let prototype = self
            .prototype
            .take()
            .ok_or_else(|| failed("another call is still running".into()))?;
        let state = runtime_call::run(runtime_call::Config {
            virtual_machine: prototype,
            function_to_call: function,
            parameter: std::iter::once(parameter),
            storage_main_trie_changes: Default::default(),
            storage_proof_size_behavior: host::StorageProofSizeBehavior::proof_recording_disabled(),
            max_log_level: 0,
            calculate_trie_changes: false,
        });
        match state {
            Ok(state) => Ok(Call {
                function: function.to_string(),
                state: Some(state),
                fuel: self.fuel,
            }),
            Err((error, prototype)) => {
                self.prototype = Some(prototype);
                Err(failed(error.to_string()))
            }
        }
    }

    /// Takes the runtime back from a finished (or abandoned) call.
    pub fn finish(&mut self, call: Call) {
        if let Some(state) = call.state {
            self.prototype = Some(state.into_prototype());
        }
    }
}

/// A runtime call in progress.
pub struct Call {
    function: String,
    state: Option<runtime_call::RuntimeCall>,
    fuel: u64,
}

/// What a call needs next.
pub enum Step {
    /// The value at this key of the main trie (proven by the caller), then [`Call::resume`].
    NeedValue(Vec<u8>),
    /// The call returned this (SCALE) output.
    Done(Vec<u8>),
}

impl Call {
    fn failed(&self, why: impl Into<String>) -> RuntimeError {
        RuntimeError::Call {
            function: self.function.clone(),
            why: why.into(),
        }
    }

    /// Runs until the call needs a storage value or ends.
    pub fn step(&mut self) -> Result<Step, RuntimeError> {
        use runtime_call::RuntimeCall as R;
        loop {
            let Some(state) = self.state.take() else {
                return Err(self.failed("the call was already finished"));
            };
            let next = match state {
                R::Finished(Ok(success)) => {
                    let output = success.virtual_machine.value().as_ref().to_vec();
                    self.state = Some(R::Finished(Ok(success)));
                    return Ok(Step::Done(output));
                }
                R::Finished(Err(error)) => {
                    let mut why = error.detail.to_string();
                    if fuel::is_out_of_fuel(&why) {
                        why = format!(
                            "it ran out of fuel ({} instructions) and was stopped: the runtime \
                             code never returns from it, or is hostile",
                            self.fuel
                        );
                    }
                    self.state = Some(R::Finished(Err(error)));
                    return Err(self.failed(why));
                }
                R::StorageGet(request) => {
                    if request.child_trie().is_some() {
                        self.state = Some(R::StorageGet(request));
                        return Err(self.failed("it reads a child trie, which is not supported"));
                    }
                    let key = request.key().as_ref().to_vec();
                    self.state = Some(R::StorageGet(request));
                    return Ok(Step::NeedValue(key));
                }
                R::NextKey(request) => {
                    self.state = Some(R::NextKey(request));
                    return Err(self.failed("it iterates storage keys, which is not supported"));
                }
                R::ClosestDescendantMerkleValue(request) => request.resume_unknown(),
                R::SignatureVerification(request) => request.verify_and_resume(),
                R::LogEmit(request) => request.resume(),
                R::OffchainStorageSet(request) => request.resume(),
                other @ R::Offchain(_) => {
                    self.state = Some(other);
                    return Err(self.failed("it needs off-chain workers"));
                }
            };
            self.state = Some(next);
        }
    }

    /// Gives the call the proven value it asked for ([`Step::NeedValue`]).
    pub fn resume(&mut self, value: Option<&[u8]>) -> Result<(), RuntimeError> {
        match self.state.take() {
            Some(runtime_call::RuntimeCall::StorageGet(request)) => {
                self.state = Some(
                    request.inject_value(value.map(|v| (std::iter::once(v), TrieEntryVersion::V1))),
                );
                Ok(())
            }
            other => {
                self.state = other;
                Err(self.failed("resumed while not waiting for a value"))
            }
        }
    }
}
