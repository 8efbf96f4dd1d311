#!/usr/bin/env sh
# Build physics.py into a C library with Ember, compile nbody.c against it and run it.
#   PYTHON  the interpreter that has Ember's dependencies (default: python)
#   BUILD   where the library, header and loader go (default: build, next to this script)
set -eu
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python}"
BUILD="${BUILD:-build}"
# From a checkout, Ember is found in the repository root (an installed Ember works too).
REPO="$(cd ../.. && pwd)"
export PYTHONPATH="$REPO${PYTHONPATH:+:$PYTHONPATH}"

"$PYTHON" -m ember build physics.py -o "$BUILD"
BUILD="$(cd "$BUILD" && pwd)"
cc -O2 -std=c11 -Wall -Wextra -I "$BUILD" nbody.c -L "$BUILD" -lphysics \
   -Wl,-rpath,"$BUILD" -o "$BUILD/nbody" -lm
"$BUILD/nbody"
