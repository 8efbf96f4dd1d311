"""Command line: `python -m ember build module.py -o build/ [--target-cpu x86-64-v3]`
(`--target gpu [--gpu-arch sm_90]`: PTX files and a numpy + cuda-python loader). Progress, one
line per kernel, goes to stderr (`--quiet`: none, and no summary)."""

from __future__ import annotations

import argparse
import sys
import time

from .driver.targets import DEFAULT, TARGETS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="ember", description="Ember compiler tools")
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="build a module's kernels into a C library")
    build.add_argument("source", help="a Python module with @kernel functions")
    build.add_argument("-o", "--output", default="build", help="output folder (default build/)")
    build.add_argument("--target-cpu", default=None,
                       help="CPU to compile for, e.g. x86-64-v3 (default: this machine's)")
    build.add_argument("--target", choices=tuple(TARGETS), default=DEFAULT,
                       help="cpu: a C library (default); gpu: PTX + a cuda-python loader")
    build.add_argument("--gpu-arch", default=None,
                       help="GPU chip for --target gpu (default $EMBER_GPU_ARCH or sm_90)")
    build.add_argument("-q", "--quiet", action="store_true",
                       help="print only errors (no per-kernel progress on stderr, no summary)")
    args = parser.parse_args(argv)
    from .aot import build as build_library
    from .errors import CompileError

    start = time.perf_counter()
    try:
        result = build_library(args.source, args.output, args.target_cpu, args.target,
                               args.gpu_arch, progress=not args.quiet)
    except (CompileError, OSError, RuntimeError, ImportError, SyntaxError, ValueError) as err:
        print(f"ember build: {err}", file=sys.stderr)
        return 1
    if args.quiet:
        return 0
    print(f"ember build: done in {time.perf_counter() - start:.2f} s", file=sys.stderr)
    if "ptx" in result:  # a GPU bundle: PTX files and their loader, no library
        print(f"wrote {result['loader']} and {len(result['ptx'])} PTX file(s)")
        print(f"compiled: {', '.join(result['compiled']) or '-'}; "
              f"skipped (not GPU kernels): {', '.join(result['skipped']) or '-'}")
        return 0
    print(f"wrote {result['library']}, {result['header']}, {result['loader']}")
    print(f"compiled: {', '.join(result['compiled']) or '-'}; "
          f"reused from cache: {', '.join(result['reused']) or '-'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
