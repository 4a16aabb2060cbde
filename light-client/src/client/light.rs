//! smoldot-light as a [`Transport`]: the light client runs in this process, connects to the
//! chain spec's bootnodes over libp2p, warp-syncs through GRANDPA proofs and answers JSON-RPC
//! only with what it has verified (headers, justifications, storage and call proofs).
//!
//! The platform decides where: [`native`] (smoldot's `DefaultPlatform`: threads, TCP and
//! WebSocket) for tests and tools, [`crate::platform::browser`] in a Web Worker.

use super::{ClientError, Transport};
use smoldot_light::platform::PlatformRef;
use smoldot_light::{AddChainConfig, AddChainConfigJsonRpc, ChainId, Client, JsonRpcResponses};
use std::num::NonZero;

pub struct LightTransport<P: PlatformRef> {
    client: Client<P>,
    chain: ChainId,
    responses: JsonRpcResponses<P>,
}

/// Why a chain could not be added, in words a user can act on.
fn add_chain_error(error: smoldot_light::AddChainError) -> ClientError {
    ClientError::Runtime(format!(
        "the chain spec cannot be used: {error}. Check that the file is a raw chain spec (with \
         `genesis.raw`) or a spec with a checkpoint"
    ))
}

impl<P: PlatformRef> LightTransport<P> {
    /// Starts smoldot-light on `platform` for the chain `chain_spec` (JSON text), from a database
    /// saved by an earlier run (`""` for none; smoldot ignores content it cannot use).
    pub fn start(platform: P, chain_spec: &str, database: &str) -> Result<Self, ClientError> {
        let mut client = Client::new(platform);
        let added = client
            .add_chain(AddChainConfig {
                user_data: (),
                specification: chain_spec,
                database_content: database,
                potential_relay_chains: core::iter::empty(),
                json_rpc: AddChainConfigJsonRpc::Enabled {
                    max_pending_requests: NonZero::<u32>::MIN.saturating_add(127),
                    max_subscriptions: 64,
                },
                statement_protocol_config: None,
            })
            .map_err(add_chain_error)?;
        let responses = added.json_rpc_responses.ok_or(ClientError::Closed)?;
        Ok(LightTransport {
            client,
            chain: added.chain_id,
            responses,
        })
    }
}

impl<P: PlatformRef> Transport for LightTransport<P> {
    fn send(&mut self, request: String) -> Result<(), ClientError> {
        self.client
            .json_rpc_request(request, self.chain)
            .map_err(|e| ClientError::Busy(e.to_string()))
    }

    async fn next(&mut self) -> Option<String> {
        self.responses.next().await
    }

    fn name(&self) -> &'static str {
        "smoldot-light (p2p)"
    }

    /// One: smoldot-light 3.0 takes an operation slot per item of a storage operation but gives
    /// back one when it ends, so every multi-item read would lose slots until the subscription
    /// takes no more reads. One item each, several operations at once, loses none.
    fn storage_items_per_operation(&self) -> usize {
        1
    }
}

/// The light client on smoldot's own native platform (threads, TCP and WebSocket sockets).
#[cfg(feature = "native")]
pub mod native {
    use super::LightTransport;
    use crate::client::ClientError;
    use smoldot_light::platform::DefaultPlatform;
    use std::sync::Arc;

    pub type NativeTransport = LightTransport<Arc<DefaultPlatform>>;

    pub fn start(chain_spec: &str, database: &str) -> Result<NativeTransport, ClientError> {
        let platform = DefaultPlatform::new("taoscope".into(), env!("CARGO_PKG_VERSION").into());
        LightTransport::start(platform, chain_spec, database)
    }
}

/// Methods beyond the typed client that only smoldot-light answers (other transports refuse
/// them with an error).
impl<T: Transport> super::BittensorClient<T> {
    /// smoldot's database content for the finalized block (at most `max_bytes`), to pass to
    /// [`LightTransport::start`] on the next visit so that it need not warp-sync from genesis.
    pub async fn database(&mut self, max_bytes: u64) -> Result<String, ClientError> {
        const METHOD: &str = "chainHead_unstable_finalizedDatabase";
        let content = self.request(METHOD, serde_json::json!([max_bytes])).await?;
        content
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| super::malformed(METHOD, "not a string"))
    }
}
