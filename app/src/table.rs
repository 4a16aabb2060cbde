//! One table for the app's lists (the subnets, a metagraph, an account's stake, Home's subnets):
//! every column sorts (a click or Enter on its header; again for descending, a third time for
//! the order the chain gave), numbers sit right-aligned in tabular figures, addresses and hashes
//! are shortened with the whole value in the title and a button that copies it; and the states
//! around a table (waiting, empty, failed) look and read the same on every page.
//!
//! Rows keep the `data-*` hooks the tests read (`data-field`, `data-raw` on cells; the row's own
//! attributes), so what a page proves is checked on the table a person sees.

use crate::i18n::use_i18n;
use leptos::attr::custom::custom_attribute;
use leptos::prelude::*;
use std::cmp::Ordering;
use std::sync::Arc;
use wasm_bindgen::JsCast;

/// What a cell shows.
#[derive(Clone)]
pub enum Show {
    Text(String),
    /// A page of the app.
    Link {
        href: String,
        text: String,
    },
    /// An address or a hash: shortened, whole in the title, copied by its button.
    Copy(String),
    /// A value the runtime does not have, in words.
    Muted(String),
    /// Anything else, drawn afresh when the signals it reads move (an audit verdict).
    View(Arc<dyn Fn() -> AnyView + Send + Sync>),
}

/// What a cell sorts by: numbers by value (rao, not the text), text by text.
#[derive(Clone, Debug, PartialEq, PartialOrd)]
pub enum Key {
    Number(i128),
    Text(String),
}

#[derive(Clone)]
pub struct Cell {
    show: Show,
    key: Option<Key>,
    field: Option<&'static str>,
    raw: Option<String>,
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Cell {
        let text = text.into();
        Cell {
            key: Some(Key::Text(text.clone())),
            show: Show::Text(text),
            field: None,
            raw: None,
        }
    }

    /// A number shown as `shown` (TAO with its decimals, a fraction) and sorted by `value`.
    pub fn number(shown: impl Into<String>, value: impl Into<i128>) -> Cell {
        Cell {
            show: Show::Text(shown.into()),
            key: Some(Key::Number(value.into())),
            field: None,
            raw: None,
        }
    }

    pub fn link(href: String, text: impl Into<String>, key: Key) -> Cell {
        Cell {
            show: Show::Link {
                href,
                text: text.into(),
            },
            key: Some(key),
            field: None,
            raw: None,
        }
    }

    pub fn copy(value: impl Into<String>) -> Cell {
        let value = value.into();
        Cell {
            key: Some(Key::Text(value.clone())),
            show: Show::Copy(value),
            field: None,
            raw: None,
        }
    }

    /// Words for a value the runtime does not have: sorted after every value.
    pub fn muted(words: impl Into<String>) -> Cell {
        Cell {
            show: Show::Muted(words.into()),
            key: None,
            field: None,
            raw: None,
        }
    }

    pub fn view(draw: impl Fn() -> AnyView + Send + Sync + 'static, key: Option<Key>) -> Cell {
        Cell {
            show: Show::View(Arc::new(draw)),
            key,
            field: None,
            raw: None,
        }
    }

    /// The `data-field` / `data-raw` hooks: the value as the chain gave it.
    pub fn field(mut self, name: &'static str, raw: impl ToString) -> Cell {
        self.field = Some(name);
        self.raw = Some(raw.to_string());
        self
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    label: String,
    numeric: bool,
    title: Option<String>,
}

impl Column {
    pub fn text(label: impl Into<String>) -> Column {
        Column {
            label: label.into(),
            numeric: false,
            title: None,
        }
    }

    pub fn number(label: impl Into<String>) -> Column {
        Column {
            numeric: true,
            ..Column::text(label)
        }
    }

    pub fn titled(mut self, title: impl Into<String>) -> Column {
        self.title = Some(title.into());
        self
    }
}

#[derive(Clone)]
pub struct Row {
    attrs: Vec<(&'static str, String)>,
    cells: Vec<Cell>,
}

impl Row {
    pub fn new(cells: Vec<Cell>) -> Row {
        Row {
            attrs: Vec::new(),
            cells,
        }
    }

    /// A `data-*` attribute of the row (`data-netuid`, `data-uid`).
    pub fn attr(mut self, name: &'static str, value: impl ToString) -> Row {
        self.attrs.push((name, value.to_string()));
        self
    }

    /// Everything the row shows: a row whose identity is unchanged by a new answer keeps its
    /// elements (and a button's focus) when the table is refreshed.
    fn identity(&self) -> String {
        let mut out = String::new();
        for (name, value) in &self.attrs {
            out.push_str(name);
            out.push('=');
            out.push_str(value);
            out.push('\u{1f}');
        }
        for cell in &self.cells {
            let shown = match &cell.show {
                Show::Text(t) | Show::Copy(t) | Show::Muted(t) => t.as_str(),
                Show::Link { href, text } => {
                    out.push_str(href);
                    text.as_str()
                }
                Show::View(_) => "",
            };
            out.push_str(shown);
            out.push('\u{1e}');
            out.push_str(cell.raw.as_deref().unwrap_or_default());
            out.push('\u{1f}');
        }
        out
    }
}

/// Keys compared with values before absent ones, whatever the direction.
fn compare(a: Option<&Key>, b: Option<&Key>, descending: bool) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => {
            let order = a.partial_cmp(b).unwrap_or(Ordering::Equal);
            if descending { order.reverse() } else { order }
        }
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// The column a table is sorted by and whether descending (none: the order the chain gave).
/// Pages keep it above the tables they redraw at each finalized block, so a sort stays.
pub type SortBy = RwSignal<Option<(usize, bool)>>;

#[component]
pub fn DataTable(
    /// The table's `data-testid`.
    testid: &'static str,
    /// Each row's `data-testid`.
    row_testid: &'static str,
    #[prop(optional)] class: &'static str,
    #[prop(into)] columns: Signal<Vec<Column>>,
    /// The rows, as each new answer gives them: the table is drawn once and its rows replaced
    /// in place (unchanged rows keep their elements).
    #[prop(into)]
    rows: Signal<Vec<Row>>,
    /// Kept by the page across redraws; a table of its own when none is given.
    #[prop(optional)]
    sort: Option<SortBy>,
) -> impl IntoView {
    let i18n = use_i18n();
    let sort = sort.unwrap_or_else(|| RwSignal::new(None));
    let header = move || {
        columns
            .get()
            .into_iter()
            .enumerate()
            .map(|(i, column)| {
                let state = move || match sort.get() {
                    Some((j, false)) if j == i => "ascending",
                    Some((j, true)) if j == i => "descending",
                    _ => "none",
                };
                let next = move |s: Option<(usize, bool)>| match s {
                    Some((j, false)) if j == i => Some((i, true)),
                    Some((j, true)) if j == i => None,
                    _ => Some((i, false)),
                };
                view! {
                    <th scope="col" class:num=column.numeric aria-sort=state title=column.title>
                        <button type="button" class="sort" data-testid="sort"
                            title=move || i18n.t("table.sort")
                            on:click=move |_| sort.update(|s| *s = next(*s))>
                            {column.label}
                        </button>
                    </th>
                }
            })
            .collect_view()
    };
    let sorted = move || {
        let mut rows = rows.get();
        if let Some((column, descending)) = sort.get() {
            let key = |row: &Row| row.cells.get(column).and_then(|c| c.key.clone());
            rows.sort_by(|a, b| compare(key(a).as_ref(), key(b).as_ref(), descending));
        }
        rows
    };
    view! {
        <div class="table-scroll">
            <table class=class data-testid=testid>
                <thead><tr>{header}</tr></thead>
                <tbody>
                    <For each=sorted key=Row::identity let:row>
                        {draw_row(row_testid, &row, &columns.with_untracked(|c| c.iter().map(|c| c.numeric).collect::<Vec<_>>()))}
                    </For>
                </tbody>
            </table>
        </div>
    }
}

fn draw_row(testid: &'static str, row: &Row, numeric: &[bool]) -> impl IntoView + use<> {
    let cells = row
        .cells
        .iter()
        .enumerate()
        .map(|(i, cell)| draw_cell(cell, numeric.get(i).copied().unwrap_or(false)))
        .collect_view();
    let mut tr = view! { <tr>{cells}</tr> }
        .into_any()
        .add_any_attr(custom_attribute("data-testid", testid));
    for (name, value) in &row.attrs {
        tr = tr.add_any_attr(custom_attribute(*name, value.clone()));
    }
    tr
}

fn draw_cell(cell: &Cell, numeric: bool) -> impl IntoView + use<> {
    let content = match &cell.show {
        Show::Text(text) => text.clone().into_any(),
        Show::Link { href, text } => view! { <a href=href.clone()>{text.clone()}</a> }.into_any(),
        Show::Copy(value) => view! { <CopyValue value=value.clone()/> }.into_any(),
        Show::Muted(words) => view! { <span class="muted">{words.clone()}</span> }.into_any(),
        Show::View(draw) => {
            let draw = draw.clone();
            (move || draw()).into_any()
        }
    };
    view! { <td class:num=numeric data-field=cell.field data-raw=cell.raw.clone()>{content}</td> }
}

/// "5Grwva…utQY": the first six and last four characters.
pub fn short(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= 12 {
        return value.to_string();
    }
    let head: String = chars.iter().take(6).collect();
    let tail: String = chars.iter().skip(chars.len() - 4).collect();
    format!("{head}…{tail}")
}

/// An address or hash, shortened, with a button that copies the whole of it.
#[component]
pub fn CopyValue(value: String) -> impl IntoView {
    let i18n = use_i18n();
    // None: not asked; then whether the browser took it.
    let copied = RwSignal::new(None::<bool>);
    let whole = value.clone();
    let copy = move |_| {
        let whole = whole.clone();
        leptos::task::spawn_local(async move {
            copied.set(Some(write_clipboard(&whole).await));
        });
    };
    view! {
        <code title=value.clone()>{short(&value)}</code>
        <button type="button" class="copy" data-testid="copy" data-value=value.clone()
            aria-label=move || i18n.tf("table.copy", &[("value", &value)])
            on:click=copy>
            {move || match copied.get() {
                Some(true) => "✓",
                Some(false) => "✗",
                None => "⧉",
            }}
        </button>
    }
}

/// `navigator.clipboard.writeText`, where the browser offers it (secure contexts).
async fn write_clipboard(text: &str) -> bool {
    let Some(navigator) = web_sys::window().map(|w| w.navigator()) else {
        return false;
    };
    let clipboard = js_sys::Reflect::get(&navigator, &"clipboard".into()).ok();
    let write = clipboard.as_ref().and_then(|c| {
        js_sys::Reflect::get(c, &"writeText".into())
            .ok()?
            .dyn_into::<js_sys::Function>()
            .ok()
    });
    let (Some(clipboard), Some(write)) = (clipboard, write) else {
        return false;
    };
    let Ok(promise) = write.call1(&clipboard, &text.into()) else {
        return false;
    };
    wasm_bindgen_futures::JsFuture::from(js_sys::Promise::from(promise))
        .await
        .is_ok()
}

/// Where a proven list is: what the page shows around (or instead of) its table. Pages keep it
/// in a `Memo`, so a new answer of the same kind updates the rows, not the page.
#[derive(Clone, Debug, PartialEq)]
pub enum ListState {
    Waiting,
    Failed(String),
    Empty,
    Shown,
}

impl ListState {
    pub fn of<T>(answer: Option<&Result<T, String>>, is_empty: impl Fn(&T) -> bool) -> ListState {
        match answer {
            None => ListState::Waiting,
            Some(Err(why)) => ListState::Failed(why.clone()),
            Some(Ok(value)) if is_empty(value) => ListState::Empty,
            Some(Ok(_)) => ListState::Shown,
        }
    }
}

/// The empty state of a list: what is not there, in words.
#[component]
pub fn Empty(testid: &'static str, words: String) -> impl IntoView {
    view! { <p class="empty muted" data-testid=testid>{words}</p> }
}

/// The failed state of a list: why, as an alert.
#[component]
pub fn Failed(testid: &'static str, why: String) -> impl IntoView {
    view! { <p class="error" role="alert" data-testid=testid>{why}</p> }
}
