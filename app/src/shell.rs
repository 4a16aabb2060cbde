//! The app shell: the router and the header every page shares.

use crate::pages::{bench::BenchPage, epoch_lab::EpochLab, system::SystemPage};
use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;

#[component]
pub fn App() -> impl IntoView {
    view! {
        <Router>
            <Header/>
            <main id="content">
                <Routes fallback=|| view! { <NotFound/> }>
                    <Route path=path!("/") view=EpochLab/>
                    <Route path=path!("/epoch-lab") view=EpochLab/>
                    <Route path=path!("/bench") view=BenchPage/>
                    <Route path=path!("/system") view=SystemPage/>
                </Routes>
            </main>
        </Router>
    }
}

/// A network the app can follow. The light client (next issues) connects to the chosen one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Network {
    /// `taoscope-localnet` on this machine: the real subtensor runtime, no internet needed.
    Localnet,
    /// Bittensor mainnet, through verified RPC.
    Finney,
}

impl Network {
    pub const ALL: [Network; 2] = [Network::Localnet, Network::Finney];

    pub fn id(self) -> &'static str {
        match self {
            Network::Localnet => "localnet",
            Network::Finney => "finney",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Network::Localnet => "Localnet (this machine)",
            Network::Finney => "Finney (mainnet)",
        }
    }

    fn from_id(id: &str) -> Option<Network> {
        Network::ALL.into_iter().find(|n| n.id() == id)
    }
}

const NETWORK_KEY: &str = "taoscope.network";

fn stored_network() -> Network {
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item(NETWORK_KEY).ok().flatten())
        .and_then(|id| Network::from_id(&id))
        .unwrap_or(Network::Localnet)
}

fn store_network(network: Network) {
    if let Some(storage) = web_sys::window().and_then(|w| w.local_storage().ok().flatten()) {
        let _ = storage.set_item(NETWORK_KEY, network.id());
    }
}

#[component]
fn Header() -> impl IntoView {
    let network = RwSignal::new(stored_network());
    let on_change = move |ev: leptos::ev::Event| {
        if let Some(n) = Network::from_id(&event_target_value(&ev)) {
            network.set(n);
            store_network(n);
        }
    };
    view! {
        <header class="app-header">
            <a class="brand" href="/" aria-label="taoscope home">"τ taoscope"</a>
            <nav aria-label="Pages">
                <A href="/epoch-lab">"Epoch lab"</A>
                <A href="/bench">"Benchmark"</A>
                <A href="/system">"System"</A>
            </nav>
            <div class="network">
                <label for="network-select">"Network"</label>
                <select id="network-select" data-testid="network-select" on:change=on_change>
                    {Network::ALL
                        .into_iter()
                        .map(|n| view! { <option value=n.id() selected=move || network.get() == n>{n.label()}</option> })
                        .collect_view()}
                </select>
                <span class="connection disconnected" data-testid="connection-state" title="Connection state">
                    "Not connected: this build verifies epochs from files; live chain data arrives with the light client"
                </span>
            </div>
        </header>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    view! {
        <section class="page">
            <h1>"Page not found"</h1>
            <p>"Nothing lives at this address. Try the " <a href="/epoch-lab">"Epoch lab"</a> " or the " <a href="/system">"System"</a> " page."</p>
        </section>
    }
}
