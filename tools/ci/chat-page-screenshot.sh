#!/usr/bin/env bash
# Refreshes docs/images/chat-page.png (the README's picture of the chat page) from the browser tests:
# runs apps/e2e/src/web-ui.e2e.spec.ts, which saves its screenshots under artifacts/screenshots/ (never committed),
# and copies the one of a completed answer with a citation opened. `--no-run` copies the last run's screenshot.
set -euo pipefail
cd "$(dirname "$0")/../.."
shot=artifacts/screenshots/answer-completed.png
if [ "${1:-}" != "--no-run" ]; then
  rm -f "$shot"
  NODE_OPTIONS="--experimental-vm-modules --disable-warning=ExperimentalWarning" npx jest --config apps/e2e/jest.config.js web-ui
fi
[ -f "$shot" ] || { echo "no $shot: run the browser tests first (without --no-run)" >&2; exit 1; }
mkdir -p docs/images
cp "$shot" docs/images/chat-page.png
echo "docs/images/chat-page.png updated from $shot"
