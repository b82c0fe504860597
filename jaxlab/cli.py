"""Command line: ``jaxlab kernel install [--user] [--name NAME] [--cpu-devices N]``."""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jaxlab", description="jaxlab command line")
    commands = parser.add_subparsers(dest="command", required=True)
    kernel = commands.add_parser("kernel", help="manage the jaxlab Jupyter kernel")
    kernel_commands = kernel.add_subparsers(dest="kernel_command", required=True)
    install = kernel_commands.add_parser(
        "install", help='install the "Python 3 (jaxlab)" kernelspec (jaxlab preloaded)'
    )
    where = install.add_mutually_exclusive_group()
    where.add_argument("--user", action="store_true", help="install for the current user")
    where.add_argument(
        "--sys-prefix",
        action="store_true",
        help="install into this Python's prefix, e.g. the virtual environment (the default)",
    )
    where.add_argument("--prefix", default=None, help="install under this prefix")
    install.add_argument("--name", default="jaxlab", help="kernelspec name (default: jaxlab)")
    install.add_argument("--display-name", default=None, help="name shown in Jupyter's launcher")
    install.add_argument(
        "--cpu-devices",
        type=int,
        default=None,
        metavar="N",
        help="simulate N CPU devices (for sharding and pmap without accelerators)",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "kernel" and args.kernel_command == "install":
        from jaxlab.core.kernelspec import install

        try:
            path = install(
                name=args.name,
                display_name=args.display_name,
                cpu_devices=args.cpu_devices,
                user=args.user,
                prefix=args.prefix,
            )
        except (ValueError, OSError) as exc:
            print(f"jaxlab: {exc}", file=sys.stderr)
            return 2
        print(f"Installed kernelspec {args.name!r} in {path}")
        return 0
    return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
