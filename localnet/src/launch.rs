//! Starting the node: options, the chain from DIR, the author thread, the RPC server, the
//! files a client needs, and a clean stop on SIGINT/SIGTERM.

use crate::chain::Chain;
use crate::demo::DemoSubnet;
use crate::genesis::{ChainSpec, apply_dev_overrides, schedule_grandpa_change};
use crate::node::{self, Node, Pace};
use crate::p2p::network::{self, Listen};
use crate::store::{self, Store};
use serde_json::json;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::{Duration, Instant};
use taoscope_light_client::hex::to_hex;

pub struct Options {
    pub dir: PathBuf,
    /// `None`: the spec already in DIR, or else the default.
    pub chain_spec: Option<PathBuf>,
    pub default_spec: PathBuf,
    pub host: IpAddr,
    pub rpc_port: u16,
    /// libp2p over TCP.
    pub p2p_port: u16,
    /// libp2p over WebSocket (what a browser can dial).
    pub ws_port: u16,
    pub backfill: u64,
    /// `None`: the runtime's slot duration.
    pub block_time: Option<Duration>,
    /// Run the demonstration subnet (`demo.rs`).
    pub demo_subnet: bool,
    /// How many demonstration subnets (1 to 3) and subnet 1's size (`--demo-subnets`,
    /// `--demo-uids`, `--demo-validators`; each implies `--demo-subnet`).
    pub demo_subnets: usize,
    pub demo_uids: u16,
    pub demo_validators: u16,
    /// Test-only genesis: the GRANDPA set changes at this block (`genesis::schedule_grandpa_change`).
    pub grandpa_change: Option<u32>,
    /// Who may use the JSON-RPC server, and how much (`--rpc-origin`, `--rpc-max-connections`).
    pub rpc_policy: node::RpcPolicy,
}

impl Options {
    pub fn parse(args: &[String], default_spec: &str) -> Result<Self, String> {
        let mut options = Options {
            dir: PathBuf::new(),
            chain_spec: None,
            default_spec: PathBuf::from(default_spec),
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            rpc_port: 9944,
            p2p_port: 30333,
            ws_port: 30334,
            backfill: 0,
            block_time: None,
            demo_subnet: false,
            demo_subnets: 1,
            demo_uids: crate::demo::SUBNET_1.uids,
            demo_validators: crate::demo::SUBNET_1.validators,
            grandpa_change: None,
            rpc_policy: node::RpcPolicy::default(),
        };
        let mut dir = None;
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let mut value = |what: &str| {
                it.next()
                    .cloned()
                    .ok_or_else(|| format!("{arg}: expected {what}"))
            };
            let number = |text: String, what: &str| {
                text.parse::<u64>()
                    .map_err(|_| format!("{arg}: {text:?} is not {what}"))
            };
            match arg.as_str() {
                "--dir" => dir = Some(PathBuf::from(value("a directory")?)),
                "--chain-spec" => options.chain_spec = Some(PathBuf::from(value("a FILE")?)),
                "--host" => {
                    let text = value("an IP address")?;
                    options.host = text
                        .parse()
                        .map_err(|_| format!("--host: {text:?} is not an IP address"))?;
                }
                "--rpc-port" => {
                    let port = number(value("a port")?, "a port")?;
                    options.rpc_port =
                        u16::try_from(port).map_err(|_| format!("--rpc-port: {port} > 65535"))?;
                }
                "--demo-subnet" => options.demo_subnet = true,
                "--demo-subnets" | "--demo-uids" | "--demo-validators" => {
                    let count = number(value("a count")?, "a count")?;
                    let small = |limit: u64| {
                        u16::try_from(count)
                            .ok()
                            .filter(|&c| u64::from(c) <= limit)
                            .ok_or_else(|| format!("{arg}: {count} is too many"))
                    };
                    match arg.as_str() {
                        "--demo-subnets" => options.demo_subnets = usize::from(small(3)?),
                        "--demo-uids" => options.demo_uids = small(256)?,
                        _ => options.demo_validators = small(64)?,
                    }
                    options.demo_subnet = true;
                }
                "--p2p-port" => {
                    let port = number(value("a port")?, "a port")?;
                    options.p2p_port =
                        u16::try_from(port).map_err(|_| format!("--p2p-port: {port} > 65535"))?;
                }
                "--ws-port" => {
                    let port = number(value("a port")?, "a port")?;
                    options.ws_port =
                        u16::try_from(port).map_err(|_| format!("--ws-port: {port} > 65535"))?;
                }
                "--backfill" => options.backfill = number(value("a block count")?, "a count")?,
                "--block-ms" => {
                    let ms = number(value("milliseconds")?, "a number of milliseconds")?;
                    if ms == 0 {
                        return Err("--block-ms: must be at least 1".into());
                    }
                    options.block_time = Some(Duration::from_millis(ms));
                }
                "--grandpa-change" => {
                    let block = number(value("a block number")?, "a block number")?;
                    options.grandpa_change = Some(
                        u32::try_from(block)
                            .ok()
                            .filter(|&b| b > 0)
                            .ok_or_else(|| {
                                format!("--grandpa-change: {block} is not a block after genesis")
                            })?,
                    );
                }
                "--rpc-origin" => options.rpc_policy.origins.push(value("an origin")?),
                "--rpc-max-connections" => {
                    let count = number(value("a count")?, "a count")?;
                    options.rpc_policy.max_connections = usize::try_from(count)
                        .ok()
                        .filter(|&c| c > 0)
                        .ok_or_else(|| format!("--rpc-max-connections: {count} is not a count"))?;
                }
                "--rpc-idle-ms" => {
                    let ms = number(value("milliseconds")?, "a number of milliseconds")?;
                    options.rpc_policy.idle_timeout = Duration::from_millis(ms.max(1));
                }
                other => return Err(format!("unknown option {other}")),
            }
        }
        options.dir = dir.ok_or("--dir DIR is required to run the node")?;
        Ok(options)
    }
}

/// The chain of DIR: its stored spec and blocks re-executed, or a fresh development chain.
fn open_chain(options: &Options, store: &mut Store) -> Result<Chain, String> {
    let stored = store
        .chain_spec()
        .map_err(|e| format!("{}: {e}", store.chain_spec_path().display()))?;
    let spec = match (&stored, &options.chain_spec) {
        (Some(text), None) if options.grandpa_change.is_none() => {
            ChainSpec::parse(text).map_err(|e| e.to_string())?
        }
        (_, requested) => {
            let path = requested.as_ref().unwrap_or(&options.default_spec);
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
            let mut spec =
                ChainSpec::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
            apply_dev_overrides(&mut spec).map_err(|e| e.to_string())?;
            if let Some(at) = options.grandpa_change {
                schedule_grandpa_change(&mut spec, at).map_err(|e| e.to_string())?;
            }
            if let Some(text) = &stored {
                let in_dir = ChainSpec::parse(text).map_err(|e| e.to_string())?;
                if in_dir.genesis_hash().ok() != spec.genesis_hash().ok() {
                    return Err(format!(
                        "{} holds another chain than {}: use another --dir, or remove it",
                        options.dir.display(),
                        path.display()
                    ));
                }
            }
            spec
        }
    };
    let mut chain = Chain::new(spec).map_err(|e| e.to_string())?;
    let blocks = store.blocks().map_err(|e| e.to_string())?;
    let started = Instant::now();
    for (n, (header, body)) in blocks.into_iter().enumerate() {
        chain.import(&header, body).map_err(|e| {
            format!(
                "{}/blocks.log: block {}: {e} (move the directory away to start a fresh chain)",
                options.dir.display(),
                n + 1
            )
        })?;
    }
    if chain.best().number > 0 {
        eprintln!(
            "re-executed {} stored blocks in {:.1} s",
            chain.best().number,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(chain)
}

/// The spec with `bootNodes` set: what a light client loads to find this node.
fn with_bootnodes(spec_json: &str, bootnodes: &[String]) -> Result<String, String> {
    let mut spec: serde_json::Value =
        serde_json::from_str(spec_json).map_err(|e| format!("chain spec: {e}"))?;
    if let Some(object) = spec.as_object_mut() {
        object.insert("bootNodes".into(), json!(bootnodes));
    }
    Ok(spec.to_string())
}

pub fn run(options: Options) -> Result<(), String> {
    let mut store = Store::open(&options.dir)
        .map_err(|e| format!("{}: cannot open: {e}", options.dir.display()))?;
    let chain = open_chain(&options, &mut store)?;
    let pace = Pace {
        block_time: options.block_time.unwrap_or(chain.slot_duration()),
    };
    let spec_json = chain.spec().to_json();
    let genesis_hash = chain.genesis().hash;
    let fresh = chain.best().number == 0;
    let slot_duration = chain.slot_duration();
    let mut chain = chain;
    let demo = if options.demo_subnet {
        let plans = crate::demo::plans(
            options.demo_subnets,
            options.demo_uids,
            options.demo_validators,
        )?;
        Some(DemoSubnet::with_plans(&mut chain, &plans).map_err(|e| e.to_string())?)
    } else {
        None
    };
    let setup = match (&demo, fresh) {
        (Some(demo), true) => {
            let genesis = chain.state(0).map_err(|e| e.to_string())?;
            demo.setup(&genesis).map_err(|e| e.to_string())?
        }
        _ => Vec::new(),
    };
    let (spec_path, endpoints_path) = (store.chain_spec_path(), store.endpoints_path());
    let node = Node::new(chain, Some(store));
    node.lock().demo = demo;

    if fresh {
        // The subnet's setup blocks, then the backfill; the fast clock starts in the past
        // even without either.
        let started = Instant::now();
        let blocks = options.backfill.max(setup.len() as u64).max(1);
        let mut slot = node::first_slot(slot_duration, pace, blocks);
        for batch in setup {
            node.submit_local(batch)?;
            node.author(slot)?;
            slot += 1;
        }
        while node.lock().chain.best().number < blocks {
            node.author(slot)?;
            slot += 1;
        }
        if options.backfill > 0 {
            eprintln!(
                "authored {blocks} blocks in {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
    }

    smol::block_on(async {
        let address = SocketAddr::new(options.host, options.rpc_port);
        let listener = smol::net::TcpListener::bind(address)
            .await
            .map_err(|e| format!("cannot listen on {address}: {e}"))?;
        let bound = listener.local_addr().map_err(|e| e.to_string())?;
        let rpc = format!("ws://{bound}");
        let (blocks_out, blocks_in) = smol::channel::bounded(16);
        node.lock().new_block = Some(blocks_out);
        let listen = Listen {
            host: options.host,
            tcp_port: options.p2p_port,
            ws_port: options.ws_port,
        };
        let bootnodes = network::start(node.clone(), listen, blocks_in)?;
        let spec_json = with_bootnodes(&spec_json, &bootnodes)?;
        store::write_atomically(&spec_path, &spec_json)
            .map_err(|e| format!("cannot write the chain spec: {e}"))?;
        node.lock().light_client_spec = serde_json::from_str(&spec_json).ok();
        let endpoints = json!({ "p2p": bootnodes, "rpc": rpc });
        store::write_atomically(&endpoints_path, &endpoints.to_string())
            .map_err(|e| format!("cannot write endpoints.json: {e}"))?;

        let (stop, stopped) = std::sync::mpsc::channel();
        let author = node::spawn_author(node.clone(), pace, stopped);
        let best = node.lock().chain.best().number;
        let ready = json!({
            "ready": true,
            "genesis_hash": to_hex(&genesis_hash),
            "best": best,
            "rpc": rpc,
            "p2p": endpoints["p2p"],
            "dir": options.dir,
        });
        println!("{ready}");
        let _ = std::io::stdout().flush();

        let signals =
            async_signal::Signals::new([async_signal::Signal::Term, async_signal::Signal::Int])
                .map_err(|e| format!("cannot watch signals: {e}"))?;
        let server = smol::spawn(node::serve(
            listener,
            node.clone(),
            options.rpc_policy.clone(),
        ));
        let mut signals = signals;
        use smol::stream::StreamExt as _;
        let signal = signals.next().await;
        eprintln!("stopping ({signal:?})");
        let _ = stop.send(());
        let _ = author.join();
        drop(server);
        Ok(())
    })
}
