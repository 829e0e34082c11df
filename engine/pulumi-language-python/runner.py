# How engine/pulumi-language-python runs a Python program, in the program's own Python:
#
#   python -u -c <this file> <settings> <program> [args...]
#
# <settings> is a JSON object from the host (main.go runSettings): the engine's and the resource
# monitor's addresses, project, stack, organization, root_directory, parallel, dry_run, and the
# folder to run in (workdir). The stack's config is in the environment (PULUMI_CONFIG,
# PULUMI_CONFIG_SECRET_KEYS), where the pulumi package reads it. <program> is a file, or a folder
# run by its __main__.py; it runs as __main__, inside the stack's root resource.
#
# Exit codes the host reads: 0 done; REPORTED (32) the error is reported to the engine already, the
# CLI adds nothing; NO_SDK (97) this Python cannot import pulumi. Anything else is the program's.
import asyncio
import json
import os
import runpy
import sys
import traceback

REPORTED = 32
NO_SDK = 97


def start_runtime(settings):
    try:
        import pulumi.runtime
    except ImportError as err:
        print(f"runner: {sys.executable} cannot import pulumi ({err})", file=sys.stderr)
        sys.exit(NO_SDK)
    pulumi.runtime.configure(
        pulumi.runtime.Settings(
            monitor=settings["monitor"],
            engine=settings.get("engine"),
            project=settings["project"],
            stack=settings["stack"],
            organization=settings.get("organization"),
            root_directory=settings.get("root_directory"),
            parallel=settings.get("parallel"),
            dry_run=settings.get("dry_run", False),
        )
    )


def run_program(program, args):
    import pulumi
    from pulumi.errors import RunError

    # As `python <program>` would: the program's folder first on the import path, its own argv.
    folder = program if os.path.isdir(program) else os.path.dirname(os.path.abspath(program))
    sys.path.insert(0, folder)
    sys.argv = [program, *args]

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        loop.run_until_complete(pulumi.runtime.run_in_stack(lambda: runpy.run_path(program, run_name="__main__")))
    except RunError as err:
        # An error the program raised for the user: its message is the whole story.
        pulumi.log.error(str(err))
        return REPORTED
    except Exception as err:  # anything else the program let escape: where it came from helps
        pulumi.log.error(f"{program} stopped on {type(err).__name__}: {err}\n\n{traceback.format_exc()}")
        return REPORTED
    finally:
        loop.close()
    return 0


def main(argv):
    if len(argv) < 2:
        print("runner: usage: runner <settings JSON> <program> [args...] (the language host passes them)", file=sys.stderr)
        return 2
    settings = json.loads(argv[0])
    start_runtime(settings)
    if settings.get("workdir"):
        os.chdir(settings["workdir"])
    return run_program(argv[1], argv[2:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
