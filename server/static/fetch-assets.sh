#!/usr/bin/env sh
# Re-fetches the browser assets GraphiQL (/graphql) and Swagger UI (/docs) are served from, from the npm
# registry, so the pages load nothing from a third-party host. Pin versions here; `make vendor-assets`
# runs this and VERSIONS records what was fetched. Source maps are left out (and their comments removed).
set -eu
GRAPHIQL=3.9.0        # the last GraphiQL with UMD bundles (4.x/5.x are ESM-only and need a bundler)
REACT=18.3.1          # GraphiQL 3 wants React 18
SWAGGER_UI=5.35.0

here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
for spec in "graphiql@$GRAPHIQL" "react@$REACT" "react-dom@$REACT" "swagger-ui-dist@$SWAGGER_UI"; do
    tarball=$(npm pack --silent "$spec")
    mkdir -p "${spec%@*}"
    tar xzf "$tarball" -C "${spec%@*}"
done

strip_map() { sed -e '/^\/\/# sourceMappingURL=/d' -e 's#/\*\# sourceMappingURL=[^*]*\*/##' "$1" > "$2"; }

mkdir -p "$here/graphiql" "$here/swagger"
strip_map graphiql/package/graphiql.min.js "$here/graphiql/graphiql.min.js"
strip_map graphiql/package/graphiql.min.css "$here/graphiql/graphiql.min.css"
strip_map react/package/umd/react.production.min.js "$here/graphiql/react.production.min.js"
strip_map react-dom/package/umd/react-dom.production.min.js "$here/graphiql/react-dom.production.min.js"
cp graphiql/package/LICENSE "$here/graphiql/LICENSE.graphiql"
cp react/package/LICENSE "$here/graphiql/LICENSE.react"
strip_map swagger-ui-dist/package/swagger-ui-bundle.js "$here/swagger/swagger-ui-bundle.js"
strip_map swagger-ui-dist/package/swagger-ui.css "$here/swagger/swagger-ui.css"
cp swagger-ui-dist/package/favicon-32x32.png "$here/swagger/favicon-32x32.png"
cp swagger-ui-dist/package/LICENSE "$here/swagger/LICENSE"
cat > "$here/VERSIONS" <<VERSIONS
# npm packages the files under graphiql/ and swagger/ come from (fetch-assets.sh)
graphiql $GRAPHIQL
react $REACT
react-dom $REACT
swagger-ui-dist $SWAGGER_UI
VERSIONS
echo "browser assets fetched into $here"
