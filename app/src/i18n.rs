//! The one i18n layer: every user-visible text of the shell, Home, the install notices and the
//! Account (staking) page comes from `app/locales/<language>.json` through [`I18n`], and numbers
//! and dates are formatted for the chosen language by the browser's own `Intl` (ICU, already in
//! every browser: no formatting data in our wasm).
//!
//! Why not a crate: leptos_i18n (the maintained one for Leptos 0.8) was measured against this
//! workspace: 32 more crates in the app's tree (leptos-use, leptos_meta, ICU 2 with its data, a
//! second darling, serde_yaml, json5, time, cookie), compiled three times per CI run (clippy,
//! native tests, release wasm) on two cores; its file-based locales need leptos_i18n_build,
//! whose ICU exporter brings an HTTP client into the build. What we need is a key lookup with
//! `{name}` placeholders and a fallback: this file, and `tests/e2e/i18n.test.mjs`, which fails on
//! a key missing from any language, used in the code and absent from the files, or left unused.
//!
//! The language is the user's choice in the header (kept in this browser), or the browser's own
//! where it is one we have (any `zh` → Simplified Chinese), else English. The `<html lang>`
//! follows it, for screen readers and fonts.

use crate::chain::{load, save};
use leptos::prelude::*;
use std::collections::HashMap;
use taoscope_light_client::units::format_tao_grouped;

const CHOSEN: &str = "taoscope.language";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    English,
    SimplifiedChinese,
}

impl Language {
    pub const ALL: [Language; 2] = [Language::English, Language::SimplifiedChinese];

    /// The BCP 47 tag: `<html lang>`, `Intl`'s locale, the file's name.
    pub fn tag(self) -> &'static str {
        match self {
            Language::English => "en",
            Language::SimplifiedChinese => "zh-CN",
        }
    }

    /// Its name in itself, for the header's choice.
    pub fn name(self) -> &'static str {
        match self {
            Language::English => "English",
            Language::SimplifiedChinese => "简体中文",
        }
    }

    pub fn from_tag(tag: &str) -> Option<Language> {
        Language::ALL.into_iter().find(|l| l.tag() == tag)
    }

    /// The first of the browser's languages that we have.
    fn of_browser() -> Language {
        let languages = web_sys::window()
            .map(|w| w.navigator().languages().to_vec())
            .unwrap_or_default();
        languages
            .iter()
            .filter_map(|l| l.as_string())
            .find_map(|l| match l.to_ascii_lowercase().split('-').next() {
                Some("zh") => Some(Language::SimplifiedChinese),
                Some("en") => Some(Language::English),
                _ => None,
            })
            .unwrap_or(Language::English)
    }
}

const FILES: [(&str, &str); 2] = [
    ("en", include_str!("../locales/en.json")),
    ("zh-CN", include_str!("../locales/zh-CN.json")),
];

type Table = HashMap<String, String>;

fn table(language: Language) -> Table {
    let text = FILES
        .iter()
        .find(|(tag, _)| *tag == language.tag())
        .map_or("{}", |(_, text)| text);
    // The files are ours and tested; a broken one shows keys, not a blank page.
    serde_json::from_str(text).unwrap_or_default()
}

/// `{name}` in `text` replaced by the value given for it, in one pass: a value (an error's words,
/// a call's name) is never read for placeholders itself.
pub fn fill(text: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let named = after.find('}').and_then(|close| {
            let name = &after[..close];
            values
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, value)| (*value, close))
        });
        match named {
            Some((value, close)) => {
                out.push_str(value);
                rest = &after[close + 1..];
            }
            None => {
                out.push('{');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

#[derive(Clone, Copy)]
pub struct I18n {
    pub language: RwSignal<Language>,
    tables: StoredValue<(Table, Table)>,
    /// The chosen language's group and decimal separators, asked of `Intl` once per choice (a
    /// table redraw formats hundreds of numbers).
    separators: StoredValue<(char, char)>,
}

/// How `language` groups thousands and points decimals, from the browser's `Intl`.
fn separators(language: Language) -> (char, char) {
    let sample = js_sys::Number::from(12_345.5)
        .to_locale_string(language.tag())
        .as_string()
        .unwrap_or_default();
    let mut chars = sample.chars().filter(|c| !c.is_ascii_digit());
    match (chars.next(), chars.next()) {
        (Some(group), Some(point)) => (group, point),
        _ => (',', '.'),
    }
}

impl I18n {
    pub fn provide() -> I18n {
        let language = load(CHOSEN)
            .and_then(|tag| Language::from_tag(&tag))
            .unwrap_or_else(Language::of_browser);
        let i18n = I18n {
            language: RwSignal::new(language),
            tables: StoredValue::new((table(Language::English), table(language))),
            separators: StoredValue::new(separators(language)),
        };
        Effect::new(move |_| {
            let language = i18n.language.get();
            if let Some(root) = web_sys::window()
                .and_then(|w| w.document())
                .and_then(|d| d.document_element())
            {
                let _ = root.set_attribute("lang", language.tag());
            }
        });
        provide_context(i18n);
        i18n
    }

    pub fn choose(self, language: Language) {
        save(CHOSEN, language.tag());
        self.tables.update_value(|t| t.1 = table(language));
        self.separators.set_value(separators(language));
        self.language.set(language);
    }

    /// The text of `key` in the chosen language (English where it has none; the key itself
    /// where English has none either, which the unit test rules out). Tracks the language.
    pub fn t(self, key: &str) -> String {
        self.language.track();
        self.tables.with_value(|(english, chosen)| {
            chosen
                .get(key)
                .or_else(|| english.get(key))
                .cloned()
                .unwrap_or_else(|| key.to_string())
        })
    }

    /// [`I18n::t`] with its `{name}` placeholders filled.
    pub fn tf(self, key: &str, values: &[(&str, &str)]) -> String {
        fill(&self.t(key), values)
    }

    /// An integer with the language's grouping (both languages group by thousands).
    pub fn int(self, n: u64) -> String {
        self.language.track();
        let (group, _) = self.separators.get_value();
        grouped(&n.to_string(), group)
    }

    /// An amount of rao as TAO with all 9 decimals, grouped and pointed as the language
    /// writes numbers (exact: the digits are ours, only the separators are the browser's).
    pub fn tao(self, rao: u64) -> String {
        self.language.track();
        let (group, point) = self.separators.get_value();
        // format_tao_grouped groups with thin spaces and points with '.'.
        format_tao_grouped(rao)
            .chars()
            .map(|c| match c {
                '\u{2009}' => group,
                '.' => point,
                c => c,
            })
            .collect()
    }

    /// A moment (ms since the Unix epoch), as the language writes a date and time.
    pub fn date(self, ms: f64) -> String {
        let tag = self.language.get().tag();
        let options = js_sys::Object::new();
        let _ = js_sys::Reflect::set(&options, &"dateStyle".into(), &"medium".into());
        let _ = js_sys::Reflect::set(&options, &"timeStyle".into(), &"short".into());
        js_sys::Date::new(&ms.into())
            .to_locale_string(tag, &options)
            .as_string()
            .unwrap_or_default()
    }
}

/// `digits` grouped by thousands with `group`.
fn grouped(digits: &str, group: char) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(group);
        }
        out.push(c);
    }
    out
}

pub fn use_i18n() -> I18n {
    expect_context::<I18n>()
}

/// The header's language choice.
#[component]
pub fn LanguageChoice() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <span class="language">
            <label for="language-select">{move || i18n.t("shell.language")}</label>
            " "
            <select id="language-select" data-testid="language-select"
                on:change=move |ev| {
                    if let Some(l) = Language::from_tag(&event_target_value(&ev)) {
                        i18n.choose(l);
                    }
                }>
                {Language::ALL.into_iter().map(|l| view! {
                    <option value=l.tag() lang=l.tag() selected=move || i18n.language.get() == l>{l.name()}</option>
                }).collect_view()}
            </select>
        </span>
    }
}
