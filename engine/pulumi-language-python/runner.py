# The program runner of engine/pulumi-language-python: what Pulumi's pulumi-language-python-exec
# does (pulumi/pulumi sdk/python/cmd/pulumi-language-python-exec), written for this host. It runs in
# the program's Python, with the `pulumi` package from PyPI: the runtime's settings from the
# host's arguments, the stack's config from PULUMI_CONFIG (read by pulumi.runtime.config), and the
# program run as __main__ inside the root stack resource.
import argparse
import asyncio
import os
import runpy
import sys
import traceback

# The language host's exit code for an error the program has already reported (the Node.js SDK's
# and the upstream Python host's alike).
EXIT_AFTER_MESSAGE = 32


def main() -> int:
    parser = argparse.ArgumentParser()
    for name in ("monitor", "engine", "project", "stack", "organization", "root_directory", "pwd"):
        parser.add_argument(f"--{name}", default=None)
    parser.add_argument("--parallel", type=int, default=None)
    parser.add_argument("--dry_run", action="store_true")
    parser.add_argument("program")
    parser.add_argument("args", nargs=argparse.REMAINDER)
    args = parser.parse_args()

    import pulumi
    import pulumi.runtime
    from pulumi.errors import RunError

    settings = pulumi.runtime.Settings(
        project=args.project,
        stack=args.stack,
        monitor=args.monitor,
        engine=args.engine,
        parallel=args.parallel,
        dry_run=args.dry_run,
        organization=args.organization,
        root_directory=args.root_directory,
    )
    pulumi.runtime.configure(settings)

    if args.pwd:
        os.chdir(args.pwd)
    program = args.program
    # A folder is a package run by its __main__.py; the program's folder is importable, as for
    # `python <program>`.
    sys.path.insert(0, program if os.path.isdir(program) else os.path.dirname(os.path.abspath(program)))
    sys.argv = [program, *args.args]

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(pulumi.runtime.run_in_stack(lambda: runpy.run_path(program, run_name="__main__")))
        return 0
    except RunError as e:
        pulumi.log.error(str(e))
        return EXIT_AFTER_MESSAGE
    except Exception:
        pulumi.log.error("Program failed with an unhandled exception:\n" + traceback.format_exc())
        return EXIT_AFTER_MESSAGE
    finally:
        loop.close()


if __name__ == "__main__":
    sys.exit(main())
