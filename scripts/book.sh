#!/bin/sh
# Builds the course book (mdbook/) in every language, side by side:
# <out>/en/, <out>/pt-BR/, and <out>/index.html, which sends a reader to the
# book in their browser's language. The pages' {{#deploylab …}} directives
# are made by deploylab itself (`deploylab book preprocess`), from the labs
# and its own command line, so the book cannot drift from what `check` does.
#
#   scripts/book.sh [OUT]        (default: target/book)
#
# Needs mdbook 0.5 (`cargo install mdbook --locked`).
set -eu
cd "$(dirname "$0")/.."
out="${1:-target/book}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
if [ -z "${DEPLOYLAB_BIN:-}" ]; then
    cargo build --quiet --bin deploylab
    DEPLOYLAB_BIN="$PWD/target/debug/deploylab"
fi
export MDBOOK_PREPROCESSOR__DEPLOYLAB__COMMAND="$DEPLOYLAB_BIN book preprocess"
langs=""
for toml in mdbook/*/book.toml; do
    lang="$(basename "$(dirname "$toml")")"
    mdbook build --dest-dir "$out/$lang" "$(dirname "$toml")"
    langs="$langs $lang"
done
# Browsers ask a site's root for /favicon.ico whatever the page says: the
# books' own icon, so that is not a 404.
icon="$(ls "$out/en"/favicon-*.png 2>/dev/null | head -n 1)"
[ -n "$icon" ] && cp "$icon" "$out/favicon.ico"
cat > "$out/index.html" <<'HTML'
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>deploylab</title>
<link rel="icon" href="data:,">
<script>
  // The reader's language if the book has it, else English.
  var pt = (navigator.languages || [navigator.language]).some(function (l) {
    return /^pt/i.test(l);
  });
  location.replace(pt ? "pt-BR/index.html" : "en/index.html");
</script>
</head>
<body>
<p><a href="en/index.html">English</a> · <a href="pt-BR/index.html" lang="pt-BR">Português (Brasil)</a></p>
</body>
</html>
HTML
echo "book:$langs in $out"
