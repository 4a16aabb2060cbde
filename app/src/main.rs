//! Entry point of the main-thread app.

fn main() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(taoscope_app::shell::App);
}
