//! Install and offline: the service worker (`app/service-worker.js`, which keeps one build of the
//! app so a returning visit starts without the network), the "new version" prompt when a newer
//! build is found, and the offline notice with what this browser last proved.
//!
//! What is shown offline is a record of this browser's own, labelled as such: the block it last
//! proved and when. It is not proven again until the network is back, and the page says so.

use crate::chain::{Chain, load, save};
use crate::i18n::{I18n, use_i18n};
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{
    ServiceWorker, ServiceWorkerContainer, ServiceWorkerRegistration, ServiceWorkerState,
};

const SERVICE_WORKER: &str = "/sw.js";
/// How often an open page asks whether a newer build is out.
const CHECK_EVERY_MS: i32 = 10 * 60 * 1000;

/// The newest finalized block this browser proved, per network.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LastProved {
    pub number: u64,
    pub hash: String,
    /// When it was proven (ms since the Unix epoch).
    pub at_ms: f64,
}

fn last_proved_key(network: &str) -> String {
    format!("taoscope.last-proved.{network}")
}

pub fn remember_proved(network: &str, number: u64, hash: &str) {
    let record = LastProved {
        number,
        hash: hash.to_string(),
        at_ms: js_sys::Date::now(),
    };
    if let Ok(text) = serde_json::to_string(&record) {
        save(&last_proved_key(network), &text);
    }
}

/// The record, if it reads as we write it: local storage is anyone's on this origin to edit,
/// so a record that is not a block number, a 32-byte hash and a past moment is not shown.
pub fn last_proved(network: &str) -> Option<LastProved> {
    let record: LastProved = serde_json::from_str(&load(&last_proved_key(network))?).ok()?;
    let hash_ok = record.hash.len() == 66
        && record.hash.starts_with("0x")
        && record.hash[2..].bytes().all(|b| b.is_ascii_hexdigit());
    let when_ok =
        record.at_ms.is_finite() && record.at_ms > 0.0 && record.at_ms <= js_sys::Date::now();
    (hash_ok && when_ok).then_some(record)
}

#[derive(Clone, Copy)]
pub struct Install {
    /// Whether the browser says it is online.
    pub online: RwSignal<bool>,
    /// A newer build is installed and waiting for the page's word.
    pub update_ready: RwSignal<bool>,
    /// Another tab took a newer build: this page is of the old one until reloaded.
    pub updated_elsewhere: RwSignal<bool>,
    /// This tab asked for the new build (so it reloads when it takes over).
    asked: StoredValue<bool>,
    registration: StoredValue<Option<ServiceWorkerRegistration>, LocalStorage>,
}

impl Install {
    pub fn provide() {
        let window = web_sys::window();
        let install = Install {
            online: RwSignal::new(window.as_ref().is_none_or(|w| w.navigator().on_line())),
            update_ready: RwSignal::new(false),
            updated_elsewhere: RwSignal::new(false),
            asked: StoredValue::new(false),
            registration: StoredValue::new_local(None),
        };
        provide_context(install);
        let Some(window) = window else {
            return;
        };
        for (event, online) in [("online", true), ("offline", false)] {
            let on = Closure::<dyn Fn()>::new(move || {
                install.online.set(online);
                // Back online: a build may have come out meanwhile.
                if online {
                    install.registration.with_value(|r| {
                        if let Some(r) = r {
                            ask_for_update(r);
                        }
                    });
                }
            });
            let _ = window.add_event_listener_with_callback(event, on.as_ref().unchecked_ref());
            on.forget();
        }
        install.register();
    }

    fn container() -> Option<ServiceWorkerContainer> {
        let navigator = web_sys::window()?.navigator();
        // Absent outside secure contexts (a page over plain http from another machine).
        js_sys::Reflect::has(&navigator, &"serviceWorker".into())
            .unwrap_or(false)
            .then(|| navigator.service_worker())
    }

    fn register(self) {
        let Some(container) = Self::container() else {
            return;
        };
        wasm_bindgen_futures::spawn_local(async move {
            // A registration this origin already has is watched at once: `register()` waits in
            // the browser's queue behind any update under way, and the page would miss it.
            let existing = wasm_bindgen_futures::JsFuture::from(container.get_registration())
                .await
                .ok()
                .filter(|r| !r.is_undefined())
                .map(|r| r.unchecked_into::<ServiceWorkerRegistration>())
                .filter(|r| {
                    // Ours, not a worker another app left on this origin.
                    let newest = r
                        .installing()
                        .or_else(|| r.waiting())
                        .or_else(|| r.active());
                    let ours = web_sys::window()
                        .and_then(|w| w.location().origin().ok())
                        .map(|origin| format!("{origin}{SERVICE_WORKER}"));
                    newest.is_some_and(|w| Some(w.script_url()) == ours)
                });
            let registration = match existing {
                Some(registration) => registration,
                None => {
                    let promise = container.register(SERVICE_WORKER);
                    let Ok(registration) = wasm_bindgen_futures::JsFuture::from(promise).await
                    else {
                        // No service worker (a private window, storage refused): the app
                        // still runs, online only.
                        return;
                    };
                    registration.unchecked_into()
                }
            };
            self.watch(&container, &registration);
            self.registration.set_value(Some(registration));
        });
    }

    /// A build that finished installing while an older one controls the page is a new version.
    fn watch(self, container: &ServiceWorkerContainer, registration: &ServiceWorkerRegistration) {
        let controlled = container.controller().is_some();
        // Follows a build being installed to its end; the update may have been found before
        // this page got its registration, so the one installing now is followed too.
        let follow = move |worker: ServiceWorker| {
            if !controlled {
                return;
            }
            let seen = worker.clone();
            let state = Closure::<dyn Fn()>::new(move || {
                // A tab already of a previous build (updated elsewhere) has said so.
                if seen.state() == ServiceWorkerState::Installed
                    && !self.updated_elsewhere.get_untracked()
                {
                    self.update_ready.set(true);
                }
            });
            worker.set_onstatechange(Some(state.as_ref().unchecked_ref()));
            state.forget();
        };
        if controlled && registration.waiting().is_some() && !self.updated_elsewhere.get_untracked()
        {
            self.update_ready.set(true);
        }
        if let Some(installing) = registration.installing() {
            follow(installing);
        }
        let found = {
            let registration = registration.clone();
            Closure::<dyn Fn()>::new(move || {
                if let Some(installing) = registration.installing() {
                    follow(installing);
                }
            })
        };
        registration.set_onupdatefound(Some(found.as_ref().unchecked_ref()));
        found.forget();
        // The new build has taken over. This tab asked for it: load it. Another tab did: say so,
        // and leave the reload to the user (this one may hold a form or a signature under way).
        let reload = Closure::<dyn Fn()>::new(move || {
            if self.asked.get_value() {
                if let Some(window) = web_sys::window() {
                    let _ = window.location().reload();
                }
            } else {
                self.update_ready.set(false);
                self.updated_elsewhere.set(true);
            }
        });
        container.set_oncontrollerchange(Some(reload.as_ref().unchecked_ref()));
        reload.forget();
        // Each start asks for the newest build (the browser's own check on navigation may be
        // put off), and a page left open for days still learns of one.
        ask_for_update(registration);
        let check = {
            let registration = registration.clone();
            Closure::<dyn Fn()>::new(move || ask_for_update(&registration))
        };
        if let Some(window) = web_sys::window() {
            let _ = window.set_interval_with_callback_and_timeout_and_arguments_0(
                check.as_ref().unchecked_ref(),
                CHECK_EVERY_MS,
            );
        }
        check.forget();
    }

    /// Lets the waiting build take over; the page reloads when it has.
    pub fn take_update(self) {
        self.asked.set_value(true);
        let waiting = self
            .registration
            .with_value(|r| r.as_ref().and_then(|r| r.waiting()));
        match waiting {
            Some(worker) => {
                let _ = worker.post_message(&"taoscope:take-over".into());
            }
            None => {
                if let Some(window) = web_sys::window() {
                    let _ = window.location().reload();
                }
            }
        }
    }
}

/// Asks the origin for a newer build; offline, not at all (going online asks), and refused, the
/// next start asks again.
fn ask_for_update(registration: &ServiceWorkerRegistration) {
    let online = web_sys::window().is_some_and(|w| w.navigator().on_line());
    if !online {
        return;
    }
    if let Ok(promise) = registration.update() {
        wasm_bindgen_futures::spawn_local(async move {
            let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
        });
    }
}

/// "3 min ago", "2 h ago", "4 days ago".
pub fn age_words(i18n: I18n, ms: f64) -> String {
    let seconds = (ms / 1000.0).max(0.0) as u64;
    let (key, n) = match seconds {
        0..60 => ("age.seconds", seconds),
        60..3600 => ("age.minutes", seconds / 60),
        3600..86_400 => ("age.hours", seconds / 3600),
        _ => ("age.days", seconds / 86_400),
    };
    i18n.tf(key, &[("n", &i18n.int(n))])
}

/// The prompt for a new build, and the offline notice; in the shell, above every page.
#[component]
pub fn InstallNotices() -> impl IntoView {
    let install = expect_context::<Install>();
    let chain = expect_context::<Chain>();
    let i18n = use_i18n();
    view! {
        {move || install.update_ready.get().then(|| view! {
            <div class="notice update" role="status" data-testid="update-ready">
                {move || i18n.t("install.update-ready")} " "
                <button data-testid="update-reload" on:click=move |_| install.take_update()>{move || i18n.t("install.reload")}</button>
            </div>
        })}
        {move || install.updated_elsewhere.get().then(|| view! {
            <div class="notice update" role="status" data-testid="updated-elsewhere">
                {move || i18n.t("install.updated-elsewhere")} " "
                <button data-testid="update-reload" on:click=move |_| install.take_update()>{move || i18n.t("install.reload")}</button>
            </div>
        })}
        {move || (!install.online.get()).then(|| {
            let network = chain.network.get();
            let last = last_proved(network.id());
            view! {
                <div class="notice offline" role="status" data-testid="offline-notice">
                    <strong>{move || i18n.t("install.offline")}</strong> " "
                    {move || i18n.t("install.offline-text")} " "
                    {match last {
                        Some(last) => view! {
                            <span data-testid="offline-last-proved">
                                {move || i18n.tf("install.last-proved", &[
                                    ("network", network.label()),
                                    ("number", &last.number.to_string()),
                                    ("hash", &last.hash[..10]),
                                    ("date", &i18n.date(last.at_ms)),
                                    ("age", &age_words(i18n, js_sys::Date::now() - last.at_ms)),
                                ])}
                            </span>
                        }.into_any(),
                        None => view! { <span>{move || i18n.tf("install.nothing-proved", &[("network", network.label())])}</span> }.into_any(),
                    }}
                </div>
            }
        })}
    }
}
