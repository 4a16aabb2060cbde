//! Entry point of the main-thread app.

fn main() {
    console_error_panic_hook::set_once();
    // A widget frame (`/embed/…`) runs the widget alone, on the light worker its page shares.
    if taoscope_app::embed::is_embed() {
        leptos::mount::mount_to_body(taoscope_app::embed::Embed);
    } else {
        leptos::mount::mount_to_body(taoscope_app::shell::App);
    }
}
