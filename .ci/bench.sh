#!/usr/bin/env bash
# The README's main job, `npm run bench`, from this clone: every case once, briefly. It checks
# that each row ran (or is unavailable for the reason the contract gives DgramUDP: enotsup),
# not how fast: timings on a shared machine are for reading, not for asserting.
set -euo pipefail
cd "$(dirname "$0")/.."

npm run bench -- --quick
node -e '
  const report = require("./bench/results/latest.json");
  const failed = [];
  let ran = 0;
  for (const [group, rows] of Object.entries(report.results)) {
    for (const [row, result] of Object.entries(rows)) {
      ran++;
      if (result.status !== "ok" && !(row.startsWith("dgramudp-") && /^enotsup:/.test(result.reason))) {
        failed.push(`${group}/${row}: ${result.reason}`);
      }
    }
  }
  if (failed.length > 0 || ran === 0) {
    console.error(`bench: ${failed.length} of ${ran} rows did not run:\n  ${failed.join("\n  ")}`);
    process.exit(1);
  }
  console.log(`bench: all ${ran} rows ran`);
'
