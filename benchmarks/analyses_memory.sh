#!/usr/bin/env bash
# Peak memory and wall time of the science analyses on a finished output folder, one analysis at a
# time and all together (the figures in RESULTS.md, "All analyses on that hour-long output").
# Usage: benchmarks/analyses_memory.sh OUT   (OUT: e.g. the hour-long benchmark's output folder)
# Needs GNU time (/usr/bin/time). Rewrites OUT/analyses, as `mouseface stats OUT` does.
set -euo pipefail
out=${1:?usage: benchmarks/analyses_memory.sh OUT}
for only in prototypes decoding timecourse ""; do
  args=(stats "$out"); [ -n "$only" ] && args+=(--only "$only")
  /usr/bin/time -f "${only:-all analyses}: %e s, peak RSS %M kB" mouseface "${args[@]}" > /dev/null
done
