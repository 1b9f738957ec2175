//! What a media (MIME) type names, in the words a question uses. Tables of network and storage
//! records (Zeek's `files.log`, an HTTP log's `resp_mime_types`, a bucket listing's content
//! types) name a file's kind by its media type; a question names it in plain words — "Windows
//! executables" for `application/x-dosexec`, "archives" for `application/zip` — and shares no
//! word with the cell.

/// Words for media types with a name of their own, by exact type.
const NAMED: &[(&str, &str)] = &[
    ("application/x-dosexec", "windows dos executable program binary exe"),
    ("application/x-msdownload", "windows executable program binary exe dll"),
    ("application/x-msdos-program", "windows dos executable program binary exe"),
    ("application/vnd.microsoft.portable-executable", "windows executable program binary exe"),
    ("application/x-ms-installer", "windows installer package msi"),
    ("application/x-msi", "windows installer package msi"),
    ("application/x-executable", "linux executable program binary elf"),
    ("application/x-elf", "linux executable program binary elf"),
    ("application/x-sharedlib", "linux shared library binary elf"),
    ("application/x-mach-binary", "macos executable program binary"),
    ("application/vnd.android.package-archive", "android app package apk"),
    ("application/java-archive", "java archive jar"),
    ("application/x-java-applet", "java applet"),
    ("application/x-shockwave-flash", "flash swf"),
    ("application/zip", "zip archive compressed"),
    ("application/x-zip-compressed", "zip archive compressed"),
    ("application/gzip", "gzip archive compressed"),
    ("application/x-gzip", "gzip archive compressed"),
    ("application/x-tar", "tar archive"),
    ("application/x-bzip2", "bzip2 archive compressed"),
    ("application/x-xz", "xz archive compressed"),
    ("application/x-7z-compressed", "7z archive compressed"),
    ("application/x-rar-compressed", "rar archive compressed"),
    ("application/vnd.rar", "rar archive compressed"),
    ("application/pdf", "pdf document"),
    ("application/rtf", "rtf document"),
    ("application/msword", "word document office"),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "word document office docx"),
    ("application/vnd.ms-excel", "excel spreadsheet office"),
    ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "excel spreadsheet office xlsx"),
    ("application/vnd.ms-powerpoint", "powerpoint presentation office"),
    ("application/vnd.openxmlformats-officedocument.presentationml.presentation", "powerpoint presentation office pptx"),
    ("application/javascript", "javascript script"),
    ("application/x-javascript", "javascript script"),
    ("text/javascript", "javascript script"),
    ("application/x-sh", "shell script"),
    ("text/x-shellscript", "shell script"),
    ("text/x-python", "python script"),
    ("application/x-x509-ca-cert", "certificate"),
    ("application/pkix-cert", "certificate"),
    ("application/ocsp-response", "certificate ocsp"),
    ("text/html", "html web page"),
];

/// Words for whole families of types (`image/png`, `video/mp4`).
const FAMILIES: &[(&str, &str)] = &[("image/", "image picture photo"), ("video/", "video movie"), ("audio/", "audio sound music"), ("font/", "font")];

/// The words a question may use for the media type `value` (`application/x-dosexec` →
/// "windows dos executable program binary exe"), if it is one this knows.
pub fn words_for(value: &str) -> Option<&'static str> {
    let value = value.trim();
    NAMED
        .iter()
        .find(|(kind, _)| kind.eq_ignore_ascii_case(value))
        .or_else(|| FAMILIES.iter().find(|(family, _)| value.len() > family.len() && value[..family.len()].eq_ignore_ascii_case(family)))
        .map(|(_, words)| *words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_and_families_have_their_words_and_other_text_none() {
        assert!(words_for("application/x-dosexec").is_some_and(|w| w.contains("windows") && w.contains("executable")));
        assert!(words_for("Application/PDF").is_some_and(|w| w.contains("document")));
        assert!(words_for("image/png").is_some_and(|w| w.contains("picture")));
        assert_eq!(words_for("image/"), None);
        assert_eq!(words_for("application/x-unknown"), None);
        assert_eq!(words_for("windows executable"), None);
    }
}
