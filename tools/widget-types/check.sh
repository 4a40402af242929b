#!/usr/bin/env bash
# Compile tools/widget-types/example.ts against the widget's types
# (saleor_alipay_app/static/scan-to-bind.d.ts) with TypeScript 5 in strict mode. Needs Node.js
# (npx); TypeScript comes from the npm registry the first time (npx's cache afterwards).
#   tools/widget-types/check.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
npx --yes -p typescript@5 tsc --noEmit --strict \
  --target es2022 --module es2022 --moduleResolution bundler --lib es2022,dom \
  --noUnusedLocals --noUnusedParameters --noImplicitReturns --exactOptionalPropertyTypes \
  --forceConsistentCasingInFileNames \
  tools/widget-types/example.ts
echo "widget types: tools/widget-types/example.ts compiles against scan-to-bind.d.ts (strict)"
