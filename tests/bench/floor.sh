#!/bin/sh
# The standard-tools same-work floor of a steady-state redeploy, for make bench
# (tests/bench/redeploy.py): the file work cdagent does, done one step after the
# other by the usual tools.
#   floor.sh FORMAT BUNDLE NEW_REVISION_DIR DESTINATION OLDEST_REVISION_DIR
# 1. extract the new archive (tar -xzf or unzip -q) into NEW_REVISION_DIR,
# 2. remove the previous install from DESTINATION,
# 3. copy the new revision into DESTINATION (cp -a),
# 4. delete the oldest kept revision (rm -rf OLDEST_REVISION_DIR).
set -eu
fmt=$1 bundle=$2 new=$3 dest=$4 oldest=$5
mkdir -p "$new" "$dest"
case $fmt in
zip) unzip -q "$bundle" -d "$new" ;;
*) tar -xzf "$bundle" -C "$new" ;;
esac
find "$dest" -mindepth 1 -delete
cp -a "$new/." "$dest/"
rm -rf "$oldest"
