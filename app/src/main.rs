//! Entry point of the main-thread app.

fn main() {
    console_error_panic_hook::set_once();
    // A widget frame (`/embed/…`) runs the widget alone, on the light worker its page shares.
    if taoscope_app::embed::is_embed() {
        leptos::mount::mount_to_body(taoscope_app::embed::Embed);
    } else if taoscope_app::embed::framed_by_another_origin() {
        // A server that let another site frame an app route (its header is the guard): the app
        // does not run under someone else's page.
        leptos::mount::mount_to_body(|| "taoscope does not run inside another site's page.");
    } else {
        leptos::mount::mount_to_body(taoscope_app::shell::App);
    }
}
