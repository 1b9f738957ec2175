//! The README's settings table is the list of settings in `config::SPECS`, so a setting is
//! documented where it is declared. `HEADROOM_WRITE_README=1` rewrites the table.

use headroom_daemon::config::markdown_table;

const START: &str = "<!-- settings:start -->\n";
const END: &str = "<!-- settings:end -->";

#[test]
fn the_readme_lists_every_setting_as_declared() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let (before, rest) = readme.split_once(START).expect("the README marks its settings table");
    let (_, after) = rest.split_once(END).expect("the settings table ends with its marker");
    let fresh = format!("{before}{START}{}{END}{after}", markdown_table());
    if std::env::var_os("HEADROOM_WRITE_README").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    assert!(std::fs::read_to_string(&path).unwrap() == fresh, "README.md's settings table is stale: run HEADROOM_WRITE_README=1 cargo test -p headroom-daemon --test settings_table");
}
